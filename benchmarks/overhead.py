"""Framework overhead: archzoo's trainer against a plain PyTorch loop.

Same model (the lecture notes' MLP 784-256-128-10), same Fashion-MNIST training
split, same seed, same data order, Adam 1e-3, batch 128, no clipping.  The
plain loops take their batches the fastest way a person writes by hand
(indexing the tensors with each batch of indices), so archzoo is measured
against the best loop, not against a DataLoader fetching example by example.  All
loops are timed the same way: from the end of one step to the end of the next,
so data loading counts for all and evaluation / checkpointing for none.

Two plain loops: one that computes the loss only, and one that also counts
the batch's correct predictions, the training accuracy archzoo's default
classification step reports on every step.  The second does the same work as
archzoo, so archzoo / that loop is the framework's own overhead (hook
dispatch, step context, Accelerate, progress events); archzoo / the first
adds the cost of the accuracy itself.  Both ratios are printed.  A fourth
loop runs the loss-only plain loop again: two identical loops still differ
(the tensors land at other addresses, the host drifts), and their ratio is
the floor under which a difference means nothing.

Prints whether the loss sequences are identical and the median throughput of
each loop over repetitions (each repeat runs all four, the order rotating
from one repeat to the next), the medians of the paired ratios, and the
ratio of the loops' median step times over all repeats (bursts of a busy
host slow some steps of every loop; the median step ignores them).

    python benchmarks/overhead.py [--epochs 1] [--repeats 5] [--data-dir DIR]
    python benchmarks/overhead.py --repeats 120 --max-steps 100   # a host whose speed drifts
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch
import torch.nn.functional as F

from archzoo.api import fill_from_data, plan_run, train
from archzoo.data import DataOptions, load_dataset
from archzoo.registry.host import get_host
from archzoo.runs import events

# archzoo reads its step metrics every log_every (10) steps, as it does by default; the plain
# loops call .item() every step, as a loop written by hand does.
OVERRIDES = {"grad_clip": "0", "val_fraction": "0.1", "weight_decay": "0", "schedule": "constant"}


class PlainLoop:
    """The loop a PyTorch user writes by hand, a step at a time; with ``count_hits``
    it also counts correct predictions."""

    def __init__(self, config, seed: int, lr: float, count_hits: bool = False) -> None:
        torch.manual_seed(seed)
        self.model = get_host().hooks("mlp").build_model(config)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=lr)
        self.count_hits = count_hits
        self.losses: list[float] = []
        self.hits = 0

    def step(self, inputs: torch.Tensor, labels: torch.Tensor) -> None:
        logits = self.model(inputs)
        loss = F.cross_entropy(logits, labels)
        loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.losses.append(loss.item())
        if self.count_hits:
            self.hits += (logits.argmax(dim=1) == labels).sum().item()


def epoch_batches(splits, seed: int, batch_size: int, epochs: int):
    """The batches in archzoo's order (shuffled by seed + epoch), taken the fastest way
    by hand: the tensors indexed with each batch of indices, not a DataLoader that
    fetches example by example.  The shuffle happens when an epoch's first batch is
    asked for, as in the trainer."""
    x, y = splits.train.tensors
    for epoch in range(epochs):
        order = torch.randperm(len(splits.train), generator=torch.Generator().manual_seed(seed + epoch))
        for indices in order.split(batch_size):
            yield x[indices], y[indices]


def plain_loop(
    splits, config, epochs: int, seed: int, batch_size: int, lr: float, count_hits: bool = False, max_steps: int = 0
):
    """The plain loop on its own: (losses, examples per second, each step's seconds)."""
    loop = PlainLoop(config, seed, lr, count_hits)
    examples, step_seconds = 0, []
    tick = time.perf_counter()
    for inputs, labels in epoch_batches(splits, seed, batch_size, epochs):
        loop.step(inputs, labels)
        now = time.perf_counter()
        step_seconds.append(now - tick)
        examples += len(inputs)
        tick = now
        if max_steps and len(loop.losses) == max_steps:
            break
    return loop.losses, examples / sum(step_seconds), step_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument(
        "--max-steps",
        type=int,
        default=0,
        help="stop each loop after this many steps (0: whole epochs); short runs and many repeats "
        "put the loops' paired runs closer in time, for a host whose speed drifts",
    )
    args = parser.parse_args()

    plan = plan_run("mlp-fashion-deep", overrides=OVERRIDES)
    tc = plan.train_config
    splits = load_dataset("fashion-mnist", DataOptions(data_dir=args.data_dir, val_fraction=tc.val_fraction))
    config = fill_from_data(plan.config, splits.info)
    n = len(splits.train)

    # "plain, again" is the same plain loop once more: how far two identical loops
    # differ (memory layout, the host) is the floor under which a ratio means nothing.
    rates: dict[str, list[float]] = {"plain": [], "plain + accuracy": [], "archzoo": [], "plain, again": []}
    steps: dict[str, list[float]] = {name: [] for name in rates}  # every step's seconds, all repeats
    identical = []
    with tempfile.TemporaryDirectory() as store:
        for repeat in range(args.repeats):
            seen: list = []
            results: dict[str, object] = {}

            def on_event(event, seen=seen):
                if isinstance(event, events.StepEnded):
                    seen.append(event)

            def run(name, repeat=repeat, on_event=on_event, seen=seen, results=results):
                if name == "archzoo":
                    results[name] = train(
                        "mlp-fashion-deep",
                        overrides={**OVERRIDES, "epochs": str(args.epochs), "max_steps": str(args.max_steps)},
                        out=f"{store}/run{repeat}",
                        data_dir=args.data_dir,
                        on_event=on_event,
                    )
                    # examples_per_second of each step = batch length / (time since the previous step ended)
                    # Each report covers the steps since the one before (log_every of them): its
                    # examples_per_second is their examples over their time, data loading included.
                    step_sizes = _step_sizes(n, tc.batch_size, args.epochs)[: args.max_steps or None]
                    step_seconds, done = [], 0
                    for e in seen:
                        sizes = step_sizes[done : e.step]
                        seconds = sum(sizes) / e.examples_per_second
                        step_seconds += [seconds / len(sizes)] * len(sizes)
                        done = e.step
                    steps[name].extend(step_seconds)
                    return sum(step_sizes) / sum(step_seconds)
                losses, rate, step_seconds = plain_loop(
                    splits,
                    config,
                    args.epochs,
                    tc.seed,
                    tc.batch_size,
                    tc.lr,
                    count_hits=name == "plain + accuracy",
                    max_steps=args.max_steps,
                )
                steps[name].extend(step_seconds)
                results[name] = losses
                return rate

            # Rotate the order, so that whatever favours the first (or the last) run of a
            # repeat (caches, the allocator, the CPU's clock) favours each loop alike.
            names = list(rates)
            for name in names[repeat % len(names) :] + names[: repeat % len(names)]:
                rates[name].append(run(name))
            archzoo_losses = results["archzoo"].step_losses
            identical.append(
                archzoo_losses == results["plain"] == results["plain + accuracy"] == results["plain, again"]
            )
            print(
                f"repeat {repeat + 1}: "
                + ", ".join(f"{k} {v[-1]:,.0f} ex/s" for k, v in rates.items())
                + f", identical losses: {identical[-1]}",
                flush=True,
            )

    print()
    print("| loop | median examples/s of the repeats | median step (us) | steps | loss sequence |")
    print("|---|---|---|---|---|")
    for name, values in rates.items():
        same = "reference" if name == "plain" else "identical" if all(identical) else "DIFFERENT"
        print(
            f"| {name} | {statistics.median(values):,.0f} | {1e6 * statistics.median(steps[name]):,.0f} "
            f"| {len(archzoo_losses)} | {same} |"
        )
    print()
    for loop, baseline, what in (
        ("archzoo", "plain + accuracy", "the same work (framework overhead)"),
        ("archzoo", "plain", "loss only"),
        ("plain, again", "plain", "the same loop twice: the floor"),
    ):
        paired = statistics.median(a / b for a, b in zip(rates[loop], rates[baseline]))
        medians = statistics.median(rates[loop]) / statistics.median(rates[baseline])
        per_step = statistics.median(steps[baseline]) / statistics.median(steps[loop])
        print(
            f"{loop} / {baseline} ({what}): median of the {args.repeats} paired ratios {paired:.3f}, "
            f"ratio of medians {medians:.3f}, ratio of median step times {per_step:.3f}"
        )
    print("target: archzoo >= 0.97 of the plain loop")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {n:,} training images, batch {tc.batch_size}")


def _step_sizes(n: int, batch: int, epochs: int) -> list[int]:
    per_epoch = [batch] * (n // batch) + ([n % batch] if n % batch else [])
    return per_epoch * epochs


if __name__ == "__main__":
    main()
