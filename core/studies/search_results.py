"""A search study's results: its trials, best first, and the metric against each searched setting.

Read from the study's storage (each trial's sampled point, state and value),
so the table is the same whoever ran the trials. A pruned trial shows the
validation value it was pruned at, apart from the complete ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import optuna
from optuna.trial import TrialState

from archzoo.studies import pruning
from archzoo.studies import space as search_space
from archzoo.studies.spec import StudySpec

#: How each Optuna state reads in the table, and the order states come in after the best.
STATES = {
    TrialState.COMPLETE: "complete",
    TrialState.PRUNED: "pruned",
    TrialState.RUNNING: "running",
    TrialState.WAITING: "waiting",
    TrialState.FAIL: "failed",
}


@dataclass
class TrialResult:
    index: int
    settings: dict[str, str]
    state: str  # "complete", "pruned", "running", "waiting", "failed"
    value: float | None = None  # the study's metric; for a pruned trial, the validation value it stopped at
    pruned_at: int | None = None
    error: str = ""

    def shown(self) -> str:
        if self.state == "complete" and self.value is not None:
            return f"{self.value:.4f}"
        if self.state == "pruned":
            value = f" ({self.value:.4f})" if self.value is not None else ""
            return f"pruned at epoch {self.pruned_at}{value}"
        return self.state


def search_results(study: optuna.Study, spec: StudySpec) -> list[TrialResult]:
    """The study's trials, complete ones best first, then pruned, running, waiting and failed."""
    rows = []
    for trial in study.get_trials(deepcopy=False):
        if "settings" not in trial.user_attrs or trial.state not in STATES:
            continue  # not sampled yet, or given back unrun
        if trial.state == TrialState.FAIL and trial.user_attrs.get("stopped", True):
            continue  # stopped: queued again, shown by its next attempt
        rows.append(
            TrialResult(
                index=int(trial.user_attrs["index"]),
                settings=dict(trial.user_attrs["settings"]),
                state=STATES[trial.state],
                value=trial.value if trial.state in (TrialState.COMPLETE, TrialState.PRUNED) else None,
                pruned_at=trial.user_attrs.get("pruned_at"),
                error=str(trial.user_attrs.get("error", "")),
            )
        )
    sign = -1.0 if spec.direction == "maximize" else 1.0
    order = list(STATES.values())
    return sorted(
        rows,
        key=lambda r: (order.index(r.state), sign * r.value if r.value is not None else 0.0, r.index),
    )


def search_progress(rows: list[TrialResult], spec: StudySpec) -> str:
    done = sum(r.state in ("complete", "pruned", "failed") for r in rows)
    said = [f"{sum(r.state == s for r in rows)} {s}" for s in ("pruned", "failed") if any(r.state == s for r in rows)]
    return f"{done}/{spec.search_trials} trials done" + "".join(f", {s}" for s in said)


def scatter(rows: list[TrialResult], spec: StudySpec, path: Path) -> Path:
    """One panel per searched setting: each trial's value against its sampled value
    (log axes for log ranges, the listed order for choices); pruned trials hollow."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    params = search_space.params(spec.space)
    fig, axes = plt.subplots(
        1, len(params), figsize=(3.4 * len(params) + 0.6, 3.4), layout="constrained", squeeze=False, sharey=True
    )
    for ax, param in zip(axes[0], params, strict=True):
        for state, style in (
            ("complete", {"color": "#4c78a8"}),
            ("pruned", {"facecolors": "none", "edgecolors": "#999"}),
        ):
            chosen = [r for r in rows if r.state == state and r.value is not None and param.key in r.settings]
            ax.scatter([_x(param, r.settings[param.key]) for r in chosen], [r.value for r in chosen], s=22, **style,
                       label=state if chosen else None)  # fmt: skip
        if isinstance(param, search_space.Choice):
            ax.set_xticks(range(len(param.values)), [search_space.shown(v) for v in param.values])
        elif param.log:
            ax.set_xscale("log")
        ax.set_xlabel(param.key)
    axes[0][0].set_ylabel(spec.metric)
    if any(r.state == "pruned" for r in rows):
        axes[0][0].legend(fontsize=7, title=f"pruned: {pruning.watched(spec.metric)}", title_fontsize=7)
    fig.suptitle(f"{spec.name}: {spec.metric} of each trial", fontsize=9)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _x(param: search_space.Param, value: str) -> float:
    if isinstance(param, search_space.Choice):
        return float(param.values.index(value)) if value in param.values else -1.0
    return float(value)
