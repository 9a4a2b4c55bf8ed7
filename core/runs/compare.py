"""Runs side by side: the settings that differ, each metric's best value, the curves overlaid.

``archzoo compare`` prints this and draws the figure; the app's Runs tab
shows the same tables and curves.  Everything comes from the records, so runs
whose plugin is not installed here compare as well as any.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archzoo.errors import ArchzooError
from archzoo.registry.specs import metric_direction
from archzoo.runs.listing import find_run
from archzoo.runs.progress import RunProgress
from archzoo.runs.record import RunEntry, read_events

#: Compared at most at once (a figure with more lines is unreadable).
MAX_RUNS = 12


@dataclass
class Comparison:
    names: list[str]
    #: (setting, its value in each run) for the settings whose values differ.
    differing: list[tuple[str, list[Any]]] = field(default_factory=list)
    #: (metric, each run's best value, "higher" or "lower"): best over the epochs, and the test score.
    best: list[tuple[str, list[float | None], str]] = field(default_factory=list)
    #: run name -> its progress (curves per epoch and per step), rebuilt from its record.
    progress: dict[str, RunProgress] = field(default_factory=dict)
    #: run name -> its folder (where its checkpoints and live views are).
    folders: dict[str, Path] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "runs": self.names,
            "differing": {setting: values for setting, values in self.differing},
            "best": {metric: {"values": values, "better": direction} for metric, values, direction in self.best},
            "curves": {
                name: {"epochs": p.epoch_rows, "step_losses": [list(point) for point in p.step_losses]}
                for name, p in self.progress.items()
            },
        }


def compare(locations: list[str | Path], store: str | Path | None = None) -> Comparison:
    """Compare two or more runs (names in the store, ids or folders)."""
    if len(locations) < 2:
        raise ArchzooError("compare needs at least two runs")
    if len(locations) > MAX_RUNS:
        raise ArchzooError(f"compare takes at most {MAX_RUNS} runs at once, not {len(locations)}")
    entries = [find_run(location, store) for location in locations]
    for entry in entries:
        if entry.error:
            raise ArchzooError(f"{entry.name}: {entry.error}")
    names = _unique([e.name for e in entries])
    progress = {name: RunProgress.of(read_events(e.folder)) for name, e in zip(names, entries)}
    return Comparison(
        names=names,
        differing=differing(entries),
        best=best_values(entries, progress),
        progress=progress,
        folders={name: e.folder for name, e in zip(names, entries)},
    )


def settings(entry: RunEntry) -> dict[str, Any]:
    """Everything that decided a run, flat: what, on what, and every model and training setting."""
    flat: dict[str, Any] = {k: entry.get(k) for k in ("architecture", "preset", "dataset")}
    flat.update({f"model.{k}": v for k, v in (entry.get("config") or {}).items()})
    flat.update({f"train.{k}": v for k, v in (entry.get("train") or {}).items()})
    return flat


def differing(entries: list[RunEntry]) -> list[tuple[str, list[Any]]]:
    """The settings whose values are not the same in every run (absent counts as a value)."""
    flats = [settings(e) for e in entries]
    keys = sorted({k for f in flats for k in f}, key=lambda k: (k.count("."), k))
    return [
        (k, [f.get(k) for f in flats]) for k in keys if len({json.dumps(f.get(k), sort_keys=True) for f in flats}) > 1
    ]


def best_values(entries: list[RunEntry], progress: dict[str, RunProgress]) -> list[tuple[str, list[float | None], str]]:
    """Each validation metric at its best epoch, each training metric at its best, and the test scores."""
    rows: dict[str, list[float | None]] = {}
    directions: dict[str, str] = {}
    for index, (entry, p) in enumerate(zip(entries, progress.values())):
        declared = entry.get("directions") or {}
        for split in ("validation", "train"):
            for metric in {m for row in p.epoch_rows for m in row[split]}:
                direction = metric_direction(metric, declared)
                values = [row[split][metric] for row in p.epoch_rows if metric in row[split]]
                chosen = min(values) if direction == "lower" else max(values)
                key = f"{split} {metric} (best epoch)"
                rows.setdefault(key, [None] * len(entries))[index] = float(chosen)
                directions[key] = direction
        for metric, value in ((entry.get("metrics") or {}).get("best", {}).get("test") or {}).items():
            key = f"test {metric}"
            rows.setdefault(key, [None] * len(entries))[index] = float(value)
            directions[key] = metric_direction(metric, declared)
    order = sorted(rows, key=lambda k: ({"validation": 0, "test": 1, "train": 2}[k.split()[0]], k))
    return [(k, rows[k], directions[k]) for k in order]


def write_comparison(comparison: Comparison, out: str | Path) -> list[Path]:
    """``compare.png`` (the curves overlaid) and ``compare.json`` (every number) in ``out``,
    which must be new or hold only an earlier comparison."""
    from archzoo.runs.figures import comparison_figure

    folder = Path(out).expanduser()
    if folder.exists() and not folder.is_dir():
        raise ArchzooError(f"--out {folder} is a file; give a folder")
    taken = (
        [p.name for p in folder.iterdir() if p.name not in ("compare.png", "compare.json")] if folder.is_dir() else []
    )
    if taken:
        raise ArchzooError(
            f"--out {folder} already holds other files ({', '.join(sorted(taken)[:3])}); nothing was written"
        )
    folder.mkdir(parents=True, exist_ok=True)
    picture = comparison_figure(comparison, folder / "compare.png")
    data = folder / "compare.json"
    data.write_text(json.dumps(comparison.to_json(), indent=1, default=str) + "\n", encoding="utf-8")
    return [picture, data]


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out
