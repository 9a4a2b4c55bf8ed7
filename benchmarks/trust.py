"""Beyond accuracy (issue #8): calibration, out-of-distribution detection and
rotation robustness of the lecture notes' Fashion-MNIST MLP and CNN.

    OMP_NUM_THREADS=1 python benchmarks/trust.py [--mlp-epochs 10] [--cnn-epochs 3] [--shift-examples 2000]

What it does, all through archzoo's own functions (``archzoo.evaluation.trust.assess``,
the same code ``archzoo report`` runs):

1. trains ``mlp-fashion`` (784-256-10) and ``cnn-fashion`` (16/32/64 channels)
   on Fashion-MNIST for the stated number of epochs (the budget: the CNN costs
   about 45 s an epoch on one CPU thread, so it gets fewer than its recipe's 10);
2. for each: test accuracy with its 95% interval; ECE and NLL on the test
   split before and after temperature scaling fitted on the validation split;
   MSP and energy AUROC / FPR at 95% TPR against the MNIST test set;
3. the reverse direction: an MLP trained on MNIST digits against Fashion-MNIST
   as the foreign set.  Only MNIST's 10k test file is on these machines
   (``../shared/data/mnist-t10k``), so the benchmark cuts it, with a fixed
   seed, into 8,000 images to train on (10% of them for validation) and
   2,000 held-out test images, written as IDX files in a temporary folder;
4. rotation curves (0 to 90 degrees in steps of 15) of the MLP and the CNN on
   the same fixed-seed sample of test images, drawn on one plot:
   ``benchmarks/figures/rotation_mlp_vs_cnn.png`` (+ ``.json``), with the MLP's
   reliability diagram and OOD figure beside it.

Prints Markdown tables; quote them from one run.
"""

from __future__ import annotations

import argparse
import gzip
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from archzoo.api import train
from archzoo.evaluation import plots
from archzoo.evaluation.trust import assess

HERE = Path(__file__).resolve().parent
FIGURES = HERE / "figures"
MNIST_T10K = HERE.parent.parent / "shared" / "data" / "mnist-t10k"


def write_idx(path: Path, array: np.ndarray) -> None:
    """An uint8 array as a gzip IDX file (magic 0x08 = unsigned byte)."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


def mnist_split_folder(source: Path, folder: Path, n_test: int = 2000, seed: int = 0) -> Path:
    """MNIST's test file cut into train-* (8,000) and t10k-* (2,000) IDX files."""
    from archzoo.data.images import read_idx

    images = read_idx(source / "t10k-images-idx3-ubyte.gz")
    labels = read_idx(source / "t10k-labels-idx1-ubyte.gz")
    order = np.random.default_rng(seed).permutation(len(labels))
    test, rest = order[:n_test], order[n_test:]
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, idx in (("train", rest), ("t10k", test)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images[idx])
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels[idx])
    return folder


