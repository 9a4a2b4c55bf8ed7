"""The runs in a checkpoint store: found, filtered and sorted, from their records alone.

Listing reads each run's ``run.json`` and nothing else (no weights, no log,
no torch), so a store of a thousand runs lists in well under a second.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from archzoo.errors import ArchzooError, UnknownNameError
from archzoo.files import name_in
from archzoo.registry.host import get_host
from archzoo.registry.specs import metric_direction
from archzoo.runs.record import IN_CHECKPOINT, RECORD, RecordError, RunEntry, read_record, record_folder

#: How deep below the store to look for records (``hub/user/repo/run/run.json`` is four).
MAX_DEPTH = 4


def store_root(store: str | Path | None = None) -> Path:
    return Path(store) if store is not None else get_host().settings.checkpoint_dir


def list_runs(store: str | Path | None = None) -> list[RunEntry]:
    """Every run under the store, newest first; a record that cannot be read is
    listed with its error rather than stopping the listing."""
    root = store_root(store)
    entries = [_entry(folder, root) for folder in _run_folders(root)] if root.is_dir() else []
    return sorted(entries, key=lambda e: (str(e.get("created") or ""), e.name), reverse=True)


def find_run(location: str | Path, store: str | Path | None = None) -> RunEntry:
    """A run by its name in the store, its id, or a folder path; an unknown one is an
    error that suggests close names."""
    root = store_root(store)
    text = str(location)
    for folder in (Path(text).expanduser(), root / text):
        if folder.is_dir() and record_folder(folder) is not None:
            return _entry(folder, root)
        if folder.name in ("best", "last") and record_folder(folder.parent) is not None:
            return _entry(folder.parent, root)
    runs = list_runs(root)
    for entry in runs:
        if entry.get("id") == text:
            return entry
    raise UnknownNameError("run", text, [e.name for e in runs], hint="'archzoo runs' lists them")


def filtered(
    entries: Iterable[RunEntry],
    *,
    architecture: str | None = None,
    dataset: str | None = None,
    preset: str | None = None,
    status: str | None = None,
    tag: str | None = None,
) -> list[RunEntry]:
    """The entries that match every filter given."""
    wanted = {"architecture": architecture, "dataset": dataset, "preset": preset}
    kept = []
    for entry in entries:
        if status and entry.status != status:
            continue
        if any(value and entry.get(key) != value for key, value in wanted.items()):
            continue
        if tag and tag not in (entry.get("tags") or []):
            continue
        kept.append(entry)
    return kept


def sorted_by(entries: Iterable[RunEntry], metric: str) -> list[RunEntry]:
    """Best first by ``metric`` (``accuracy``, ``validation.loss``, ...), in the direction
    each run's record declares for it; runs without it go last."""
    entries = list(entries)

    def key(entry: RunEntry) -> tuple[int, float]:
        value = entry.best(metric)
        if value is None:
            return (1, 0.0)
        name = metric.rpartition(".")[2]
        lower = metric_direction(name, entry.get("directions")) == "lower"
        return (0, value if lower else -value)

    if not any(e.best(metric) is not None for e in entries):
        known = sorted({m for e in entries for split in _best(e).values() if isinstance(split, dict) for m in split})
        raise ArchzooError(f"no run has a metric '{metric}'; metrics are: {', '.join(known) or 'none yet'}")
    return sorted(entries, key=key)


def _best(entry: RunEntry) -> dict:
    return (entry.record.get("metrics") or {}).get("best") or {}


def _entry(folder: Path, root: Path) -> RunEntry:
    name = name_in(folder, root)
    try:
        return RunEntry(folder=folder, name=name, record=read_record(folder))
    except RecordError as exc:
        return RunEntry(folder=folder, name=name, error=str(exc))


def _run_folders(root: Path) -> list[Path]:
    """Folders with a record: run folders, and checkpoints that carry one in ``run/``."""
    found: list[Path] = []
    pending = [(root, 0)]
    while pending:
        folder, depth = pending.pop()
        try:
            children = [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")]
        except OSError:
            continue
        for child in children:
            if (child / RECORD).is_file():
                found.append(child)
            elif (child / IN_CHECKPOINT / RECORD).is_file():
                found.append(child)
            elif depth + 1 < MAX_DEPTH and child.name not in ("best", "last"):
                pending.append((child, depth + 1))
    return found
