"""Training runs one at a time, in a worker thread, with a visible queue.

:class:`RunManager` takes training requests (validated at once with
:func:`archzoo.registry.plans.plan_run`, so a bad setting is refused before it
waits in the queue), runs them one after another through
:func:`archzoo.training.launch.train` in a single worker thread, records every
event each run emits (folded by :class:`archzoo.runs.progress.RunProgress`),
and stops a run on request by setting its ``stop`` event: the trainer then
saves a resumable ``last`` checkpoint and ends with status ``"cancelled"``.  A
run still waiting in the queue is simply taken out of it.

Work that trains by itself (a study in the app runs its trials one after
another) takes the same single slot with :meth:`RunManager.hold`: it is
refused while a run trains or waits, and runs submitted meanwhile wait in the
queue until it is released, so two trainings never share the machine.
"""

from __future__ import annotations

import itertools
import logging
import shutil
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from archzoo.checkpoints.locate import output_dir
from archzoo.data.loading import looks_like_path
from archzoo.errors import ArchzooError, ConfigError
from archzoo.registry.host import Host, get_host
from archzoo.registry.limits import check_parameters
from archzoo.registry.plans import fill_from_data
from archzoo.runs.lock import LOCK
from archzoo.runs.progress import RunProgress
from archzoo.runs.record import EVENTS, RECORD, read_events
from archzoo.toolkit.models import plan_on_meta, planned_size
from archzoo.training.launch import open_record, plan_and_folder, train

log = logging.getLogger(__name__)

#: Run states.  The last four are final.
QUEUED, RUNNING = "queued", "running"
FINAL_STATES = ("finished", "stopped-early", "cancelled", "failed")


# -- runs and the queue ------------------------------------------------------------------


@dataclass
class RunRequest:
    """What to train: the arguments of :func:`archzoo.api.train`."""

    name: str | None = None
    dataset: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    out: str | None = None
    resume: bool = False
    overwrite: bool = False
    data_dir: str | None = None
    download: bool = False


class Run:
    """One training run: its request, state, events and result."""

    def __init__(self, run_id: str, request: RunRequest, architecture: str, dataset: str) -> None:
        self.id = run_id
        self.request = request
        self.architecture = architecture
        self.dataset = dataset
        self.state = QUEUED
        self.error = ""
        self.result: Any = None
        #: The setting a failed run was refused for once it began (a model that cannot be built so):
        #: the form marks that field, as it marks those ``plan_run`` refuses before the run.
        self.refused: ConfigError | None = None
        self.out_dir: Path | None = None
        self.submitted = time.time()
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self.stop = threading.Event()
        self.progress = RunProgress()
        #: The run's record (archzoo.runs.record.RecordWriter), begun when it was queued.
        self.record: Any = None
        self._events: list[Any] = []
        self._changed = threading.Condition()

    @property
    def label(self) -> str:
        name = self.request.name or self.architecture
        text = f"{name} on {self.dataset}"
        return text + (" (resumed)" if self.request.resume else "")

    @property
    def done(self) -> bool:
        return self.state in FINAL_STATES

    def events_since(self, index: int, timeout: float | None = None) -> list[Any]:
        """Events from ``index`` on; waits up to ``timeout`` seconds for one if
        there are none yet and the run is not done."""
        with self._changed:
            if len(self._events) <= index and not self.done and timeout:
                self._changed.wait(timeout)
            return self._events[index:]

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the run is over; True if it is."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while not self.done:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._changed.wait(left)
        return True

    def _record(self, event: Any) -> None:
        with self._changed:
            self._events.append(event)
            self.progress.add(event)
            self._changed.notify_all()

    def _set(self, state: str, error: str = "") -> None:
        with self._changed:
            self.state = state
            if error:
                self.error = error
                self.progress.log.append(f"error: {error}")
            if state in FINAL_STATES:
                self.ended_at = time.time()
            self._changed.notify_all()


@dataclass(frozen=True)
class Holder:
    """Work that trains outside the queue and holds its one training slot meanwhile
    (a study runs its trials one after another): queued runs wait until it is released."""

    id: str
    label: str
    stop: threading.Event
    since: float


@dataclass(frozen=True)
class QueueRow:
    """One line of the visible queue."""

    id: str
    label: str
    state: str
    position: int  # 0 = running, 1.. = waiting in that place, -1 = over
    submitted: str
    detail: str


def confine_request(request: RunRequest, host: Host) -> None:
    """Under the host's path policy (the app's): a dataset path and a data folder must lie
    in the store or a data root, and the run's folder in the store."""
    paths = host.paths
    if request.dataset and request.dataset not in host.datasets and looks_like_path(request.dataset):
        paths.readable(request.dataset, "dataset")
    if request.data_dir:
        paths.readable(request.data_dir, "data folder")
    if request.out:
        paths.writable(output_dir(request.out, paths.store), "run name")


