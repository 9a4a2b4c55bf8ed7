"""Run every benchmark in turn and print their tables.

    python benchmarks/run_all.py [--quick]

--quick skips the long Fashion-MNIST trainings.  Each script can also be run
on its own; see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
LONG = {
    "fashion_mnist.py",
    "sequence.py",
    "lora.py",
    "bert_features.py",
    "generative.py",
    "trust.py",
    "labs.py",
    "conditional.py",
    "seq2seq.py",
    "vqvae.py",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="skip the long trainings")
    args = parser.parse_args()
    failed = []
    for script in sorted(HERE.glob("*.py")):
        if script.name in ("run_all.py",) or script.name.startswith("_") or (args.quick and script.name in LONG):
            continue
        print(f"\n## {script.name}\n", flush=True)
        if subprocess.call([sys.executable, str(script)]) != 0:
            failed.append(script.name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
