"""Studies across processes: two ``archzoo study`` workers on one SQLite storage.

An 8-trial grid (the default MLP on scikit-learn's digits, four learning
rates x two seeds, about 6 s a trial) created with ``archzoo study run
--workers 0``, then worked by one ``archzoo study work`` process, or by two
started together on the same SQLite storage, each in a fresh store, side by
side, ``--repeats`` times. One intra-op thread per process, so one worker uses
one of the two cores. Prints the wall times (start-up included), their ratio
(target: two workers in at most 0.6 of one worker's time) and checks that no
trial ran twice.

    python benchmarks/studies.py [--repeats 3] [--epochs 300]

The notes' tables themselves: ``archzoo study run notes-1.7-width-depth``
(and the others ``archzoo study list`` shows), then ``archzoo study show``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 0.6


def run_grid(workers: int, epochs: int) -> tuple[float, list[int]]:
    """Create the study (not timed), then time ``workers`` ``archzoo study work`` processes started together."""
    import optuna
    from optuna.trial import TrialState

    with tempfile.TemporaryDirectory() as store:
        env = {**os.environ, "ARCHZOO_CHECKPOINTS": store, "OMP_NUM_THREADS": "1"}
        archzoo = [sys.executable, "-m", "archzoo.cli", "study"]
        create = [
            "run", "--preset", "mlp", "--dataset", "digits", "--set", f"epochs={epochs}",
            "--grid", "lr=0.02,0.01,0.005,0.002", "--seeds", "2", "--name", "bench", "--workers", "0",
        ]  # fmt: skip
        subprocess.run([*archzoo, *create], env=env, check=True, capture_output=True)
        start = time.perf_counter()
        processes = [
            subprocess.Popen([*archzoo, "work", "bench", "--quiet"], env=env, stdout=subprocess.DEVNULL)
            for _ in range(workers)
        ]
        if any(p.wait() != 0 for p in processes):
            raise SystemExit("a worker failed")
        seconds = time.perf_counter() - start
        study = optuna.load_study(study_name="bench", storage=f"sqlite:///{Path(store) / 'studies.sqlite3'}")
        done = [t.user_attrs["index"] for t in study.get_trials() if t.state == TrialState.COMPLETE]
    return seconds, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=300)
    args = parser.parse_args()
    rows = []
    for repeat in range(args.repeats):
        order = (1, 2) if repeat % 2 == 0 else (2, 1)
        times = {}
        for workers in order:
            seconds, done = run_grid(workers, args.epochs)
            if sorted(done) != list(range(8)):
                raise SystemExit(f"{workers} worker(s): trials complete {sorted(done)}, expected each of 0..7 once")
            times[workers] = seconds
        rows.append((repeat + 1, times[1], times[2], times[2] / times[1]))
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
    print(f"8 trials (4 learning rates x 2 seeds), mlp on digits, {args.epochs} epochs each\n")
    print("| repeat | one worker (s) | two workers (s) | two / one |")
    print("|---|---|---|---|")
    for repeat, one, two, ratio in rows:
        print(f"| {repeat} | {one:.1f} | {two:.1f} | {ratio:.3f} |")
    ratio = statistics.median(r[3] for r in rows)
    print(f"| median | {statistics.median(r[1] for r in rows):.1f} | {statistics.median(r[2] for r in rows):.1f} "
          f"| {ratio:.3f} |")  # fmt: skip
    print(
        f"\nno trial ran twice; two / one = {ratio:.3f}: {'PASS' if ratio <= TARGET else 'FAIL'} (target <= {TARGET})"
    )
    if ratio > TARGET:
        sys.exit(1)


if __name__ == "__main__":
    main()
