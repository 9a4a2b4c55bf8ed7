"""Running a study on Optuna: every trial an ordinary run with its record.

The study lives in an Optuna storage: an SQLite file in the checkpoint store
by default, or any database URL Optuna accepts, so several processes or
machines can work on one study.  Each (cell, seed) is enqueued once as a
waiting trial; a worker claims one (Optuna hands a waiting trial to one
worker only), trains it into ``STORE/STUDY/NNN`` and reports the run's best
value.  Started again, a study enqueues only the trials that are missing:
never run, stopped, or left running by a worker that died (its run folder is
no longer locked); a pruned trial is done, not missing.  A search study
samples its trials instead (:mod:`archzoo.studies.search`); one trial, grid
or search, is :mod:`archzoo.studies.trial`.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from archzoo.errors import ArchzooError
from archzoo.registry.host import Host, get_host
from archzoo.runs.lock import is_locked
from archzoo.studies import pruning, search
from archzoo.studies.spec import StudySpec
from archzoo.studies.trial import TrialDone, run_trial, trial_folder

#: The storage file in the checkpoint store when no ``--storage`` is given.
STORAGE_FILE = "studies.sqlite3"
SPEC_ATTR = "archzoo_spec"

optuna.logging.set_verbosity(optuna.logging.WARNING)


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
    study = optuna.create_study(
        study_name=spec.name,
        storage=storage,
        direction=spec.direction,
        load_if_exists=True,
        pruner=pruning.pruner(spec.prune),
    )
    stored = study.user_attrs.get(SPEC_ATTR)
    if stored is None:
        study.set_user_attr(SPEC_ATTR, spec.to_json())
    elif StudySpec.from_json(stored) != spec:  # compared as specs: one stored before a field existed still matches
        raise ArchzooError(
            f"a study named '{spec.name}' already exists with other settings; choose another --name, "
            f"or run it again with its own settings to continue it"
        )
    if spec.is_search:
        search.enqueue_missing(study, spec, host)
    else:
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
    spec = StudySpec.from_json(study.user_attrs[SPEC_ATTR])
    study.pruner = pruning.pruner(spec.prune)
    return study, spec


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
    data_dir: str | Path | None = None,
) -> list[TrialDone]:
    """Claim and run waiting trials until none is left (or ``stop`` is set); a search
    study's trials until ``--trials`` are counted (:mod:`archzoo.studies.search`).
    ``data_dir`` is where this worker's machine keeps the dataset (not part of the
    study: each machine may keep it elsewhere)."""
    host = host or get_host()
    if spec.is_search:
        return search.work(study, spec, host=host, on_trial=on_trial, on_event=on_event, stop=stop, data_dir=data_dir)
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
        result = _run_grid_trial(study, trial, spec, host, on_event, stop, data_dir)
        done.append(result)
        if on_trial is not None:
            on_trial(result)
        if result.state == "stopped":
            break
    return done


def _run_grid_trial(study, trial, spec: StudySpec, host: Host, on_event, stop, data_dir) -> TrialDone:
    index, label, seed = trial.user_attrs["index"], trial.user_attrs["label"], trial.user_attrs["seed"]
    cell = next(c for c in spec.cells if c.label == label)
    report = TrialDone(index, label, seed, trial_folder(spec, index, host), "complete")
    overrides = spec.overrides(cell, seed)
    return run_trial(study, trial, spec, report, overrides, host=host, on_event=on_event, stop=stop, data_dir=data_dir)


def start_workers(
    name: str, storage_url: str | None, count: int, data_dir: str | Path | None = None
) -> list[subprocess.Popen]:
    """``count`` more ``archzoo study work`` processes on the same study, in the background."""
    command = [sys.executable, "-m", "archzoo.cli", "study", "work", name, "--quiet"]
    if storage_url:
        command += ["--storage", storage_url]
    if data_dir:
        command += ["--data-dir", str(data_dir)]
    return [subprocess.Popen(command) for _ in range(count)]
