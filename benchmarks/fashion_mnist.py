"""Fashion-MNIST quality of the lecture-note recipes (60k train / 10k test).

Trains each preset with its own recipe through archzoo's trainer and reports
test accuracy of the best-validation checkpoint, parameters, epochs and
seconds per epoch (training plus the epoch's validation pass).

Targets: MLP 784-256-128-10 (mlp-fashion-deep) >= 0.885 (the public
Fashion-MNIST benchmark lists an MLP 256-128-100 at 0.8833); a CNN preset >= 0.92.

    python benchmarks/fashion_mnist.py [--presets mlp-fashion-deep cnn-fashion] [--data-dir DIR]

The validation split is 10% of the 60k training images (fixed seed), so the
model trains on 54k; the test set is the untouched official 10k.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile

import torch

from archzoo.api import train
from archzoo.runs import events

TARGETS = {"mlp-fashion-deep": 0.885, "cnn-fashion": 0.92}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", nargs="+", default=list(TARGETS))
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--set", dest="settings", action="append", default=[], help="extra KEY=VALUE for every preset")
    args = parser.parse_args()
    extra = dict(item.split("=", 1) for item in args.settings)

    rows = []
    with tempfile.TemporaryDirectory() as store:
        for preset in args.presets:
            started: list = []
            epochs: list = []

            def on_event(event, started=started, epochs=epochs, preset=preset):
                if isinstance(event, events.RunStarted):
                    started.append(event)
                elif isinstance(event, events.EpochEnded):
                    epochs.append(event)
                    print(f"  {preset} epoch {event.epoch}: val {event.val_metrics} ({event.seconds:.1f}s)", flush=True)

            result = train(preset, overrides=extra, out=f"{store}/{preset}", data_dir=args.data_dir, on_event=on_event)
            target = TARGETS.get(preset)
            accuracy = result.test_metrics["accuracy"]
            rows.append(
                (
                    preset,
                    started[0].parameters,
                    len(epochs),
                    statistics.mean(e.seconds for e in epochs),
                    accuracy,
                    target,
                )
            )

    device = "cuda" if torch.cuda.is_available() else f"CPU, {torch.get_num_threads()} threads"
    print(f"\nFashion-MNIST test accuracy ({device}, torch {torch.__version__})\n")
    print("| preset | parameters | epochs | s / epoch | test accuracy | target | met |")
    print("|---|---|---|---|---|---|---|")
    for preset, params, n_epochs, seconds, accuracy, target in rows:
        met = "" if target is None else ("yes" if accuracy >= target else "NO")
        print(f"| {preset} | {params:,} | {n_epochs} | {seconds:.1f} | {accuracy:.4f} | {target or '-'} | {met} |")


if __name__ == "__main__":
    main()
