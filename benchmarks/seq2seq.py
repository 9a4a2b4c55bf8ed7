"""Attention at work: copy and reverse, learned by the lecture notes' encoder-decoders.

Four models, each trained through archzoo's trainer on ``copy`` and on ``reverse``
(sources of 4-8 symbols out of 10; 3,600 for training, 400 for validation): the GRU
encoder-decoder without attention (every step reads c = h_S, eq. 6.1), with
Bahdanau's additive attention (eqs. 6.2-6.4) and with Luong's general score
(eq. 6.7), and the encoder-decoder Transformer of 7.4.  Each is judged by greedy
decoding on the test split: 500 sources of the training lengths and 500 longer
ones (9-12 symbols, never seen), per token and per whole sequence.

    python benchmarks/seq2seq.py [--epochs N] [--threads N] [--quick]

The budget is the same for every model: ``--epochs`` passes (default 10, about 560
steps of 64 sequences), AdamW (archzoo's default, weight decay 0.01) at a constant
3e-3, one seed (0), one thread.  Each model is the architecture's default size
(``archzoo info seq2seq``).  A figure of one attention matrix per model (reverse,
a test source) is saved to benchmarks/figures/seq2seq_attention.png.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from archzoo.api import train
from archzoo.inference.sequences import translate

HERE = Path(__file__).resolve().parent
FIGURE = HERE / "figures" / "seq2seq_attention.png"
MODELS = {
    "no attention": ("seq2seq", {"attention": "none"}),
    "Bahdanau": ("seq2seq", {"attention": "bahdanau"}),
    "Luong (general)": ("seq2seq", {"attention": "luong", "score": "general"}),
    "Transformer": ("seq2seq-transformer", {}),
}
TASKS = ("copy", "reverse")
EXAMPLE = "7 2 9 0 4 4 1 8"  # eight symbols: the longest training length


def run(label: str, task: str, epochs: int, store: str) -> dict:
    architecture, config = MODELS[label]
    started = time.perf_counter()
    result = train(
        architecture,
        dataset=task,
        overrides={**config, "epochs": epochs, "lr": 3e-3, "schedule": "constant", "seed": 0},
        out=f"{store}/{task}-{architecture}-{config.get('attention', 'tf')}",
    )
    seconds = time.perf_counter() - started
    metrics = result.test_metrics
    print(
        f"  {label:16} {task:8} seen {metrics['sequence_accuracy']:.3f} "
        f"longer {metrics['longer_sequence_accuracy']:.3f} ({seconds:.0f}s)",
        flush=True,
    )
    return {"label": label, "task": task, "metrics": metrics, "seconds": seconds, "best": result.best_dir}


def table(rows: list[dict]) -> None:
    print()
    print(
        "| model | task | seen: token acc | seen: sequence acc | longer: token acc | longer: sequence acc | train s |"
    )
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        m = row["metrics"]
        print(
            f"| {row['label']} | {row['task']} | {m['token_accuracy']:.3f} | {m['sequence_accuracy']:.3f} | "
            f"{m['longer_token_accuracy']:.3f} | {m['longer_sequence_accuracy']:.3f} | {row['seconds']:.0f} |"
        )


def figure(rows: list[dict]) -> None:
    """One attention matrix per model with attention, on reverse: output tokens against input tokens."""
    from matplotlib.figure import Figure

    shown = [row for row in rows if row["task"] == "reverse" and row["label"] != "no attention"]
    fig = Figure(figsize=(3.3 * len(shown), 3.6), layout="constrained")
    for n, row in enumerate(shown):
        (found,) = translate(row["best"], [EXAMPLE])
        axis = fig.add_subplot(1, len(shown), n + 1)
        axis.imshow(found.attention, cmap="viridis", vmin=0, vmax=1)
        axis.set_xticks(range(len(found.source)), found.source, fontsize=8)
        axis.set_yticks(range(len(found.tokens)), found.tokens, fontsize=8)
        axis.set_xlabel("input token", fontsize=8)
        axis.set_ylabel("output token", fontsize=8)
        axis.set_title(f"{row['label']}: '{found.text}'", fontsize=9)
    fig.suptitle(f"reverse '{EXAMPLE}': attention of each output token over the input", fontsize=10)
    FIGURE.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(FIGURE, dpi=110)
    print(f"\nfigure: {FIGURE}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=10, help="passes over the 3,600 training sequences")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="2 epochs: a smoke test of this script")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    epochs = 2 if args.quick else args.epochs
    print(f"copy and reverse, {epochs} epochs each, lr 3e-3 constant, seed 0, {args.threads} thread(s)")
    with tempfile.TemporaryDirectory(prefix="archzoo-seq2seq-") as store:
        rows = [run(label, task, epochs, store) for task in TASKS for label in MODELS]
        table(rows)
        figure(rows)


if __name__ == "__main__":
    main()
