"""Running a study on Optuna: every trial an ordinary run with its record.

The study lives in an Optuna storage: an SQLite file in the checkpoint store
by default, or any database URL Optuna accepts, so several processes or
machines can work on one study.  Each (cell, seed) is enqueued once as a
waiting trial; a worker claims one (Optuna hands a waiting trial to one
worker only), trains it into ``STORE/STUDY/NNN`` and reports the run's best
value.  Started again, a study enqueues only the trials that are missing:
never run, stopped, or left running by a worker that died (its run folder is
no longer locked).
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from archzoo.checkpoints.layout import is_checkpoint
from archzoo.errors import ArchzooError
from archzoo.registry.host import Host, get_host
from archzoo.runs.lock import is_locked
from archzoo.runs.record import RecordError, RunEntry, read_record
from archzoo.studies.spec import StudySpec
from archzoo.training.launch import train

#: The storage file in the checkpoint store when no ``--storage`` is given.
STORAGE_FILE = "studies.sqlite3"
SPEC_ATTR = "archzoo_spec"

optuna.logging.set_verbosity(optuna.logging.WARNING)


@dataclass
class TrialDone:
    """What a worker reports after each trial."""

    index: int
    label: str
    seed: int
    folder: Path
    state: str  # "complete", "failed", "stopped"
    value: float | None = None
    error: str = ""


def default_storage(host: Host | None = None) -> str:
    store = (host or get_host()).settings.checkpoint_dir
    store.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{store / STORAGE_FILE}"


def open_storage(url: str | None, host: Host | None = None) -> optuna.storages.BaseStorage:
    """The Optuna storage at ``url`` (the store's SQLite file by default), or an error naming it."""
    url = url or default_storage(host)
    options = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}
    try:
        return optuna.storages.RDBStorage(url, engine_kwargs=options)
    except Exception as exc:
        raise ArchzooError(f"cannot open the study storage {url}: {type(exc).__name__}: {exc}") from exc


def create(spec: StudySpec, storage: optuna.storages.BaseStorage, host: Host | None = None) -> optuna.Study:
    """The study ``spec.name``: created, or the existing one if it was made with the
    same settings (then its missing trials are enqueued again). Refuses a name in
    use by a study with other settings."""
    host = host or get_host()
    spec.check(host)
    study = optuna.create_study(study_name=spec.name, storage=storage, direction=spec.direction, load_if_exists=True)
    stored = study.user_attrs.get(SPEC_ATTR)
    if stored is None:
        study.set_user_attr(SPEC_ATTR, spec.to_json())
    elif stored != spec.to_json():
        raise ArchzooError(
            f"a study named '{spec.name}' already exists with other settings; choose another --name, "
            f"or run it again with its own settings to continue it"
        )
    _enqueue_missing(study, spec, host)
    return study


def load(name: str, storage: optuna.storages.BaseStorage) -> tuple[optuna.Study, StudySpec]:
    try:
        study = optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        names = [s.study_name for s in optuna.get_all_study_summaries(storage)]
        raise ArchzooError(
            f"no study named '{name}' in this storage" + (f"; it has: {', '.join(names)}" if names else "")
        ) from None
    return study, StudySpec.from_json(study.user_attrs[SPEC_ATTR])


def trial_folder(spec: StudySpec, index: int, host: Host | None = None) -> Path:
    return (host or get_host()).settings.checkpoint_dir / spec.name / f"{index:03d}"


def _enqueue_missing(study: optuna.Study, spec: StudySpec, host: Host) -> None:
    taken = set()
    for trial in study.get_trials(deepcopy=False):
        index = trial.user_attrs.get("index")
        if index is None:
            continue
        if trial.state == TrialState.RUNNING and not is_locked(trial_folder(spec, index, host)):
            study.tell(trial.number, state=TrialState.FAIL, skip_if_finished=True)  # its worker died
            continue
        if trial.state == TrialState.FAIL and trial.user_attrs.get("stopped", True):
            continue  # stopped (or abandoned): missing, so enqueued again
        taken.add(index)
    for index, cell, seed in spec.trials():
        if index not in taken:
            study.enqueue_trial({"trial": index}, user_attrs={"index": index, "label": cell.label, "seed": seed})


def work(
    study: optuna.Study,
    spec: StudySpec,
    *,
    host: Host | None = None,
    on_trial: Callable[[TrialDone], None] | None = None,
    on_event: Callable[[Any], None] | None = None,
    stop: threading.Event | None = None,
) -> list[TrialDone]:
    """Claim and run waiting trials until none is left (or ``stop`` is set)."""
    host = host or get_host()
    done = []
    size = len(spec.trials())
    while not (stop is not None and stop.is_set()):
        if not study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
            break
        trial = study.ask()
        if "index" not in trial.user_attrs:  # another worker took the last waiting trial first
            trial.set_user_attr("stopped", False)
            study.tell(trial, state=TrialState.FAIL)
            break
        trial.suggest_int("trial", 0, size - 1)
        result = _run_trial(study, trial, spec, host, on_event, stop)
        done.append(result)
        if on_trial is not None:
            on_trial(result)
        if result.state == "stopped":
            break
    return done


def _run_trial(study, trial, spec: StudySpec, host: Host, on_event, stop) -> TrialDone:
    index, label, seed = trial.user_attrs["index"], trial.user_attrs["label"], trial.user_attrs["seed"]
    cell = next(c for c in spec.cells if c.label == label)
    folder = trial_folder(spec, index, host)
    resume = is_checkpoint(folder / "last") and _status(folder) in ("interrupted", "cancelled")
    report = TrialDone(index, label, seed, folder, "complete")
    try:
        result = train(
            None if resume else spec.target,
            dataset=None if resume else spec.dataset,
            overrides={} if resume else spec.overrides(cell, seed),
            out=folder,
            resume=resume,
            overwrite=not resume,
            on_event=on_event,
            stop=stop,
            host=host,
            tags=(f"study:{spec.name}",),
            note=f"study {spec.name}: {label}, seed {seed}",
        )
    except KeyboardInterrupt:
        trial.set_user_attr("stopped", True)
        study.tell(trial, state=TrialState.FAIL)
        raise
    except Exception as exc:  # a failed trial is recorded as failed; the study goes on
        report.state, report.error = "failed", f"{type(exc).__name__}: {exc}"
        trial.set_user_attr("stopped", False)
        trial.set_user_attr("error", report.error[:2000])
        study.tell(trial, state=TrialState.FAIL)
        return report
    if result.status == "cancelled":
        report.state = "stopped"
        trial.set_user_attr("stopped", True)
        study.tell(trial, state=TrialState.FAIL)
        return report
    report.value = RunEntry(folder, folder.name, read_record(folder)).best(spec.metric)
    if report.value is None:
        report.state, report.error = "failed", f"the run reported no {spec.metric}"
        trial.set_user_attr("stopped", False)
        trial.set_user_attr("error", report.error)
        study.tell(trial, state=TrialState.FAIL)
        return report
    study.tell(trial, report.value)
    return report


def _status(folder: Path) -> str:
    try:
        return str(read_record(folder)["status"])
    except (RecordError, KeyError, OSError):
        return ""


def start_workers(name: str, storage_url: str | None, count: int) -> list[subprocess.Popen]:
    """``count`` more ``archzoo study work`` processes on the same study, in the background."""
    command = [sys.executable, "-m", "archzoo.cli", "study", "work", name, "--quiet"]
    if storage_url:
        command += ["--storage", storage_url]
    return [subprocess.Popen(command) for _ in range(count)]