def check_planned_size(plan: Any, host: Host) -> None:
    """The model a plan builds, sized on the meta device against the parameter budget, where its
    dataset declares its shape (else the trainer checks it once the data is loaded)."""
    dataset = host.datasets.get(plan.dataset)
    if dataset is None or not dataset.input_shape:
        return
    try:
        config = fill_from_data(plan.config, dataset)
    except ArchzooError:
        return  # the trainer says what is wrong, with the data in hand
    planned = plan_on_meta(host.hooks(plan.spec).build_model, config)
    if planned is not None:
        check_parameters(planned_size(planned), f"the {plan.spec.name} settings")


class RunManager:
    """Runs training requests one at a time in a worker thread."""

    def __init__(self, host: Host | None = None, *, train: Callable[..., Any] | None = None, keep: int = 20) -> None:
        self._host = host
        self._train = train
        self._keep = keep
        self._lock = threading.Condition()
        self._queue: deque[Run] = deque()
        self._current: Run | None = None
        self._history: deque[Run] = deque(maxlen=keep)
        self._runs: dict[str, Run] = {}
        self._ids = itertools.count(1)
        self._worker: threading.Thread | None = None
        self._closed = False
        self._holder: Holder | None = None

    @property
    def host(self) -> Host:
        return self._host or get_host()

    # -- asking ----------------------------------------------------------------------

    def submit(
        self,
        name: str | None = None,
        *,
        dataset: str | None = None,
        overrides: dict[str, Any] | None = None,
        out: str | None = None,
        resume: bool = False,
        overwrite: bool = False,
        data_dir: str | None = None,
        download: bool = False,
    ) -> Run:
        """Validate a request and put it in the queue; raises ``ArchzooError`` (a
        bad setting, an unknown name, a dataset of the wrong task) at once."""
        request = RunRequest(
            name=name or None,
            dataset=dataset or None,
            overrides=dict(overrides or {}),
            out=out or None,
            resume=resume,
            overwrite=overwrite,
            data_dir=data_dir or None,
            download=download,
        )
        host = self.host
        if resume and not out:
            raise ArchzooError("resuming needs the run folder to continue")
        if host.paths is not None:
            confine_request(request, host)
        plan, out_dir = plan_and_folder(request.name, request.dataset, request.overrides, out, resume, overwrite, host)
        check_planned_size(plan, host)  # a model too big is refused now, not after it waited in the queue
        # The record is begun now, so every page (and archzoo runs) sees the run while it waits,
        # and its lock keeps a second writer of the same folder out.
        record = open_record(plan, out_dir, request.overrides, resume=resume, host=host, status="queued")
        architecture, chosen = plan.spec.name, plan.dataset
        with self._lock:
            if self._closed:
                record.cancel()
                record.close()
                raise ArchzooError("the run manager is shut down")
            run = Run(f"run-{next(self._ids)}", request, architecture, chosen)
            run.out_dir, run.record = out_dir, record
            if resume:  # a resumed run continues its curves and its log
                for event in read_events(out_dir):
                    run._record(event)
            self._runs[run.id] = run
            self._queue.append(run)
            self._ensure_worker()
            self._lock.notify_all()
        return run

    def stop(self, run_id: str) -> str:
        """Stop a run: a waiting one leaves the queue; a running one stops at the
        next step and keeps a resumable checkpoint.  Returns what happened."""
        with self._lock:
            run = self._runs.get(run_id)
            if run is None:
                return f"no run {run_id}"
            if run in self._queue:
                self._queue.remove(run)
                self._history.append(run)
                self._cancel_waiting(run)
                return f"{run.label}: taken out of the queue before it started"
        if run.done:
            return f"{run.label} is already {run.state}"
        run.stop.set()
        return f"{run.label}: stopping after the current step; a resumable checkpoint will be kept"

    def hold(self, holder_id: str, label: str, stop: threading.Event) -> Holder:
        """Take the one training slot for work that trains by itself, outside the queue: runs
        submitted meanwhile wait in the queue until :meth:`release`.  Refused while a run trains
        or waits, or something else holds the slot, so two trainings never share the machine.
        ``stop`` is set by :meth:`shutdown`."""
        with self._lock:
            if self._closed:
                raise ArchzooError("the run manager is shut down")
            if self._holder is not None:
                raise ArchzooError(f"{self._holder.label} is training; one training at a time on this server")
            busy = self._current or (self._queue[0] if self._queue else None)
            if busy is not None:
                raise ArchzooError(
                    f"run {busy.id} ({busy.label}) is {busy.state}; one training at a time on this server: "
                    "wait for it to end, or stop it"
                )
            self._holder = Holder(holder_id, label, stop, time.time())
            return self._holder

    def release(self, holder: Holder) -> None:
        """Give the slot back (queued runs start); a holder no longer holding it changes nothing."""
        with self._lock:
            if self._holder is holder:
                self._holder = None
                self._lock.notify_all()

    def holder(self) -> Holder | None:
        """What holds the training slot outside the queue now, if anything."""
        with self._lock:
            return self._holder

    def active(self) -> Run | None:
        """The run training now, else the next one waiting, else None: what a page
        opened (or reloaded) in the middle of things should show."""
        with self._lock:
            return self._current or (self._queue[0] if self._queue else None)

    def get(self, run_id: str) -> Run | None:
        with self._lock:
            return self._runs.get(run_id)

    def position(self, run: Run) -> int:
        """0 while running, 1.. while waiting (1 = next), -1 when over."""
        with self._lock:
            if run is self._current:
                return 0
            try:
                return list(self._queue).index(run) + 1
            except ValueError:
                return -1

    def rows(self) -> list[QueueRow]:
        """The running run, the waiting ones in order, then recent finished ones."""
        with self._lock:
            active = ([self._current] if self._current else []) + list(self._queue)
            over = [r for r in reversed(self._history) if r not in active]
            holder = self._holder
        rows = []
        if holder is not None:
            since = datetime.fromtimestamp(holder.since).strftime("%H:%M:%S")
            rows.append(
                QueueRow(holder.id, holder.label, RUNNING, 0, since, "holds the training slot; runs wait for it")
            )
        for run in active + over:
            position = self.position(run)
            if run.state == RUNNING:
                p = run.progress
                detail = f"step {p.step}/{p.total_steps}, epoch {p.epoch}/{p.epochs}" if p.total_steps else "starting"
            elif run.state == QUEUED:
                detail = f"waiting: {position - 1} run(s) ahead" if position > 1 else "next"
            elif run.state == "failed":
                detail = run.error
            else:
                detail = str(run.out_dir or "")
            rows.append(
                QueueRow(
                    run.id,
                    run.label,
                    run.state,
                    position,
                    datetime.fromtimestamp(run.submitted).strftime("%H:%M:%S"),
                    detail,
                )
            )
        return rows

    def shutdown(self, timeout: float = 60.0) -> None:
        """Cancel everything waiting, stop the running run, and wait for the worker."""
        with self._lock:
            self._closed = True
            waiting = list(self._queue)
            self._queue.clear()
            current = self._current
            holder = self._holder
            self._lock.notify_all()
        if holder is not None:
            holder.stop.set()
        for run in waiting:
            self._cancel_waiting(run)
        if current is not None:
            current.stop.set()
        if self._worker is not None:
            self._worker.join(timeout)

    # -- the worker ------------------------------------------------------------------

    def _ensure_worker(self) -> None:
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._work, name="archzoo-runs", daemon=True)
            self._worker.start()

    def _work(self) -> None:
        while True:
            with self._lock:
                while (not self._queue or self._holder is not None) and not self._closed:
                    self._lock.wait()
                if self._closed and not self._queue:
                    return
                run = self._queue.popleft()
                self._current = run
            try:
                self._execute(run)
            finally:
                with self._lock:
                    self._current = None
                    self._history.append(run)
                    self._lock.notify_all()

    def _execute(self, run: Run) -> None:
        run.started_at = time.time()
        run._set(RUNNING)
        request = run.request
        try:
            result = (self._train or train)(
                request.name,
                dataset=request.dataset,
                overrides=request.overrides,
                out=str(run.out_dir),
                resume=request.resume,
                overwrite=request.overwrite,
                data_dir=request.data_dir,
                download=request.download,
                on_event=run._record,
                stop=run.stop,
                host=self.host,
                record=run.record,
            )
        except ArchzooError as exc:
            run.refused = exc if isinstance(exc, ConfigError) else None
            run._set("failed", str(exc))
            return
        except Exception as exc:  # a bug in a plugin or in archzoo: report it, keep the worker alive
            log.error("training run %s failed:\n%s", run.id, traceback.format_exc())
            run._set("failed", f"{type(exc).__name__}: {exc} (a bug: the server log has the traceback)")
            return
        finally:
            run.record.close()
        run.result = result
        run._set(getattr(result, "status", "finished"))

    @staticmethod
    def _cancel_waiting(run: Run) -> None:
        """A run that never started: its record says cancelled; a new run's folder, which
        holds nothing but that record, goes."""
        run._set("cancelled")
        run.record.cancel()
        run.record.close()
        if not run.request.resume and run.out_dir is not None:
            leftovers = {p.name for p in run.out_dir.iterdir()} - {RECORD, EVENTS, LOCK}
            if not leftovers:
                shutil.rmtree(run.out_dir, ignore_errors=True)
        run.progress.log.append("cancelled before it started; nothing was written")
