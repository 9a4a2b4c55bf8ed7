"""A study's table: each cell's mean and spread over its seeds, beside the notes' numbers;
for a search study, its trials best first and the metric against each searched setting.

Read from the study's storage (which trial is which cell, what each trial
sampled, the value each reported), so a table is the same whoever ran the trials.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

import optuna
from optuna.trial import TrialState

from archzoo.studies.spec import StudySpec


@dataclass
class CellResult:
    label: str
    settings: dict[str, str]
    values: list[float] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # the errors of failed trials
    running: int = 0
    waiting: int = 0
    printed: float | None = None
    pruned: int = 0

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.values) if self.values else None

    @property
    def std(self) -> float | None:
        return statistics.stdev(self.values) if len(self.values) > 1 else None

    def shown(self) -> str:
        """``0.9712 ± 0.0021 (3 seeds)``, or what is still to come."""
        if self.mean is None:
            if self.running:
                return "running"
            return "failed" if self.failed else ("pruned" if self.pruned else "waiting")
        spread = f" ± {self.std:.4f}" if self.std is not None else ""
        pruned = f", {self.pruned} pruned" if self.pruned else ""
        return f"{self.mean:.4f}{spread} (n={len(self.values)}{pruned})"


def results(study: optuna.Study, spec: StudySpec) -> list[CellResult]:
    """One row per cell, in the spec's order."""
    rows = {c.label: CellResult(c.label, c.settings, printed=spec.printed.get(c.label)) for c in spec.cells}
    for trial in study.get_trials(deepcopy=False):
        row = rows.get(trial.user_attrs.get("label"))
        if row is None:
            continue
        if trial.state == TrialState.COMPLETE and trial.value is not None:
            row.values.append(float(trial.value))
        elif trial.state == TrialState.FAIL and not trial.user_attrs.get("stopped", True):
            row.failed.append(str(trial.user_attrs.get("error", "failed")))
        elif trial.state == TrialState.PRUNED:
            row.pruned += 1
        elif trial.state == TrialState.RUNNING:
            row.running += 1
        elif trial.state == TrialState.WAITING:
            row.waiting += 1
    return list(rows.values())


def progress(rows: list[CellResult], spec: StudySpec) -> str:
    done = sum(len(r.values) + len(r.failed) + r.pruned for r in rows)
    failed = sum(len(r.failed) for r in rows)
    pruned = sum(r.pruned for r in rows)
    return (
        f"{done}/{len(spec.trials())} trials done"
        + (f", {failed} failed" if failed else "")
        + (f", {pruned} pruned" if pruned else "")
    )


def plot(rows: list[CellResult], spec: StudySpec, path: Path) -> Path:
    """The metric of each cell (mean, with the seeds' spread and each seed's value),
    and the notes' printed number where there is one."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(4.0, 1.1 * len(rows) + 2), 3.6), layout="constrained")
    xs = range(len(rows))
    for x, row in zip(xs, rows, strict=True):
        if row.values:
            ax.bar(x, row.mean, yerr=row.std or 0, color="#4c78a8", alpha=0.75, capsize=4)
            ax.scatter([x] * len(row.values), row.values, color="#1f2d3d", s=12, zorder=3)
        if row.printed is not None:
            ax.scatter([x], [row.printed], marker="D", color="#e45756", s=30, zorder=4)
    ax.set_xticks(list(xs), [r.label for r in rows], rotation=20, ha="right")
    ax.set_ylabel(spec.metric)
    values = [v for r in rows for v in r.values] + [r.printed for r in rows if r.printed is not None]
    if values:
        low, high = min(values), max(values)
        pad = max((high - low) * 0.3, 0.005)
        ax.set_ylim(low - pad, high + pad)
    title = spec.name + (f" (notes {spec.section})" if spec.section else "")
    ax.set_title(title + (": bars measured, red diamonds printed in the notes" if spec.printed else ""), fontsize=9)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
