"""The app's one study in progress: its trials run in a background thread of the
server, one after another, while the study holds the app's training slot.

The study itself lives in its Optuna storage (the store's ``studies.sqlite3``), the
source of truth every page reads: this worker only says which study this server is
running now and how the last one ended.  Holding the slot
(:meth:`~archzoo.training.queue.RunManager.hold`) keeps the Train tab's runs waiting
in their queue meanwhile, and a study is refused while a run trains or waits.
"""

from __future__ import annotations

import logging
import threading
import traceback
from dataclasses import dataclass

import optuna

from archzoo.errors import ArchzooError
from archzoo.registry.host import Host
from archzoo.studies.spec import StudySpec
from archzoo.studies.work import STORAGE_FILE, create, open_storage, work
from archzoo.training.queue import RunManager

log = logging.getLogger("archzoo.ui")

#: Seconds Stop waits for the running trial to write its checkpoint and end.
STOP_WAIT = 30.0


@dataclass
class Outcome:
    """How the last study this server ran ended: its name and a sentence."""

    name: str
    text: str
    failed: bool = False


class StudyWorker:
    """Runs one study at a time in a thread of its own, holding the training slot."""

    def __init__(self, host: Host, runs: RunManager) -> None:
        self.host = host
        self.runs = runs
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._running: str | None = None
        self._storage: optuna.storages.BaseStorage | None = None
        self.outcome: Outcome | None = None

    def storage(self, *, create_file: bool = True) -> optuna.storages.BaseStorage | None:
        """The store's study storage, opened once; None when it has no file yet and
        ``create_file`` is off (a page that only looks does not create it)."""
        with self._lock:
            if self._storage is None:
                if not create_file and not (self.host.settings.checkpoint_dir / STORAGE_FILE).is_file():
                    return None
                self._storage = open_storage(None, self.host)
            return self._storage

    def running(self) -> str | None:
        """The name of the study this server is running now, if any."""
        with self._lock:
            return self._running

    def start(self, spec: StudySpec, data_dir: str | None = None) -> optuna.Study:
        """Take the training slot, create (or continue) the study, and work on it in the
        background; its trials read their dataset's files from ``data_dir`` when given.
        Raises ArchzooError at once: another study or a run is training, a cell's value
        is refused, the name is in use with other settings, the data folder is one the
        app may not read."""
        if data_dir and self.host.paths is not None:
            self.host.paths.readable(data_dir, "data folder")
        with self._lock:
            if self._running is not None:
                raise ArchzooError(f"the study '{self._running}' is running; stop it first (one study at a time)")
            stop = threading.Event()
            holder = self.runs.hold("study", f"study {spec.name}", stop)
            try:
                if self._storage is None:
                    self._storage = open_storage(None, self.host)
                study = create(spec, self._storage, self.host)  # checks every cell, enqueues the missing trials
            except BaseException:
                self.runs.release(holder)
                raise
            self._running, self._stop = spec.name, stop
            self.outcome = None
            self._thread = threading.Thread(
                target=self._work, args=(study, spec, stop, holder, data_dir), name="archzoo-study", daemon=True
            )
            self._thread.start()
        return study

    def stop(self) -> str:
        """Stop the running trial (it keeps a resumable checkpoint) and the study; waits up to
        :data:`STOP_WAIT` seconds for it to end."""
        with self._lock:
            name, thread = self._running, self._thread
            self._stop.set()
        if name is None or thread is None:
            return "no study is running on this server"
        thread.join(STOP_WAIT)
        if thread.is_alive():
            return f"study '{name}': stopping after the current step"
        return f"study '{name}' stopped"

    def _work(self, study: optuna.Study, spec: StudySpec, stop: threading.Event, holder, data_dir) -> None:
        outcome = Outcome(spec.name, "")
        try:
            done = work(study, spec, host=self.host, stop=stop, data_dir=data_dir)
            stopped = stop.is_set() or any(d.state == "stopped" for d in done)
            ended = sum(d.state != "stopped" for d in done)
            failed = sum(d.state == "failed" for d in done)
            outcome.text = (
                f"stopped, {ended} trial(s) ended this time; Continue runs the missing ones"
                if stopped
                else f"finished: {ended} trial(s) run this time" + (f", {failed} failed" if failed else "")
            )
        except Exception as exc:  # a bug: the study stops, the server keeps running
            log.error("study %s failed:\n%s", spec.name, traceback.format_exc())
            outcome.text, outcome.failed = f"stopped by an error: {type(exc).__name__}: {exc}", True
        finally:
            self.runs.release(holder)
            with self._lock:
                self._running, self.outcome = None, outcome
