"""The lecture notes' tables rerun: shipped studies at a stated budget, measured beside the notes' numbers.

Each study runs through the real command (``archzoo study run NAME``) in one
store, with the budget given here on top of the study's own settings (fewer
epochs or steps than the notes on a 2-core CPU; the table says which), then
``archzoo study show --json --out`` writes its table and plot to
``benchmarks/figures/studies/``. Prints one Markdown table per study: the
measured mean +- std over seeds, the notes' printed number, and the wall time.

    python benchmarks/study_tables.py [--store DIR] [--only notes-1.7-width-depth ...] [--quick]

Studies already complete in ``--store`` are shown without running again (a
stopped one continues with its missing trials), so the script can be
interrupted and started again.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

FIGURES = Path(__file__).parent / "figures" / "studies"

#: study -> (settings on top of the study's, seeds, what the budget is in words)
BUDGETS: dict[str, tuple[dict[str, str], int, str]] = {
    "notes-1.7-width-depth": ({"epochs": "3"}, 2, "3 epochs of the notes' 10"),
    "notes-2.8-optimizers": ({"epochs": "3"}, 2, "3 epochs of the notes' 10"),
    "workshop-day2-learning-rate": ({"epochs": "3"}, 2, "3 epochs"),
    "notes-5.9-rnn-cells": ({"epochs": "3"}, 2, "3 epochs of the notes' 15"),
    "notes-9.9-vae": ({"epochs": "3"}, 1, "3 epochs of the notes' 30"),
    "notes-3.11-dropout-weight-decay": ({"epochs": "3"}, 1, "3 epochs of the notes' 20, 3 x 3 of the 5 x 5 grid"),
    "notes-7.9-transformer": ({"epochs": "1", "max_steps": "300"}, 1, "300 steps of batch 64 (about 0.3 of an epoch)"),
    "notes-8.9-dcgan": ({"epochs": "1", "max_steps": "150"}, 1, "150 steps of batch 128 of the notes' 25 epochs"),
}
QUICK = {"epochs": "1", "max_steps": "20"}
#: study -> its data folder below the shared data (SST-2 is not downloaded here).
DATA = {"notes-7.9-transformer": "sst2"}
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def archzoo(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "archzoo.cli", *args], env=env, capture_output=True, text=True)


def run_study(name: str, store: Path, quick: bool) -> tuple[dict, float]:
    settings, seeds, _ = BUDGETS[name]
    settings = {**settings, **QUICK} if quick else settings
    env = {**os.environ, "ARCHZOO_CHECKPOINTS": str(store), "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    assigned = [item for key, value in settings.items() for item in ("--set", f"{key}={value}")]
    if name in DATA:
        assigned += ["--data-dir", str(SHARED_DATA / DATA[name])]
    start = time.perf_counter()
    done = archzoo(
        "study", "run", name, *assigned, "--seeds", str(seeds), "--name", f"{name}-bench", "--quiet", env=env
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{name} failed:\n{done.stderr}")
    out = FIGURES / name
    shown = archzoo("study", "show", f"{name}-bench", "--json", "--out", str(out), env=env)
    if shown.returncode != 0:
        raise SystemExit(f"archzoo study show {name}-bench failed:\n{shown.stderr}")
    return json.loads(shown.stdout), seconds


def print_table(name: str, summary: dict, seconds: float, quick: bool) -> None:
    _, seeds, budget = BUDGETS[name]
    budget = "20 steps a trial (--quick)" if quick else budget
    where = f"notes {summary['section']}" if summary["section"] else name
    print(f"\n### {name} ({where}; {budget}, {seeds} seed(s), {seconds / 60:.1f} min)\n")
    print(f"| cell | settings | measured {summary['metric']} (mean +- std) | notes |")
    print("|---|---|---|---|")
    for cell in summary["cells"]:
        settings = " ".join(f"{k}={v}" for k, v in cell["settings"].items()) or "the recipe"
        if cell["mean"] is None:
            measured = "failed" if cell["failed"] else "-"
        elif cell["std"] is None:
            measured = f"{cell['mean']:.4f}"
        else:
            measured = f"{cell['mean']:.4f} +- {cell['std']:.4f}"
        printed = f"{cell['printed']:.4f}" if cell["printed"] is not None else "-"
        print(f"| {cell['label']} | {settings} | {measured} | {printed} |")
    print(f"\nplot: figures/studies/{name}/study.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, default=Path("benchmarks-store"), help="checkpoint store for the runs")
    parser.add_argument("--only", nargs="*", choices=sorted(BUDGETS), help="these studies (default: all)")
    parser.add_argument("--quick", action="store_true", help="20 steps a trial: check that every study runs")
    args = parser.parse_args()
    for name in args.only or list(BUDGETS):
        summary, seconds = run_study(name, args.store, args.quick)
        print_table(name, summary, seconds, args.quick)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
