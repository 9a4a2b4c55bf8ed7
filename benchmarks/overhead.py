"""Framework overhead: archzoo's trainer against a plain PyTorch loop.

Same model (the lecture notes' MLP 784-256-128-10), same Fashion-MNIST training
split, same seed, same data order, Adam 1e-3, batch 128, no clipping.  Both
loops are timed the same way: from the end of one step to the end of the next,
so data loading counts for both and evaluation / checkpointing for neither.

Prints whether the two loss sequences are identical and the median
throughput of each over alternating repetitions, and their ratio.

    python benchmarks/overhead.py [--epochs 1] [--repeats 5] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from archzoo import events
from archzoo.api import fill_from_data, plan_run, train
from archzoo.data import DataOptions, load_dataset
from archzoo.host import get_host

OVERRIDES = {"grad_clip": "0", "val_fraction": "0.1", "weight_decay": "0", "schedule": "constant"}


def plain_loop(splits, config, epochs: int, seed: int, batch_size: int, lr: float):
    """The loop a PyTorch user writes by hand."""
    torch.manual_seed(seed)
    model = get_host().hooks("mlp").build_model(config)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses, examples, seconds = [], 0, 0.0
    for epoch in range(epochs):
        order = torch.randperm(len(splits.train), generator=torch.Generator().manual_seed(seed + epoch)).tolist()
        loader = DataLoader(splits.train, batch_size=batch_size, sampler=order)
        tick = time.perf_counter()
        for inputs, labels in loader:
            loss = F.cross_entropy(model(inputs), labels)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            losses.append(loss.item())
            now = time.perf_counter()
            seconds += now - tick
            examples += len(inputs)
            tick = now
    return losses, examples / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()

    plan = plan_run("mlp-fashion-deep", overrides=OVERRIDES)
    tc = plan.train_config
    splits = load_dataset("fashion-mnist", DataOptions(data_dir=args.data_dir, val_fraction=tc.val_fraction))
    config = fill_from_data(plan.config, splits.info)
    n = len(splits.train)

    plain_rates, archzoo_rates, identical = [], [], []
    with tempfile.TemporaryDirectory() as store:
        for repeat in range(args.repeats):
            plain_losses, plain_rate = plain_loop(splits, config, args.epochs, tc.seed, tc.batch_size, tc.lr)
            seen: list = []

            def on_event(event, seen=seen):
                if isinstance(event, events.StepEnded):
                    seen.append(event)

            result = train(
                "mlp-fashion-deep", overrides={**OVERRIDES, "epochs": str(args.epochs)},
                out=f"{store}/run{repeat}", data_dir=args.data_dir, on_event=on_event,
            )
            # examples_per_second of each step = batch length / (time since the previous step ended)
            step_sizes = _step_sizes(n, tc.batch_size, args.epochs)
            seconds = sum(size / e.examples_per_second for size, e in zip(step_sizes, seen))
            archzoo_rates.append(sum(step_sizes) / seconds)
            plain_rates.append(plain_rate)
            identical.append(result.step_losses == plain_losses)
            print(f"repeat {repeat + 1}: plain {plain_rate:,.0f} ex/s, archzoo {archzoo_rates[-1]:,.0f} ex/s, "
                  f"identical losses: {identical[-1]}", flush=True)

    plain, ours = statistics.median(plain_rates), statistics.median(archzoo_rates)
    print()
    print("| loop | median examples/s | steps | loss sequence |")
    print("|---|---|---|---|")
    print(f"| plain PyTorch | {plain:,.0f} | {len(plain_losses)} | reference |")
    print(f"| archzoo trainer | {ours:,.0f} | {len(result.step_losses)} | {'identical' if all(identical) else 'DIFFERENT'} |")
    paired = statistics.median(a / b for a, b in zip(archzoo_rates, plain_rates))
    print(f"\nthroughput ratio archzoo / plain, median of the {args.repeats} paired repeats: {paired:.3f}  (target >= 0.97)")
    print(f"(ratio of the two medians: {ours / plain:.3f}; paired repeats ran back to back, so they share the machine's state)")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {n:,} training images, batch {tc.batch_size}")


def _step_sizes(n: int, batch: int, epochs: int) -> list[int]:
    per_epoch = [batch] * (n // batch) + ([n % batch] if n % batch else [])
    return per_epoch * epochs


if __name__ == "__main__":
    main()
