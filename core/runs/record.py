"""A run's record: what was trained, where, how it went, written as it goes.

Every run, from the CLI, the app, Python or torchrun, keeps beside its
checkpoints::

    RUN/run.json        what and where, status, timings, progress, best and last
                        metrics, lineage, tags and a note (rewritten atomically)
    RUN/events.jsonl    the run's events, one JSON object a line (per-step events
                        aside: each epoch carries its thinned step losses)
    RUN/.lock           held by the process that owns the run (:mod:`archzoo.runs.lock`)

Both files are plain JSON any tool reads.  A crash leaves them readable: the
summary is replaced whole, the log only ever grows by whole lines (a torn
last line is skipped when read).  A summary that says ``running`` or
``queued`` while no process holds the lock is shown as ``interrupted``.

A checkpoint pushed to the Hub carries the record in its ``run/`` folder, so a
pulled checkpoint has one too (:func:`record_folder`).
"""

from __future__ import annotations

import json
import os
import platform
import secrets
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archzoo.errors import ArchzooError
from archzoo.files import staged_file
from archzoo.registry.specs import metric_direction
from archzoo.runs import events
from archzoo.runs.lock import RunLock, is_locked

RECORD = "run.json"
EVENTS = "events.jsonl"
#: The subfolder a checkpoint on the Hub keeps its run's record in.
IN_CHECKPOINT = "run"
FORMAT = "archzoo-run"
FORMAT_VERSION = 1
STATUSES = ("queued", "running", "finished", "stopped-early", "cancelled", "failed", "interrupted")
ACTIVE = ("queued", "running")
#: The largest run.json read; anything bigger is not a record archzoo wrote.
MAX_RECORD_BYTES = 4 * 1024 * 1024


class RecordError(ArchzooError):
    """A run record is missing, unreadable or not archzoo's."""


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def record_folder(folder: Path) -> Path | None:
    """Where ``folder``'s record is: the run folder itself, or a checkpoint's ``run/``."""
    folder = Path(folder)
    for candidate in (folder, folder / IN_CHECKPOINT):
        if (candidate / RECORD).is_file():
            return candidate
    return None


# -- writing -----------------------------------------------------------------------------


