"""Whole batches from memory: the data path alone, and a Fashion-MNIST MLP epoch.

Part 1, the loader alone, over one shuffled epoch of Fashion-MNIST's training
split in batches of 128 (no model): the per-example DataLoader archzoo used
before (fetch each example in Python, stack them), the fastest loop a person
writes by hand (index the tensors with each batch of indices), archzoo's
loader in one CPU process (:class:`archzoo.data.batches.IndexBatches`), and
the DataLoader of whole batches it hands Accelerate where that shards or
moves them.  Batches per second, median over repeats, in rotating order; the
target is archzoo / index-gather >= 0.95.

Part 2, training: one epoch of ``mlp-fashion-deep`` (784-256-128-10, Adam,
batch 128) by archzoo with whole batches against archzoo on the per-example
path (as before this change), the epoch's training seconds (validation and
checkpoints excluded) side by side; the losses of every step must be
identical.

    python benchmarks/batches.py [--repeats 7] [--epoch-repeats 5] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch
from torch.utils.data import DataLoader

from archzoo.api import train
from archzoo.data import DataOptions, batches, load_dataset
from archzoo.training.trainer import EpochSampler

OVERRIDES = {"grad_clip": "0", "weight_decay": "0", "schedule": "constant", "epochs": "1"}


def per_example(splits, sampler, batch_size):
    return DataLoader(splits.train, batch_size=batch_size, sampler=sampler)


def index_gather(splits, sampler, batch_size):
    x, y = splits.train.tensors
    for indices in torch.tensor(list(sampler)).split(batch_size):
        yield x[indices], y[indices]


def archzoo_loader(splits, sampler, batch_size):
    """What the trainer iterates in one CPU process: batches cut from the order of indices."""
    return batches.batch_loader(splits.train, sampler, batch_size, direct=True)


def archzoo_dataloader(splits, sampler, batch_size):
    """What it hands Accelerate elsewhere (several processes, a GPU): a DataLoader of whole batches."""
    return batches.batch_loader(splits.train, sampler, batch_size)


LOADERS = {
    "per-example DataLoader (before)": per_example,
    "index-gather loop": index_gather,
    "archzoo": archzoo_loader,
    "archzoo's DataLoader (several processes, GPUs)": archzoo_dataloader,
}


def loader_rates(splits, repeats: int, batch_size: int = 128) -> dict[str, list[float]]:
    sampler = EpochSampler(len(splits.train), seed=0)
    rates: dict[str, list[float]] = {name: [] for name in LOADERS}
    names = list(LOADERS)
    for repeat in range(repeats):
        for name in names[repeat % len(names) :] + names[: repeat % len(names)]:
            count, began = 0, time.perf_counter()
            for _batch in LOADERS[name](splits, sampler, batch_size):
                count += 1
            rates[name].append(count / (time.perf_counter() - began))
    return rates


def epoch_seconds(repeats: int, data_dir: str | None) -> tuple[dict[str, list[float]], bool]:
    seconds: dict[str, list[float]] = {"archzoo, whole batches": [], "archzoo, per-example (before)": []}
    identical = True
    original = batches.batch_taker
    with tempfile.TemporaryDirectory() as store:
        for repeat in range(repeats):
            losses = {}
            order = list(seconds) if repeat % 2 == 0 else list(reversed(seconds))
            for name in order:
                batches.batch_taker = original if "whole" in name else (lambda dataset, collate: None)
                try:
                    result = train(
                        "mlp-fashion-deep",
                        overrides=OVERRIDES,
                        out=f"{store}/{repeat}-{len(losses)}",
                        data_dir=data_dir,
                    )
                finally:
                    batches.batch_taker = original
                seconds[name].append(result.history[0]["seconds"])
                losses[name] = result.step_losses
            identical &= len({tuple(v) for v in losses.values()}) == 1
    return seconds, identical


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7, help="epochs of the loaders alone, each")
    parser.add_argument("--epoch-repeats", type=int, default=5, help="training epochs of each path")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)

    splits = load_dataset("fashion-mnist", DataOptions(data_dir=args.data_dir))
    rates = loader_rates(splits, args.repeats)
    gather = statistics.median(rates["index-gather loop"])
    print(f"## The loader alone: {len(splits.train):,} Fashion-MNIST images, batch 128, {args.repeats} epochs each\n")
    print("| loader | batches / s (median) | us / batch | against index-gather |")
    print("|---|---|---|---|")
    for name, values in rates.items():
        rate = statistics.median(values)
        print(f"| {name} | {rate:,.0f} | {1e6 / rate:,.0f} | {rate / gather:.3f} |")

    seconds, identical = epoch_seconds(args.epoch_repeats, args.data_dir)
    print(f"\n## One mlp-fashion-deep epoch (training only, 1 thread), {args.epoch_repeats} repeats\n")
    print("| path | seconds (median, CPU) |")
    print("|---|---|")
    for name, values in seconds.items():
        print(f"| {name} | {statistics.median(values):.2f} |")
    ratios = [b / a for a, b in zip(seconds["archzoo, whole batches"], seconds["archzoo, per-example (before)"])]
    print(f"\nbefore / now, median of paired epochs: {statistics.median(ratios):.2f}x faster")
    print(f"every step's loss identical on both paths: {'yes' if identical else 'NO'}")


if __name__ == "__main__":
    main()
