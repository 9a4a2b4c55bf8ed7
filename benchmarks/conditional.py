"""Class-conditional generation on Fashion-MNIST: the cGAN (notes 8.5) and the DDPM with
classifier-free guidance (notes 10.7).

    python benchmarks/conditional.py [--gan-steps 600] [--ddpm-steps 400] [--samples 200] [--ddim-steps 20]
                                     [--threads 2] [--retrain]

What it measures, in one run:

1. per-class samples of both models, one row per class (``benchmarks/figures/conditional.png``);
2. for the guided DDPM at guidance weights w = 0, 1, 3, 7 (eq. 10.22, the notes' list) and for
   the cGAN: FID-fashion-mnist (archzoo's Frechet distance in the features of its shipped
   ``cnn-fashion`` classifier; **not** the Inception FID) of ``--samples`` images against the
   10,000 test images, and the accuracy of that same classifier (trained on real
   Fashion-MNIST, 0.926 on its test split) on the samples: is a sample of "Sandal" read as a
   sandal?  The same ``--samples`` images, the classes in turn, the same seeds, for every w;
3. that accuracy per class, for the cGAN and each w.

The budget is CPU-sized (about 20 minutes in all on two cores shared with other work), far
below the presets' 20-25 epochs: ``--ddpm-steps`` optimizer steps of ``ddpm-fashion-guided`` at
batch 128 in bf16 with Adam at 1e-3 (five times the preset's 2e-4, for so few steps) and ``--gan-steps`` of
``cgan-fashion`` at batch 128 (its own 2e-4), each from seed 0 and without a validation split
(the per-epoch evaluation of 6,000 images would cost more than the training), sampling with
DDIM in ``--ddim-steps`` steps.  The numbers show the trend the notes describe (guidance trades
diversity for adherence to the class), not the quality of a fully trained model.  Trained runs
are kept in benchmarks/results/conditional/ (git-ignored) and reused unless ``--retrain``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import torch
from PIL import Image

from archzoo.checkpoints.io import load
from archzoo.checkpoints.layout import is_checkpoint
from archzoo.evaluation import fid
from archzoo.inference.generation import image_grid
from archzoo.inference.sampling import sample_checkpoint
from archzoo.training.launch import train

HERE = Path(__file__).resolve().parent
RUNS = HERE / "results" / "conditional"
FIGURE = HERE / "figures" / "conditional.png"
DATASET = "fashion-mnist"
METRIC = fid.metric_name(DATASET)
WEIGHTS = (0.0, 1.0, 3.0, 7.0)  # the notes' guidance weights
STEPS_PER_EPOCH = 422  # 54,000 training images at batch 128


def table(header: tuple[str, ...], rows: list[tuple]) -> None:
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")
    print(flush=True)


def trained(preset: str, steps: int, retrain: bool, **overrides) -> tuple[Path, float]:
    """The last checkpoint of ``preset`` after ``steps`` optimizer steps from seed 0, and the training seconds."""
    out = RUNS / f"{preset}-{steps}"
    record = out / "benchmark.json"
    if not retrain and is_checkpoint(out / "last") and record.is_file():
        return out / "last", json.loads(record.read_text())["seconds"]
    started = time.perf_counter()
    settings = {
        "max_steps": steps,
        "epochs": math.ceil(steps / STEPS_PER_EPOCH),
        "seed": 0,
        "val_fraction": 0.0,
        **overrides,
    }
    train(preset, overrides=settings, out=out, overwrite=True)
    seconds = time.perf_counter() - started
    record.write_text(json.dumps({"seconds": seconds, "steps": steps, **overrides}))
    return out / "last", seconds


def draw(loaded, n: int, chunk: int = 100, **request) -> torch.Tensor:
    """``n`` images, every class in turn (image i of class i mod 10), in chunks with seeds 1000, 1001, ..."""
    images = []
    for i, start in enumerate(range(0, n, chunk)):
        result = sample_checkpoint(loaded, {"n": min(chunk, n - start), "seed": 1000 + i, **request})
        images.append(result.outputs["images"])
    return torch.cat(images)


def classified(images: torch.Tensor) -> torch.Tensor:
    """The shipped Fashion-MNIST classifier's class for each image in [0, 1]."""
    loaded = fid.feature_model(DATASET)
    mean = torch.tensor(loaded.info.mean).view(1, -1, 1, 1)
    std = torch.tensor(loaded.info.std).view(1, -1, 1, 1)
    with torch.no_grad():
        return torch.cat([loaded.model.eval()((b - mean) / std).argmax(1) for b in images.split(500)])