class RecordWriter:
    """The one writer of a run's record: it holds the run's lock from
    :meth:`begin` (or :meth:`resume`) until :meth:`close`, folds each event into
    the summary and appends it to the log."""

    def __init__(self, folder: Path, data: dict[str, Any], lock: RunLock, *, fresh: bool) -> None:
        self.folder = Path(folder)
        self.data = data
        self._lock = lock
        mode = "w" if fresh else "a"
        self._log = open(self.folder / EVENTS, mode, encoding="utf-8")  # noqa: SIM115 - open for the run's life
        self._write()

    @classmethod
    def begin(
        cls,
        folder: Path,
        *,
        name: str,
        architecture: str,
        preset: str | None,
        dataset: str,
        task: str,
        config: dict[str, Any],
        train: dict[str, Any],
        overrides: dict[str, Any],
        plugin: dict[str, str],
        directions: dict[str, str],
        status: str = "running",
        tags: tuple[str, ...] = (),
        note: str = "",
    ) -> RecordWriter:
        """A new run's record in ``folder`` (a record left there by a replaced run is replaced)."""
        lock = RunLock(folder).acquire()
        stamp = now()
        data = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "id": f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}",
            "name": name,
            "status": status,
            "architecture": architecture,
            "preset": preset,
            "dataset": dataset,
            "task": task,
            "config": config,
            "train": train,
            "overrides": {k: v if isinstance(v, (str, int, float, bool)) else str(v) for k, v in overrides.items()},
            "environment": environment(plugin),
            "created": stamp,
            "started": stamp if status == "running" else None,
            "ended": None,
            "seconds": 0.0,
            "progress": {"epoch": 0, "epochs": int(train.get("epochs", 0) or 0), "step": 0, "total_steps": 0},
            "metrics": {"best": {}, "last": {}},
            "headline": "",
            "directions": dict(directions),
            "lineage": {"sessions": [], "pulled_from": None, "pushed_to": []},
            "tags": list(tags),
            "note": note,
            "error": "",
        }
        return cls(folder, data, lock, fresh=True)

    @classmethod
    def resume(cls, folder: Path, *, overrides: dict[str, Any], status: str = "running") -> RecordWriter:
        """The record of a run being continued: the same run, one session more."""
        lock = RunLock(folder).acquire()
        try:
            data = read_record(folder)
        except RecordError:
            lock.release()
            raise
        data["status"] = status
        data["error"] = ""
        data["ended"] = None
        data["train"] = {**data.get("train", {}), **overrides}
        data["overrides"] = {**data.get("overrides", {}), **{k: str(v) for k, v in overrides.items()}}
        return cls(folder, data, lock, fresh=False)

    def start(self) -> None:
        """A queued run begins to train."""
        self.data["status"] = "running"
        self.data["started"] = self.data.get("started") or now()
        self._write()

    def data_read(self, config: dict[str, Any], task: str) -> None:
        """Once the data is read: the model config as built (its input shape and classes filled
        from the data, not the defaults the plan had) and the task the data makes of the run."""
        self.data["config"] = config
        self.data["task"] = task
        self._write()

    def add(self, event: Any) -> None:
        """Fold one event into the summary; keep it in the log unless it is a per-step event."""
        if isinstance(event, events.StepEnded):
            return
        self._fold(event)
        self._log.write(json.dumps(events.to_json(event), allow_nan=False, default=str) + "\n")
        self._log.flush()
        if isinstance(event, (events.RunStarted, events.EpochEnded, events.RunEnded)):
            os.fsync(self._log.fileno())
            self._write()

    def fail(self, error: str, *, status: str = "failed") -> None:
        """The run stopped with an error (or a second Ctrl-C) before it could end on its own."""
        self.data["status"] = status
        self.data["error"] = str(error)[:2000]
        self.data["ended"] = now()
        self._close_session(status)
        self._write()

    def cancel(self) -> None:
        """A queued run taken out of the queue before it started."""
        self.data["status"] = "cancelled"
        self.data["ended"] = now()
        self._write()

    def close(self) -> None:
        if not self._log.closed:
            self._log.close()
        self._lock.release()

    # -- folding -----------------------------------------------------------------------

    def _fold(self, event: Any) -> None:
        data, progress = self.data, self.data["progress"]
        if isinstance(event, events.RunStarted):
            data["status"] = "running"
            data["started"] = data.get("started") or now()
            data["environment"].update({"device": event.device, "processes": event.num_processes})
            progress.update({"epochs": event.epochs, "total_steps": event.total_steps, "step": event.resumed_from_step})
            data["parameters"] = {"total": event.parameters, "trainable": event.trainable_parameters}
            data["lineage"]["sessions"].append({"started": now(), "from_step": event.resumed_from_step})
        elif isinstance(event, events.EpochEnded):
            progress.update({"epoch": event.epoch, "step": max(progress["step"], event.global_step)})
            last = {"train": dict(event.train_metrics)}
            if event.val_metrics:
                last["validation"] = dict(event.val_metrics)
            data["metrics"]["last"] = last
            for metric in {**event.train_metrics, **event.val_metrics}:
                data["directions"].setdefault(metric, metric_direction(metric))
            judged = event.val_metrics or {"loss": event.train_metrics.get("loss")}
            data["headline"] = data.get("headline") or next(iter(judged), "")
            if event.is_best:
                data["metrics"]["best"] = {"epoch": event.epoch, **last}
        elif isinstance(event, events.RunEnded):
            data["status"] = event.status
            data["ended"] = now()
            data["seconds"] = float(data.get("seconds") or 0.0) + float(event.seconds)
            if event.test_metrics:
                data["metrics"]["best"]["test"] = dict(event.test_metrics)
            self._close_session(event.status)

    def _close_session(self, status: str) -> None:
        sessions = self.data["lineage"]["sessions"]
        if sessions and "ended" not in sessions[-1]:
            sessions[-1].update({"ended": now(), "status": status})

    def _write(self) -> None:
        # Tags, the note and pushes are noted beside the run (archzoo.runs.manage, a push):
        # keep what is on disk rather than overwrite it with what this writer began with.
        on_disk = _noted_beside(self.folder / RECORD)
        if on_disk is not None:
            tags, note, pushed = on_disk
            self.data["tags"], self.data["note"] = tags, note
            self.data["lineage"]["pushed_to"] = pushed
        with staged_file(self.folder / RECORD) as partial:
            partial.write_text(json.dumps(self.data, indent=1, allow_nan=False, default=str) + "\n", encoding="utf-8")


def _noted_beside(path: Path) -> tuple[list[str], str, list] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        tags, note, pushed = data["tags"], data["note"], data["lineage"].get("pushed_to") or []
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None
    if isinstance(tags, list) and all(isinstance(x, str) for x in tags) and isinstance(note, str):
        return tags, note, pushed if isinstance(pushed, list) else []
    return None


def environment(plugin: dict[str, str]) -> dict[str, Any]:
    """Where a run ran: versions, the machine; device and processes are added when it starts."""
    from importlib import metadata

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return ""

    return {
        "archzoo": version("archzoo"),
        "plugin": dict(plugin),
        "torch": version("torch"),
        "python": platform.python_version(),
        "host": socket.gethostname(),
        "device": "",
        "processes": 0,
    }


def update_record(folder: Path, change: Any) -> None:
    """Apply ``change(data)`` to ``folder``'s ``run.json`` and write it back atomically: a
    person's edits (tags, a note) and lineage noted after the fact (a push)."""
    where = record_folder(folder)
    if where is None:
        raise RecordError(f"{folder} holds no run record ({RECORD})")
    path = where / RECORD
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    with staged_file(path) as partial:
        partial.write_text(json.dumps(data, indent=1, default=str) + "\n", encoding="utf-8")


