"""The Train tab's live pictures, drawn in a process of their own.

Matplotlib holds Python's interpreter lock for the whole of a picture (about 150 ms
for a decision boundary), so drawn in the app's process it stalls the run training
beside it: 17% of mlp-moons' time on two cores (benchmarks/live_views.py).  One
worker process, started on the first picture and kept for the next, draws without
taking the lock from the run.  Only the run folder, the view's name and the epoch
go to it; PNG bytes come back.
"""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

#: Seconds a picture may take before the page gives up on it (the worker's first start imports torch).
DRAW_TIMEOUT = 120.0


def _yield_to_training() -> None:
    """In the worker, once: a lower priority and one thread, so that on a small machine the
    run's training keeps its CPUs and the picture waits instead."""
    import os

    import torch

    if hasattr(os, "nice"):
        os.nice(10)
    torch.set_num_threads(1)


def draw_png(run_folder: str, name: str, epoch: int) -> bytes:
    """In the worker: the kept epoch's picture (:func:`archzoo.inference.views.live.draw`)."""
    from archzoo.inference.views import live

    return live.draw(run_folder, name, epoch).png


class Drawer:
    """One drawing process for the app, started when first asked and restarted if it dies."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def draw(self, run_folder: str | Path, name: str, epoch: int) -> bytes:
        """PNG bytes of a kept epoch; errors of the drawing are raised here as they were there."""
        pool = self._started()
        try:
            return pool.submit(draw_png, str(run_folder), name, epoch).result(timeout=DRAW_TIMEOUT)
        except BrokenProcessPool:  # killed (out of memory, say): the next picture starts a new one
            with self._lock:
                self._pool = None
            raise

    def _started(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                # spawn, not fork: the app's process has threads (the server, the runs), which fork would copy mid-step
                self._pool = ProcessPoolExecutor(
                    max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_yield_to_training
                )
            return self._pool

    def shutdown(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
