"""One writer per run folder, and a way to tell a live run from a dead one.

The process that trains a run (or queues it, in the app) holds an exclusive
``flock`` on ``RUN/.lock`` for as long as it owns the run.  The kernel drops
the lock when that process ends, however it ends (even SIGKILL), so anyone
else can ask "is somebody still writing this?" by trying to take it: a record
that says ``running`` but whose lock is free belongs to a process that died,
and the run is ``interrupted``.  POSIX only, like archzoo's other guarantees.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path

from archzoo.errors import ArchzooError

LOCK = ".lock"


class RunBusyError(ArchzooError):
    """Another process is writing this run folder."""


class RunLock:
    """The exclusive lock of one run folder, held until :meth:`release` (or the process ends)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        """Take the lock now, or raise :class:`RunBusyError` naming who holds it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise RunBusyError(
                f"{self.folder} is in use by another archzoo process ({holder}); wait for it to end, "
                "stop it, or choose another --out"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}).encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def is_locked(folder: Path) -> bool:
    """Does a live process hold ``folder``'s lock?  (Takes and drops a shared lock to find out.)"""
    path = Path(folder) / LOCK
    if not path.is_file():
        return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops a shared lock taken here
    return False


def _holder(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0) or b"{}")
        return f"process {int(info['pid'])} on {str(info['host'])[:64]}"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"
