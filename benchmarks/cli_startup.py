"""`archzoo --help` and `archzoo list` must answer fast and never import torch.

Runs each command several times in fresh processes, reports the median wall
time, and reads `python -X importtime` to show which modules were imported
(torch must not be among them).

    python benchmarks/cli_startup.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = (["--help"], ["list"])


def imported_modules(args: list[str]) -> list[str]:
    """Top-level packages that ``archzoo ARGS`` imports, read from ``-X importtime``."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "archzoo.cli", *args], capture_output=True, text=True, check=True
    )
    packages = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "cumulative" not in line:
            name = line.split("|")[2].strip()
            packages.add(name.split(".")[0])
    return sorted(packages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    print("| command | median wall time (s) | imports torch | heaviest third-party imports |")
    print("|---|---|---|---|")
    for command in COMMANDS:
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "archzoo.cli", *command], capture_output=True, check=True)
            times.append(time.perf_counter() - start)
        packages = imported_modules(command)
        third_party = [
            p
            for p in packages
            if p in ("torch", "numpy", "accelerate", "safetensors", "pluggy", "huggingface_hub", "sklearn", "tqdm")
        ]
        print(
            f"| archzoo {' '.join(command)} | {statistics.median(times):.3f} | "
            f"{'YES' if 'torch' in packages else 'no'} | {', '.join(third_party) or '-'} |"
        )
    print("\ntarget: under 1 s each, and no torch import")


if __name__ == "__main__":
    main()
