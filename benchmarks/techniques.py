"""The notes' regularised recipes against the plain ones, at the same budget (Fashion-MNIST).

RegularizedNet (3.10: BatchNorm, Dropout 0.3, AdamW, label smoothing, cosine,
rotation and translation) against the plain 784-256-128-10 MLP; CIFAR10Net
(4.6: Dropout2d, crop, flip, jitter) against the same CNN without them
(`cnn-notes`).  Each pair trains for the same number of steps, the schedules
fitted to that budget, and the table shows what regularisation buys: test
accuracy, and the gap between training and test accuracy.

    python benchmarks/techniques.py [--mlp-epochs 5] [--cnn-steps 300] [--data-dir DIR]

Training accuracy is the mean over the last epoch's steps (on augmented,
smoothed, dropped-out batches for the regularised nets: a lower bound on
what they fit), so the gap is the plain models' overfitting made visible.
"""

from __future__ import annotations

import argparse
import tempfile
import time

from archzoo.api import train
from archzoo.runs import events

PAIRS = (("mlp-fashion-deep", "regularizednet"), ("cnn-notes", "cifar10net"))


def run(preset: str, overrides: dict[str, str], store: str, data_dir: str | None) -> dict:
    started: list = []
    result = train(
        preset,
        overrides=overrides,
        out=f"{store}/{preset}",
        data_dir=data_dir,
        on_event=lambda e: started.append(e) if isinstance(e, events.RunStarted) else None,
    )
    last = result.history[-1]
    return {
        "preset": preset,
        "parameters": started[0].parameters,
        "steps": started[0].total_steps,
        "train accuracy": last["train"]["accuracy"],
        "test accuracy": result.test_metrics["accuracy"],
        "seconds": result.seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--mlp-epochs", type=int, default=5, help="epochs of each MLP (the same for both; 0 skips them)"
    )
    parser.add_argument("--cnn-steps", type=int, default=300, help="steps of each CNN (0 skips the CNN pair)")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    budgets = {
        PAIRS[0]: {"epochs": str(args.mlp_epochs), "patience": "0"},
        PAIRS[1]: {"epochs": "1", "max_steps": str(args.cnn_steps)},
    }
    rows = []
    with tempfile.TemporaryDirectory() as store:
        for pair in PAIRS:
            if (pair is PAIRS[0] and args.mlp_epochs == 0) or (pair is PAIRS[1] and args.cnn_steps == 0):
                continue
            for preset in pair:
                tick = time.perf_counter()
                rows.append(run(preset, budgets[pair], store, args.data_dir))
                print(f"  {preset}: {time.perf_counter() - tick:.0f} s", flush=True)

    print("\n| preset | parameters | steps | train accuracy | test accuracy | gap | seconds |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        gap = row["train accuracy"] - row["test accuracy"]
        print(
            f"| {row['preset']} | {row['parameters']:,} | {row['steps']:,} | {row['train accuracy']:.4f} | "
            f"{row['test accuracy']:.4f} | {gap:+.4f} | {row['seconds']:.0f} |"
        )


if __name__ == "__main__":
    main()
