"""One trial of a study: an ordinary run in ``STORE/STUDY/NNN``, its outcome told to Optuna.

Grid and search trials differ only in where their settings come from (a
cell and seed, a sampled point); both train here. A trial that fails is
told FAIL with its error and the study goes on; one stopped (Ctrl-C, the
app's stop) is told FAIL as *stopped*, so it is run again, resumed from its
last checkpoint; one the pruner stops is told PRUNED.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from archzoo.checkpoints.layout import is_checkpoint
from archzoo.registry.host import Host, get_host
from archzoo.registry.plans import plan_run
from archzoo.runs.record import RecordError, RunEntry, read_record, update_record
from archzoo.studies import pruning
from archzoo.studies.spec import StudySpec

#: Images drawn from each generator for a trial's FID (against the full test split).
FID_SAMPLES = 1000


@dataclass
class TrialDone:
    """What a worker reports after each trial."""

    index: int
    label: str
    seed: int
    folder: Path
    state: str  # "complete", "failed", "stopped", "pruned"
    value: float | None = None
    error: str = ""
    settings: dict[str, str] = field(default_factory=dict)  # a search trial's sampled point


def trial_folder(spec: StudySpec, index: int, host: Host | None = None) -> Path:
    return (host or get_host()).settings.checkpoint_dir / spec.name / f"{index:03d}"


def run_trial(
    study: optuna.Study,
    trial: optuna.Trial,
    spec: StudySpec,
    report: TrialDone,
    overrides: dict[str, str],
    *,
    host: Host,
    on_event: Callable[[Any], None] | None = None,
    stop: threading.Event | None = None,
    data_dir: str | Path | None = None,
) -> TrialDone:
    """Train the trial's run (resuming it if a stopped attempt left a checkpoint) and tell Optuna how it went."""
    from archzoo.training.launch import train  # torch, only once a trial runs: show, list and done studies stay quick

    folder = report.folder
    resume = is_checkpoint(folder / "last") and _status(folder) in ("interrupted", "cancelled")
    judge = None
    if spec.prune:
        epochs = plan_run(spec.target, dataset=spec.dataset, overrides=overrides, host=host).train_config.epochs
        judge = pruning.EpochJudge(trial, spec.metric, epochs)
    try:
        result = train(
            None if resume else spec.target,
            dataset=None if resume else spec.dataset,
            overrides={} if resume else overrides,
            out=folder,
            resume=resume,
            overwrite=not resume,
            data_dir=data_dir,
            on_event=on_event,
            stop=stop,
            stop_early=judge,
            host=host,
            tags=(f"study:{spec.name}",),
            note=f"study {spec.name}: {report.label}" + (f", seed {report.seed}" if not spec.is_search else ""),
        )
    except KeyboardInterrupt:
        trial.set_user_attr("stopped", True)
        study.tell(trial, state=TrialState.FAIL)
        raise
    except Exception as exc:  # a failed trial is recorded as failed; the study goes on
        return _failed(study, trial, report, f"{type(exc).__name__}: {exc}")
    if result.status == "cancelled":
        report.state = "stopped"
        trial.set_user_attr("stopped", True)
        study.tell(trial, state=TrialState.FAIL)
        return report
    if judge is not None and judge.pruned_at is not None:
        report.state, report.value = "pruned", judge.value
        trial.set_user_attr("pruned_at", judge.pruned_at)
        _note_pruned(folder, judge)
        study.tell(trial, state=TrialState.PRUNED)
        return report
    report.value = judged(folder, spec.metric)
    if report.value is None:
        return _failed(study, trial, report, f"the run reported no {spec.metric}")
    study.tell(trial, report.value)
    return report


def judged(folder: Path, metric: str) -> float | None:
    """The trial's value of ``metric``: from its run's best checkpoint, or, for
    ``FID-<dataset>`` (a generator's losses say nothing of its samples), measured
    on samples of its last checkpoint now and written into its record."""
    name = metric.rpartition(".")[2]
    if not name.startswith("FID-"):
        return RunEntry(folder, folder.name, read_record(folder)).best(metric)
    from archzoo.evaluation.fid import generator_fid

    value = generator_fid(folder / "last", n=FID_SAMPLES)
    update_record(folder, lambda data: data["metrics"]["last"].setdefault("test", {}).update({name: value}))
    return value


def _failed(study: optuna.Study, trial: optuna.Trial, report: TrialDone, error: str) -> TrialDone:
    report.state, report.error = "failed", error
    trial.set_user_attr("stopped", False)
    trial.set_user_attr("error", error[:2000])
    study.tell(trial, state=TrialState.FAIL)
    return report


def _note_pruned(folder: Path, judge: pruning.EpochJudge) -> None:
    """The run says it was pruned: the tag ``pruned`` and a line in its note."""

    def change(data: dict) -> None:
        data["tags"] = [*data.get("tags", []), pruning.TAG]
        data["note"] = (data.get("note", "") + f"; pruned at epoch {judge.pruned_at}").lstrip("; ")

    update_record(folder, change)


def _status(folder: Path) -> str:
    try:
        return str(read_record(folder)["status"])
    except (RecordError, KeyError, OSError):
        return ""
