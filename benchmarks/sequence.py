"""The lecture notes' sequence models, trained through archzoo's trainer.

1. ``rnn`` and ``transformer`` on the synthetic sentiment task (target:
   accuracy >= 0.85 on held-out sequences), beside the best a linear
   bag-of-tokens model can do on the same split (the task's label is a linear
   function of the token counts, so this is the ceiling that 4,000 training
   sequences allow for 999 token values learned from scratch).
2. The same networks on SST-2: accuracy on GLUE's dev set (872 sentences,
   archzoo's test split for sst2).
3. A character GPT trained briefly on SST-2's sentences, and its samples at
   temperatures 0.5, 1.0 and 1.5.

    python benchmarks/sequence.py [--sst2-dir DIR] [--threads N] [--quick]

The synthetic task follows the notes' 80/20 protocol: the recipes train on
all 4,000 training sequences (``val_fraction=0``) and are scored on the 1,000
held out (archzoo's test split, the notes' validation set).  SST-2 runs keep
1% of train.tsv for validation.  ``--quick`` trains SST-2 and the GPT for a
few hundred steps only.  On a shared CPU, one thread per process is faster
than two (``--threads``, default 1).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

from archzoo.api import train
from archzoo.runs import events

HERE = Path(__file__).resolve().parent
DEFAULT_SST2 = HERE.parent.parent / "shared" / "data" / "sst2"
TARGET = 0.85

SYNTHETIC = ("rnn-notes", "transformer-synthetic")
SST2 = ("rnn-sst2", "transformer-notes")
TEMPERATURES = (0.5, 1.0, 1.5)


def run(preset: str, store: str, overrides: dict, data_dir: Path | None = None) -> dict:
    """Train a preset; return its size, epochs, seconds per epoch and metrics."""
    started: list = []
    epochs: list = []

    def on_event(event):
        if isinstance(event, events.RunStarted):
            started.append(event)
        elif isinstance(event, events.EpochEnded):
            epochs.append(event)
            shown = " ".join(f"{k} {v:.4f}" for k, v in (event.val_metrics or event.train_metrics).items())
            print(
                f"  {preset} epoch {event.epoch}: {'validation' if event.val_metrics else 'train'} {shown} "
                f"({event.seconds:.0f}s)",
                flush=True,
            )

    clock = time.perf_counter()
    result = train(preset, overrides=overrides, out=f"{store}/{preset}", data_dir=data_dir, on_event=on_event)
    return {
        "preset": preset,
        "parameters": started[0].parameters,
        "epochs": len(epochs),
        "steps": len(result.step_losses),
        "seconds_per_epoch": statistics.mean(e.seconds for e in epochs),
        "seconds": time.perf_counter() - clock,
        "val": result.val_metrics,
        "test": result.test_metrics,
        "best_dir": result.best_dir,
    }


def linear_ceiling() -> float:
    """Logistic regression on each sequence's token frequencies, on the same split."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from archzoo.data.images import split_indices
    from archzoo.data.text import synthetic_sentiment

    sequences, labels = synthetic_sentiment()
    counts = np.zeros((len(sequences), 1000))
    for row, sequence in enumerate(sequences):
        np.add.at(counts[row], sequence, 1.0 / len(sequence))
    train_idx, _, test_idx = split_indices(len(labels), 0.2, 0.0)
    best = 0.0
    for c in (1.0, 10.0, 100.0, 1000.0):  # the best regularisation, chosen on the test split itself: an upper bound
        model = LogisticRegression(C=c, max_iter=5000).fit(counts[train_idx], labels[train_idx])
        best = max(best, model.score(counts[test_idx], labels[test_idx]))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--sst2-dir",
        type=Path,
        default=DEFAULT_SST2 if DEFAULT_SST2.is_dir() else None,
        help="folder with GLUE SST-2's train.tsv and dev.tsv",
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--quick", action="store_true", help="SST-2 and GPT: a few hundred steps only")
    parser.add_argument("--skip", nargs="*", default=[], choices=["synthetic", "sst2", "gpt"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = "cuda" if torch.cuda.is_available() else f"CPU, {torch.get_num_threads()} thread(s)"

    with tempfile.TemporaryDirectory() as store:
        synthetic = [] if "synthetic" in args.skip else [run(p, store, {"val_fraction": 0.0}) for p in SYNTHETIC]
        sst2 = []
        if "sst2" not in args.skip:
            if args.sst2_dir is None:
                print("no SST-2 folder (--sst2-dir): skipping the SST-2 runs")
            else:
                quick = {"max_steps": 300} if args.quick else {}
                sst2 = [run(p, store, {"val_fraction": 0.01, **quick}, data_dir=args.sst2_dir) for p in SST2]
        gpt = None
        if "gpt" not in args.skip and args.sst2_dir is not None:
            gpt = run("gpt-char", store, {"max_steps": 300} if args.quick else {}, data_dir=args.sst2_dir)
            gpt["samples"] = samples(gpt["best_dir"])

        print(f"\n### Synthetic sentiment task ({device}, torch {torch.__version__})\n")
        if synthetic:
            print("Trained on the 4,000 training sequences, scored on the 1,000 held out (the notes' 80/20 split).\n")
            print("| preset | parameters | epochs | s / epoch | held-out accuracy | target | met |")
            print("|---|---|---|---|---|---|---|")
            for row in synthetic:
                accuracy = row["test"]["accuracy"]
                print(
                    f"| {row['preset']} | {row['parameters']:,} | {row['epochs']} | {row['seconds_per_epoch']:.0f} | "
                    f"{accuracy:.4f} | {TARGET} | {'yes' if accuracy >= TARGET else 'no'} |"
                )
            print(f"| (bag-of-tokens logistic regression, best C) | 1,000 | - | - | {linear_ceiling():.4f} | - | - |")
        if sst2:
            print(f"\n### SST-2 ({device})\n")
            print(
                "| preset | parameters | epochs | steps | s / epoch | validation accuracy (1% of train) | dev "
                "accuracy (872) |"
            )
            print("|---|---|---|---|---|---|---|")
            for row in sst2:
                print(
                    f"| {row['preset']} | {row['parameters']:,} | {row['epochs']} | {row['steps']} | "
                    f"{row['seconds_per_epoch']:.0f} | "
                    f"{row['val'].get('accuracy', float('nan')):.4f} | "
                    f"{row['test'].get('accuracy', float('nan')):.4f} |"
                )
        if gpt:
            print(f"\n### Character GPT on SST-2's sentences ({device})\n")
            print(
                f"gpt-char: {gpt['parameters']:,} parameters, {gpt['steps']} steps in {gpt['seconds']:.0f}s; "
                f"validation loss {gpt['val']['loss']:.3f} nats/char (perplexity {gpt['val']['perplexity']:.2f}), "
                f"dev loss {gpt['test']['loss']:.3f} (perplexity {gpt['test']['perplexity']:.2f})\n"
            )
            print("| temperature | sample (prompt 'the movie', top-k off, seed 0 at every temperature) |")
            print("|---|---|")
            for temperature, texts in gpt["samples"]:
                for text in texts:
                    print(f"| {temperature} | {text!r} |")


def samples(checkpoint: Path) -> list[tuple[float, list[str]]]:
    from archzoo.inference.generation import generate_text

    return [
        (t, generate_text(checkpoint, "the movie", temperature=t, max_length=120, n=2, seed=0)) for t in TEMPERATURES
    ]


if __name__ == "__main__":
    main()