def run(
    name: str,
    preset: str,
    epochs: int,
    store: str,
    *,
    dataset: str | None = None,
    data_dir: Path | None = None,
    ood_data_dir: Path | None = None,
    shift_examples: int = 2000,
    max_steps: int = 0,
) -> dict:
    started = time.perf_counter()
    result = train(
        preset,
        dataset=dataset,
        overrides={"epochs": epochs, "max_steps": max_steps},
        out=f"{store}/{name}",
        data_dir=data_dir,
    )
    trained = time.perf_counter() - started
    started = time.perf_counter()
    assessment = assess(result.best_dir, data_dir=data_dir, ood_data_dir=ood_data_dir, shift_examples=shift_examples)
    assessed = time.perf_counter() - started
    print(
        f"  {name}: trained {epochs} epochs in {trained:.0f}s, assessed in {assessed:.0f}s; notes: {assessment.notes}",
        flush=True,
    )
    return {
        "name": name,
        "preset": preset,
        "epochs": epochs,
        "train_seconds": trained,
        "assess_seconds": assessed,
        "assessment": assessment,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mlp-epochs", type=int, default=10)
    parser.add_argument("--cnn-epochs", type=int, default=3)
    parser.add_argument(
        "--shift-examples", type=int, default=2000, help="test images for the rotation and noise curves (0: all)"
    )
    parser.add_argument("--mnist-t10k", type=Path, default=MNIST_T10K)
    parser.add_argument("--max-steps", type=int, default=0, help="cap every run's steps (a quick smoke run; 0: no cap)")
    args = parser.parse_args()
    shift_examples = args.shift_examples or None
    common = {"shift_examples": shift_examples, "max_steps": args.max_steps}

    runs = []
    with tempfile.TemporaryDirectory() as store:
        mnist_dir = mnist_split_folder(args.mnist_t10k, Path(store) / "mnist-split")
        runs.append(run("mlp-fashion", "mlp-fashion", args.mlp_epochs, store, ood_data_dir=args.mnist_t10k, **common))
        runs.append(run("cnn-fashion", "cnn-fashion", args.cnn_epochs, store, ood_data_dir=args.mnist_t10k, **common))
        runs.append(
            run("mlp-mnist", "mlp-fashion", args.mlp_epochs, store, dataset="mnist", data_dir=mnist_dir, **common)
        )

    device = "cuda" if torch.cuda.is_available() else f"CPU, {torch.get_num_threads()} thread(s)"
    print(f"\n## Trust benchmark ({device}, torch {torch.__version__})\n")
    print(
        "| model | trained on | epochs | test accuracy (95% CI) | T | ECE before | ECE after | NLL before | NLL after "
        "| ECE lower after |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        s = r["assessment"].summary()
        c = s["calibration"]
        low, high = s["accuracy_ci95"]
        print(
            f"| {r['name']} | {s['dataset']} | {r['epochs']} | {s['accuracy']:.4f} ({low:.4f}-{high:.4f}) | "
            f"{c['temperature']:.3f} | "
            f"{c['ece_before']:.4f} | {c['ece_after']:.4f} | {c['nll_before']:.4f} | {c['nll_after']:.4f} | "
            f"{'yes' if c['ece_after'] < c['ece_before'] else 'NO'} |"
        )
    print(
        "\n| model | in-distribution | out-of-distribution | MSP AUROC | MSP FPR@95%TPR | energy AUROC | energy "
        "FPR@95%TPR |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in runs:
        o = r["assessment"].summary()["ood"]
        print(
            f"| {r['name']} | {r['assessment'].dataset} ({r['assessment'].classes['examples']:,}) | {o['dataset']} "
            f"({o['examples']:,}) | "
            f"{o['msp_auroc']:.4f} | {o['msp_fpr95']:.4f} | {o['energy_auroc']:.4f} | {o['energy_fpr95']:.4f} |"
        )
    fashion = [r for r in runs if r["assessment"].dataset == "fashion-mnist"]
    angles = fashion[0]["assessment"].shift["rotation"]["strengths"]
    print(
        f"\nRotation (accuracy on the same {fashion[0]['assessment'].shift['rotation']['examples']:,} Fashion-MNIST "
        "test images):\n"
    )
    print("| model | " + " | ".join(f"{a:g}°" for a in angles) + " | kept at 15° | kept at 45° |")
    print("|---|" + "---|" * (len(angles) + 2))
    for r in fashion:
        acc = r["assessment"].shift["rotation"]["accuracy"]
        print(
            f"| {r['name']} | "
            + " | ".join(f"{a:.3f}" for a in acc)
            + f" | {acc[1] / acc[0]:.1%} | {acc[3] / acc[0]:.1%} |"
        )
    print(
        "\n| model | " + " | ".join(f"noise {x:g}" for x in fashion[0]["assessment"].shift["noise"]["strengths"]) + " |"
    )
    print("|---|" + "---|" * len(fashion[0]["assessment"].shift["noise"]["strengths"]))
    for r in fashion:
        print(f"| {r['name']} | " + " | ".join(f"{a:.3f}" for a in r["assessment"].shift["noise"]["accuracy"]) + " |")
    print("\n| model | verdict | reasons |")
    print("|---|---|---|")
    for r in runs:
        v = r["assessment"].verdict()
        print(f"| {r['name']} | {v['verdict']} | {'; '.join(v['reasons'])} |")

    # Figures: the rotation curves of both Fashion-MNIST models on one plot, and the MLP's calibration and OOD pictures.
    FIGURES.mkdir(exist_ok=True)
    curves = {f"{r['name']} ({r['epochs']} epochs)": {"rotation": r["assessment"].shift["rotation"]} for r in fashion}
    plots.save(
        plots.shift_figure(curves, kinds=("rotation",), title="Fashion-MNIST under rotation: MLP vs CNN"),
        {"models": curves},
        FIGURES,
        "rotation_mlp_vs_cnn",
    )
    mlp = fashion[0]["assessment"]
    cal = mlp.calibration
    plots.save(
        plots.reliability_diagram(
            cal["test_before"], cal["test_after"], cal["temperature"], "mlp-fashion: reliability on the test split"
        ),
        {"before": cal["test_before"], "after": cal["test_after"], "temperature": cal["temperature"]},
        FIGURES,
        "reliability_mlp_fashion",
    )
    plots.save(
        plots.ood_figure("fashion-mnist", "mnist", mlp.ood["scores"], "mlp-fashion: Fashion-MNIST (in) vs MNIST (out)"),
        mlp.ood,
        FIGURES,
        "ood_mlp_fashion_vs_mnist",
    )
    (FIGURES / "trust_summary.json").write_text(
        json.dumps(
            [
                {
                    "name": r["name"],
                    "epochs": r["epochs"],
                    "train_seconds": r["train_seconds"],
                    "summary": r["assessment"].summary(),
                    "verdict": r["assessment"].verdict()["verdict"],
                }
                for r in runs
            ],
            indent=1,
        )
        + "\n"
    )
    print(f"\nfigures in {FIGURES}")


if __name__ == "__main__":
    main()
