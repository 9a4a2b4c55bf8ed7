"""The classic architectures: parameter counts, the perceptron on AND/OR/XOR,
linear classifiers on the 2-D sets, the GNN against its features-only
baseline over 5 seeds, and (with --resnet, slow on a CPU) the small ResNet
on Fashion-MNIST against the public benchmark's ResNet18 at 0.949.

    python benchmarks/classic.py [--resnet] [--resnet-only] [--resnet-epochs N] [--threads N] [--data-dir DIR]

The tiny models run on one thread (on a busy 2-core machine that is several
times faster than two); --threads sets the ResNet's.

Every number comes from archzoo itself: counts from the registry's own
models (as ``archzoo info`` computes them), accuracies from runs of the
presets through the trainer (best-validation checkpoint, test split).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch

from archzoo.checkpoints.io import load
from archzoo.registry.host import get_host
from archzoo.registry.plans import fill_from_data, plan_run
from archzoo.runs import events
from archzoo.toolkit.models import parameter_count
from archzoo.training.launch import train

ARCHITECTURES = ("perceptron", "logistic", "linear-svm", "resnet", "vit", "gnn")
PRESETS = (
    "perceptron-and",
    "perceptron-or",
    "perceptron-xor",
    "logistic-moons",
    "linear-svm-moons",
    "resnet8-fashion",
    "resnet18-transfer-fashion",
    "vit-patch7-fashion",
    "gnn-sbm",
    "gnn-features-only",
)
SEEDS = (0, 1, 2, 3, 4)
RESNET18_PUBLIC = 0.949  # the Fashion-MNIST benchmark's ResNet18 entry


def table(header: tuple[str, ...], rows: list[tuple]) -> None:
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")
    print()


def counted(name: str) -> tuple[str, int]:
    """(dataset, parameters) of an architecture or preset, built on its dataset's declared shape."""
    host = get_host()
    plan = plan_run(name, host=host)
    config = fill_from_data(plan.config, host.datasets[plan.dataset])
    return plan.dataset, parameter_count(host.hooks(plan.spec).build_model(config))[0]


def parameter_counts() -> None:
    print("### Parameter counts (computed by the registry)\n")
    host = get_host()
    rows = []
    for name in ARCHITECTURES + PRESETS:
        dataset, n = counted(name)
        declared = host.architectures[name].parameters if name in host.architectures else None
        rows.append(
            (name, dataset, f"{n:,}", "-" if declared is None else ("yes" if declared == n else f"NO ({declared:,})"))
        )
    table(("architecture / preset", "dataset", "parameters", "matches ArchSpec.parameters"), rows)


def perceptron(store: str) -> None:
    print("### Perceptron: Rosenblatt's rule, at most 20 passes\n")
    rows = []
    for gate in ("and", "or", "xor"):
        result = train(f"perceptron-{gate}", out=f"{store}/perceptron-{gate}")
        model = load(result.best_dir).model
        w, b = model.linear.weight[0].tolist(), model.linear.bias.item()
        first = next((h["epoch"] for h in result.history if h["validation"]["converged"] == 1.0), None)
        mistakes = [round(h["train"]["mistakes"]) for h in result.history]
        rows.append(
            (
                gate,
                "yes" if result.val_metrics["converged"] == 1.0 else "no (not linearly separable)",
                first or "-",
                f"w = ({w[0]:.3g}, {w[1]:.3g}), b = {b:.3g}",
                f"{result.test_metrics['accuracy']:.3f}",
                " ".join(map(str, mistakes[:10])) + (" ..." if len(mistakes) > 10 else ""),
            )
        )
    table(
        (
            "dataset",
            "converged",
            "first clean epoch",
            "weights (best checkpoint)",
            "test accuracy",
            "mistakes per epoch",
        ),
        rows,
    )


def linear_models(store: str) -> None:
    print("### Linear classifiers on the 2-D sets (one seed; test accuracy)\n")
    rows = []
    for preset in ("logistic-moons", "linear-svm-moons"):
        for dataset in ("moons", "xor", "spirals"):
            result = train(preset, dataset=dataset, out=f"{store}/{preset}-{dataset}")
            rows.append((preset, dataset, f"{result.test_metrics['accuracy']:.3f}"))
    table(("preset", "dataset", "test accuracy"), rows)