# -- reading -----------------------------------------------------------------------------


def read_record(folder: Path) -> dict[str, Any]:
    """``run.json`` of ``folder`` (a run folder or a checkpoint with ``run/``), checked.

    The status is what a person should see: ``running`` or ``queued`` in a
    record whose owner is gone reads as ``interrupted``."""
    where = record_folder(folder)
    if where is None:
        raise RecordError(f"{folder} holds no run record ({RECORD})")
    path = where / RECORD
    try:
        if path.stat().st_size > MAX_RECORD_BYTES:
            raise RecordError(f"{path} is larger than {MAX_RECORD_BYTES // 2**20} MiB: not a record archzoo wrote")
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise RecordError(f"{path} cannot be read ({type(exc).__name__}: {exc})") from None
    check_record(data, path)
    if data["status"] in ACTIVE and not is_locked(where):
        data["status"] = "interrupted"
    return data


def check_record(data: Any, path: Path) -> None:
    """Every entry the listing and the app rely on is there with the right type."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise RecordError(f'{path} is not an archzoo run record (no "format": "{FORMAT}")')
    wanted: dict[str, type | tuple[type, ...]] = {
        "id": str,
        "name": str,
        "status": str,
        "architecture": str,
        "dataset": str,
        "config": dict,
        "train": dict,
        "metrics": dict,
        "progress": dict,
        "lineage": dict,
        "tags": list,
        "note": str,
    }
    for key, kind in wanted.items():
        if not isinstance(data.get(key), kind):
            raise RecordError(f"{path}: '{key}' is missing or not a {getattr(kind, '__name__', kind)}")
    if data["status"] not in STATUSES:
        raise RecordError(f"{path}: unknown status {data['status']!r}; statuses are {', '.join(STATUSES)}")
    if not all(isinstance(tag, str) for tag in data["tags"]):
        raise RecordError(f"{path}: 'tags' must be a list of strings")


def read_events(folder: Path) -> list[Any]:
    """The events in a record's log, in order; lines that are torn or not events are skipped."""
    where = record_folder(folder)
    path = (where or Path(folder)) / EVENTS
    found = []
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                try:
                    found.append(events.from_json(json.loads(line)))
                except (ValueError, RecursionError):
                    continue
    except (OSError, UnicodeDecodeError):
        return found
    return found


@dataclass(frozen=True)
class RunEntry:
    """One run as a listing shows it (``error`` set when its record cannot be read)."""

    folder: Path
    name: str
    record: dict[str, Any] = field(default_factory=dict)
    error: str = ""

    def get(self, key: str, default: Any = None) -> Any:
        return self.record.get(key, default)

    @property
    def status(self) -> str:
        return "unreadable" if self.error else str(self.record["status"])

    @property
    def headline(self) -> str:
        """The most telling best number, ``"test accuracy 0.9530"``: the headline metric, test before validation."""
        best = (self.record.get("metrics") or {}).get("best") or {} if not self.error else {}
        metric = self.record.get("headline") or ""
        for split in ("test", "validation"):
            values = best.get(split) or {}
            name = metric if metric in values else next(iter(values), None)
            if name is not None and isinstance(values[name], (int, float)):
                return f"{split} {name} {values[name]:.4f}"
        return ""

    def best(self, metric: str) -> float | None:
        """The best checkpoint's value of ``metric`` ("accuracy", or "test.accuracy"): test, then validation."""
        split, _, name = metric.rpartition(".")
        best = self.record.get("metrics", {}).get("best", {}) if not self.error else {}
        for where in [split] if split else ["test", "validation", "train"]:
            value = (best.get(where) or {}).get(name)
            if isinstance(value, (int, float)):
                return float(value)
        return None

    @property
    def lineage(self) -> list[str]:
        """Where the run came from and went, one line each: its resumes, the Hub
        repository it was pulled from, each push (``repo@sha``)."""
        lineage = (self.record.get("lineage") or {}) if not self.error else {}
        lines = []
        sessions = lineage.get("sessions") or []
        if len(sessions) > 1:
            steps = ", ".join(str(s.get("from_step")) for s in sessions[1:])
            lines.append(f"resumed {len(sessions) - 1} time(s), from step {steps}")
        if lineage.get("pulled_from"):
            lines.append(f"pulled from {lineage['pulled_from']}")
        for push in lineage.get("pushed_to") or []:
            lines.append(f"pushed to {push.get('repo')}@{str(push.get('commit', ''))[:12]} ({push.get('at')})")
        return lines

    @property
    def resumable(self) -> bool:
        """A run that stopped before its end and left a ``last`` checkpoint to continue from."""
        stopped = self.status in ("interrupted", "cancelled", "failed")
        return stopped and (self.folder / "last" / "config.json").is_file()
