"""A study as the Studies tab shows it, read from its Optuna storage each time.

The storage is the source of truth (a study may be worked on by this server, by
``archzoo study work`` elsewhere, or by a server that was restarted), so nothing
here is kept between two looks but the plot's picture, redrawn only when a value
changed.  A running trial's epoch comes from its run's record.
"""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import optuna
from optuna.trial import FrozenTrial, TrialState

from archzoo.registry.host import Host
from archzoo.runs.lock import is_locked
from archzoo.runs.record import RECORD, RecordError, read_record
from archzoo.studies.results import CellResult, plot, progress, results
from archzoo.studies.spec import StudySpec
from archzoo.studies.work import SPEC_ATTR, load, trial_folder

TRIAL_HEADERS = ["trial", "cell", "seed", "state", "value", "run"]


@dataclass
class StudyLook:
    """One look at a study: its spec, each trial's row, each cell's result."""

    spec: StudySpec
    trials: list[list[str]]
    cells: list[CellResult]
    missing: int  # trials Continue would run: never run, stopped, or left by a worker that died
    running: list[str]  # the running trials, as "cell, seed N"

    @property
    def progress(self) -> str:
        return progress(self.cells, self.spec)


def stored_names(storage: optuna.storages.BaseStorage | None) -> list[str]:
    """The archzoo studies in the storage, newest first."""
    if storage is None:
        return []
    studies = storage.get_all_studies()
    return [s.study_name for s in reversed(studies) if SPEC_ATTR in s.user_attrs]


def look(storage: optuna.storages.BaseStorage, name: str, host: Host) -> StudyLook:
    study, spec = load(name, storage)
    latest: dict[int, FrozenTrial] = {}
    for trial in study.get_trials(deepcopy=False):
        index = trial.user_attrs.get("index")
        if index is not None and (index not in latest or trial.number > latest[index].number):
            latest[index] = trial
    rows, missing, running = [], 0, []
    for index, cell, seed in spec.trials():
        trial = latest.get(index)
        state, value = _state(trial, trial_folder(spec, index, host))
        if state in ("missing", "stopped", "waiting", "interrupted"):
            missing += 1
        if state == "running":
            running.append(f"{cell.label}, seed {seed}")
        folder = trial_folder(spec, index, host)
        run = f"{spec.name}/{index:03d}" if (folder / RECORD).is_file() else ""
        rows.append([f"{index:03d}", cell.label, str(seed), state, value, run])
    return StudyLook(spec, rows, results(study, spec), missing, running)


def _state(trial: FrozenTrial | None, folder: Path) -> tuple[str, str]:
    """(state, value) of a trial's row: the value, the epoch it is at, or why it failed."""
    if trial is None:
        return "missing", ""
    if trial.state == TrialState.COMPLETE:
        return "complete", "" if trial.value is None else f"{trial.value:.4f}"
    if trial.state == TrialState.RUNNING:
        return ("running", _epoch(folder)) if is_locked(folder) else ("interrupted", "")
    if trial.state == TrialState.WAITING:
        return "waiting", ""
    if trial.user_attrs.get("stopped", True):
        return "stopped", ""
    return "failed", str(trial.user_attrs.get("error", ""))[:120]


def _epoch(folder: Path) -> str:
    try:
        record = read_record(folder)
    except (RecordError, OSError):
        return ""
    if record.get("status") not in ("running", "queued"):
        return ""
    progress = record.get("progress") or {}
    return f"epoch {progress.get('epoch', 0)}/{progress.get('epochs', 0)}"


def cell_rows(look_: StudyLook) -> tuple[list[list[str]], list[str]]:
    """The per-cell table (mean ± std over seeds beside the notes' number) and its headers."""
    spec = look_.spec
    headers = ["cell", "settings", spec.metric] + (["notes"] if spec.printed else [])
    rows = []
    for r in look_.cells:
        row = [r.label, " ".join(f"{k}={v}" for k, v in r.settings.items()), r.shown()]
        if spec.printed:
            row.append("-" if r.printed is None else f"{r.printed:.4f}")
        rows.append(row)
    return rows, headers


class PlotCache:
    """results.plot's picture of each study, drawn again only when its values change,
    each under a fresh name in the app's temporary folder (never rewritten in place)."""

    def __init__(self, folder: str, keep: int = 16) -> None:
        self.folder = Path(folder or ".") / "archzoo-studies"
        self.keep = keep
        self._drawn: OrderedDict[tuple, Path] = OrderedDict()
        self._lock = threading.Lock()  # pyplot draws one figure at a time

    def picture(self, look_: StudyLook) -> str:
        with self._lock:
            return self._picture(look_)

    def _picture(self, look_: StudyLook) -> str:
        key = (
            look_.spec.name,
            look_.spec.to_json(),
            tuple((r.label, tuple(r.values), r.printed) for r in look_.cells),
        )
        path = self._drawn.get(key)
        if path is None or not path.is_file():
            path = plot(look_.cells, look_.spec, self.folder / f"{uuid.uuid4().hex}.png")
            self._drawn[key] = path
            while len(self._drawn) > self.keep:
                _, old = self._drawn.popitem(last=False)
                with contextlib.suppress(OSError):
                    os.remove(old)
        self._drawn.move_to_end(key)
        return str(path)