def gnn(store: str) -> None:
    print(
        f"### GNN vs features-only MLP on sbm ({len(SEEDS)} seeds; test accuracy of the best-validation checkpoint)\n"
    )
    variants = [
        ("gnn-features-only", {}, "features-only MLP"),
        ("gnn-sbm", {}, "GNN, mean aggregation"),
        ("gnn-sbm", {"aggregation": "sum"}, "GNN, sum aggregation"),
        ("gnn-sbm", {"aggregation": "max"}, "GNN, max aggregation"),
    ]
    rows = []
    for preset, extra, label in variants:
        accuracies, seconds = [], []
        for seed in SEEDS:
            started = time.perf_counter()
            result = train(
                preset,
                overrides={**extra, "seed": seed},
                out=f"{store}/{preset}-{label}-{seed}".replace(" ", "_").replace(",", ""),
            )
            accuracies.append(result.test_metrics["accuracy"])
            seconds.append(time.perf_counter() - started)
        _, n = counted(preset)
        rows.append(
            (
                label,
                f"{n:,}",
                " ".join(f"{a:.3f}" for a in accuracies),
                f"{statistics.mean(accuracies):.3f} +- {statistics.stdev(accuracies):.3f}",
                f"{statistics.mean(seconds):.1f}",
            )
        )
    table(("model", "parameters", "test accuracy per seed", "mean +- sd", "s / run"), rows)


def resnet(store: str, epochs: int | None, data_dir: str | None) -> None:
    print("### Small ResNet (resnet8-fashion) on Fashion-MNIST\n")
    seen: list = []

    def on_event(event):
        if isinstance(event, (events.RunStarted, events.EpochEnded)):
            seen.append(event)
        if isinstance(event, events.EpochEnded):
            print(f"  epoch {event.epoch}: val {event.val_metrics} ({event.seconds:.1f}s)", flush=True)

    overrides = {"epochs": epochs} if epochs else {}
    result = train("resnet8-fashion", overrides=overrides, out=f"{store}/resnet8", data_dir=data_dir, on_event=on_event)
    started = next(e for e in seen if isinstance(e, events.RunStarted))
    per_epoch = [e.seconds for e in seen if isinstance(e, events.EpochEnded)]
    print()
    table(
        ("model", "parameters", "epochs", "s / epoch", "test accuracy", "public ResNet18"),
        [
            (
                "resnet8-fashion",
                f"{started.parameters:,}",
                len(per_epoch),
                f"{statistics.mean(per_epoch):.1f}",
                f"{result.test_metrics['accuracy']:.4f}",
                RESNET18_PUBLIC,
            )
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--resnet", action="store_true", help="also train resnet8-fashion on Fashion-MNIST (slow on a CPU)"
    )
    parser.add_argument(
        "--resnet-epochs", type=int, default=None, help="epochs for --resnet (default: the preset's 10)"
    )
    parser.add_argument("--resnet-only", action="store_true", help="only the ResNet run")
    parser.add_argument(
        "--threads",
        type=int,
        default=torch.get_num_threads(),
        help="torch threads for the ResNet run (the tiny models use one)",
    )
    parser.add_argument("--data-dir", default=None, help="where Fashion-MNIST is, for --resnet")
    args = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "CPU"
    print(f"archzoo classic architectures ({device}, torch {torch.__version__})\n")
    with tempfile.TemporaryDirectory() as store:
        if not args.resnet_only:
            torch.set_num_threads(1)
            parameter_counts()
            perceptron(store)
            linear_models(store)
            gnn(store)
        if args.resnet or args.resnet_only:
            torch.set_num_threads(args.threads)
            print(f"(ResNet on {torch.get_num_threads()} thread(s))\n")
            resnet(store, args.resnet_epochs, args.data_dir)


if __name__ == "__main__":
    main()
