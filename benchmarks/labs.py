"""The workshop's inductive-bias lab and its adversarial examples, on Fashion-MNIST:
an MLP and a CNN of (nearly) the same parameter count, tested on translated
images and under the FGSM attack.

    OMP_NUM_THREADS=1 python benchmarks/labs.py [--epochs 3] [--examples 2000] [--max-shift 6]

What it does, all through archzoo's own functions (the code ``archzoo report`` runs):

1. trains ``cnn-fashion`` (3 blocks of 2 x Conv-BN-ReLU at 16/32/64 channels, global
   average pooling, Linear(64, 10)) and an MLP 784-92-10 whose parameter count is within
   half a percent of it (the recipe of ``mlp-fashion``, Adam 1e-3, with 92 hidden units instead
   of 256), each with its recipe's optimizer at batch 128 for the same number of epochs
   (a CPU budget: the CNN costs about 45 s an epoch on one thread);
2. on the same fixed-seed sample of test images: accuracy under translation by 0 to
   ``--max-shift`` pixels (the mean over right, left, down and up;
   :func:`archzoo.evaluation.shift.translation_curve`) and under FGSM at
   ε = 0, 0.05, 0.1, 0.2, 0.3 in pixel units (:func:`archzoo.evaluation.adversarial.fgsm_curve`);
3. draws both curves of both models on one figure,
   ``benchmarks/figures/labs_mlp_vs_cnn.png`` (+ ``.json``), and the CNN's adversarial
   examples, ``benchmarks/figures/labs_fgsm_examples_cnn.png``.

Prints Markdown tables; quote them from one run.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from archzoo.api import train
from archzoo.checkpoints.io import load
from archzoo.evaluation import plots
from archzoo.evaluation.adversarial import EPSILONS, fgsm_curve
from archzoo.evaluation.logits import subset
from archzoo.evaluation.shift import translation_curve
from archzoo.inference.data import evaluation_data

HERE = Path(__file__).resolve().parent
FIGURES = HERE / "figures"
#: (label, preset or architecture, config overrides): the CNN recipe and an MLP sized to its parameter count.
MODELS = (
    ("cnn-fashion", "cnn-fashion", {}),
    ("mlp 784-92-10", "mlp-fashion", {"hidden": [92]}),
)


def measure(label, preset, config, args, store) -> dict:
    started = time.perf_counter()
    overrides = {**config, "epochs": args.epochs, "max_steps": args.max_steps}
    result = train(preset, dataset="fashion-mnist", overrides=overrides, out=f"{store}/{label.split()[0]}")
    trained = time.perf_counter() - started
    loaded = load(result.best_dir)
    parameters = sum(p.numel() for p in loaded.model.parameters())
    chosen, splits = evaluation_data(loaded, split="test")
    from torch.utils.data import DataLoader

    batches = DataLoader(subset(chosen, args.examples or None), batch_size=500, collate_fn=splits.collate)
    started = time.perf_counter()
    translation = translation_curve(loaded, batches, args.max_shift)
    shifted = time.perf_counter() - started
    started = time.perf_counter()
    attack = fgsm_curve(loaded, batches, EPSILONS)
    attacked = time.perf_counter() - started
    print(
        f"  {label}: {parameters:,} parameters, trained {args.epochs} epochs in {trained:.0f}s; translation curve "
        f"{shifted:.0f}s, FGSM {attacked:.0f}s",
        flush=True,
    )
    return {
        "label": label,
        "parameters": parameters,
        "epochs": args.epochs,
        "train_seconds": trained,
        "translation": translation.to_dict(),
        "attack": attack.to_dict(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=3, help="epochs for both models (the same budget)")
    parser.add_argument("--examples", type=int, default=2000, help="test images for both curves (0: all 10,000)")
    parser.add_argument("--max-shift", type=int, default=6, help="largest translation, in pixels")
    parser.add_argument("--max-steps", type=int, default=0, help="cap every run's steps (a quick smoke run; 0: none)")
    args = parser.parse_args()

    import tempfile

    with tempfile.TemporaryDirectory() as store:
        runs = [measure(label, preset, config, args, store) for label, preset, config in MODELS]

    cnn, mlp = runs
    device = "cuda" if torch.cuda.is_available() else f"CPU, {torch.get_num_threads()} thread(s)"
    ratio = mlp["parameters"] / cnn["parameters"] - 1
    print(f"\n## MLP against CNN under translation and FGSM ({device}, torch {torch.__version__})\n")
    print(
        f"Fashion-MNIST, {args.epochs} epochs each, batch 128; parameters: CNN {cnn['parameters']:,}, MLP "
        f"{mlp['parameters']:,} ({ratio:+.1%}); curves on the same {cnn['translation']['examples']:,} test images.\n"
    )
    shifts = cnn["translation"]["strengths"]
    print(
        "| model | parameters | train s | "
        + " | ".join(f"{s:g} px" for s in shifts)
        + " | kept at 2 px | kept at 4 px |"
    )
    print("|---|---|---|" + "---|" * (len(shifts) + 2))
    for r in runs:
        acc = r["translation"]["accuracy"]
        kept = [f"{acc[d] / acc[0]:.1%}" if d < len(acc) else "n/a" for d in (2, 4)]
        print(
            f"| {r['label']} | {r['parameters']:,} | {r['train_seconds']:.0f} | "
            + " | ".join(f"{a:.3f}" for a in acc)
            + f" | {kept[0]} | {kept[1]} |"
        )
    print("\nAccuracy under FGSM (ε in pixel units, pixels in [0, 1]):\n")
    print("| model | " + " | ".join(f"ε = {e:g}" for e in EPSILONS) + " |")
    print("|---|" + "---|" * len(EPSILONS))
    for r in runs:
        print(f"| {r['label']} | " + " | ".join(f"{a:.3f}" for a in r["attack"]["fgsm"]["accuracy"]) + " |")

    FIGURES.mkdir(exist_ok=True)
    curves = {
        f"{r['label']} ({r['parameters']:,} parameters)": {"translation": r["translation"], "fgsm": r["attack"]["fgsm"]}
        for r in runs
    }
    title = f"Fashion-MNIST, {args.epochs} epochs each: MLP vs CNN of the same size"
    plots.save(
        plots.shift_figure(curves, kinds=("translation", "fgsm"), title=title),
        {"models": curves, "epochs": args.epochs},
        FIGURES,
        "labs_mlp_vs_cnn",
    )
    plots.save(
        plots.fgsm_figure(cnn["attack"], title="cnn-fashion: adversarial examples (FGSM)"),
        cnn["attack"],
        FIGURES,
        "labs_fgsm_examples_cnn",
    )
    summary = [{k: v for k, v in r.items() if k != "attack"} | {"fgsm": r["attack"]["fgsm"]} for r in runs]
    (FIGURES / "labs_summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(f"\nfigures in {FIGURES}")


if __name__ == "__main__":
    main()