def per_class_rows(loaded, n_classes: int, rows: int = 10, **request) -> torch.Tensor:
    """``rows`` samples of each class, one row of the figure per class."""
    return torch.cat(
        [
            sample_checkpoint(loaded, {"n": rows, "seed": 7, "class": c, **request}).outputs["images"]
            for c in range(n_classes)
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gan-steps", type=int, default=600)
    parser.add_argument("--ddpm-steps", type=int, default=400)
    parser.add_argument("--samples", type=int, default=200, help="images per model and guidance weight")
    parser.add_argument("--ddim-steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--retrain", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    RUNS.mkdir(parents=True, exist_ok=True)

    gan_path, gan_seconds = trained("cgan-fashion", args.gan_steps, args.retrain)
    ddpm_path, ddpm_seconds = trained(
        "ddpm-fashion-guided", args.ddpm_steps, args.retrain, mixed_precision="bf16", lr=1e-3
    )
    gan, ddpm = load(gan_path), load(ddpm_path)
    names = list(gan.info.class_names)
    k = len(names)
    print(f"### Class-conditional generation on {DATASET}\n")
    print(
        f"Budget: cgan-fashion {args.gan_steps:,} steps at batch 128 ({gan_seconds / 60:.1f} min), "
        f"ddpm-fashion-guided (label dropout 0.1) {args.ddpm_steps:,} steps at batch 128, Adam 1e-3, bf16 "
        f"({ddpm_seconds / 60:.1f} min), seed 0; {args.samples} samples per row (the classes in turn), DDIM "
        f"{args.ddim_steps} steps; {METRIC} against the 10,000 test images, and the accuracy of the shipped "
        "cnn-fashion classifier (0.926 on real test images) on the samples. "
        f"{METRIC} is not the Inception FID.\n"
    )
    real_stats = fid.statistics(fid.features(fid.real_images(DATASET, "test")))
    wanted = torch.arange(args.samples) % k
    results: list[tuple[str, float, torch.Tensor, float]] = []
    started = time.perf_counter()
    images = draw(gan, args.samples)
    results.append(("cgan", fid.frechet_distance(real_stats, fid.statistics(fid.features(images))),
                    classified(images), time.perf_counter() - started))  # fmt: skip
    for w in WEIGHTS:
        started = time.perf_counter()
        images = draw(ddpm, args.samples, steps=args.ddim_steps, guidance=w)
        score = fid.frechet_distance(real_stats, fid.statistics(fid.features(images)))
        results.append((f"ddpm, w = {w:g}", score, classified(images), time.perf_counter() - started))
    table(
        ("model", f"{METRIC} (n={args.samples})", "class accuracy", "sampling s"),
        [(m, f"{s:.2f}", f"{(p == wanted).float().mean():.3f}", f"{t:.0f}") for m, s, p, t in results],
    )
    print("#### Accuracy per class (the classifier's reading of each requested class)\n")
    table(
        ("class", *(m for m, *_ in results)),
        [(names[c], *(f"{(p[wanted == c] == c).float().mean():.2f}" for _, _, p, _ in results)) for c in range(k)],
    )

    panels = [per_class_rows(gan, k)] + [per_class_rows(ddpm, k, steps=args.ddim_steps, guidance=w) for w in (0.0, 3.0)]
    grids = [image_grid(p, columns=10) for p in panels]
    figure = Image.new("L", (sum(g.width for g in grids) + 16 * (len(grids) - 1), grids[0].height), 255)
    for i, grid in enumerate(grids):
        figure.paste(grid, (i * (grid.width + 16), 0))
    FIGURE.parent.mkdir(parents=True, exist_ok=True)
    figure.save(FIGURE, optimize=True)
    print(
        f"figure: {FIGURE.relative_to(HERE.parent)} (one row per class, {', '.join(names)}; "
        "panels: cgan, ddpm w = 0, ddpm w = 3)"
    )


if __name__ == "__main__":
    main()
