"""The VQ-VAE beside the VAE on Fashion-MNIST, at one equal CPU-sized budget.

    python benchmarks/vqvae.py [--steps 500] [--threads 2]

Each model is trained from its preset (``vqvae-notes``: the notes' K = 512
codes of d = 64; ``vae-notes``: the notes' MLP VAE; ``vae-conv``: its
convolutional variant) for the same ``--steps`` optimizer steps at batch 128
(2% of the training images held out for validation, to keep its evaluations short),
seed 0, by archzoo's trainer, and its last weights are measured on the 10,000
test images, each the same way: the images through the ``sample`` hook's
``reconstruct`` mode (the VAE decodes its mean code), then

- ``mse``: squared error per pixel, on [0, 1] pixels;
- ``bce``: binary cross-entropy summed over pixels, per image (the VAE's
  ``reconstruction`` with the mean code instead of a sampled one);
- the VQ-VAE's codebook usage from its ``evaluate``: codes used on the test
  set and the perplexity exp(H) of their histogram (512 at most); the VAE's KL.

Runs go to benchmarks/results/vqvae/ (git-ignored); the figures (test images
above their reconstructions by each model, the VQ-VAE's decoded random codes
and its codebook view) to benchmarks/figures/vqvae-*.png.  One Markdown table.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import torch

from archzoo.checkpoints.io import load
from archzoo.evaluation.fid import real_images
from archzoo.inference.generation import image_grid
from archzoo.inference.sampling import sample_checkpoint
from archzoo.inference.views import ViewRequest, draw
from archzoo.toolkit.models import parameter_count
from archzoo.training.launch import train

HERE = Path(__file__).resolve().parent
RUNS = HERE / "results" / "vqvae"
FIGURES = HERE / "figures"
DATASET = "fashion-mnist"
PRESETS = ("vqvae-notes", "vae-notes", "vae-conv")
STEPS_PER_EPOCH = 460  # 58,800 training images (2% held out for validation) at batch 128
SHOWN = 10  # test images in the reconstruction figure


def trained(preset: str, steps: int) -> tuple[object, float, float]:
    """The run's result, its wall-clock seconds and this process's CPU seconds (steady on a shared machine)."""
    started, cpu = time.perf_counter(), time.process_time()
    overrides = {"max_steps": steps, "epochs": math.ceil(steps / STEPS_PER_EPOCH), "seed": 0, "val_fraction": 0.02}
    result = train(preset, overrides=overrides, out=RUNS / f"{preset}-{steps}", overwrite=True)
    return result, time.perf_counter() - started, time.process_time() - cpu


def reconstructions(loaded, images: torch.Tensor, info) -> torch.Tensor:
    """The model's reconstructions of ``images`` (in [0, 1]), through ``sample``'s reconstruct mode."""
    mean, std = torch.tensor(info.mean).view(1, -1, 1, 1), torch.tensor(info.std).view(1, -1, 1, 1)
    rebuilt = []
    for start in range(0, len(images), 256):
        batch = images[start : start + 256]
        result = sample_checkpoint(loaded, {"mode": "reconstruct", "inputs": (batch - mean) / std, "n": len(batch)})
        rebuilt.append(result.outputs["images"][len(batch) :])
    return torch.cat(rebuilt)


def scores(rebuilt: torch.Tensor, images: torch.Tensor) -> tuple[float, float]:
    """(mse per pixel, bce summed over pixels per image)."""
    mse = (rebuilt - images).pow(2).mean().item()
    p = rebuilt.clamp(1e-6, 1 - 1e-6)
    bce = -(images * p.log() + (1 - images) * (1 - p).log()).flatten(1).sum(dim=1).mean().item()
    return mse, bce


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=500, help="optimizer steps at batch 128 for every model")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    FIGURES.mkdir(parents=True, exist_ok=True)
    test = real_images(DATASET, "test")
    rows, shown = [], [test[:SHOWN]]
    for preset in PRESETS:
        result, seconds, cpu = trained(preset, args.steps)
        loaded = load(result.last_dir)
        rebuilt = reconstructions(loaded, test, loaded.info)
        mse, bce = scores(rebuilt, test)
        shown.append(rebuilt[:SHOWN])
        metrics = result.test_metrics
        if preset.startswith("vqvae"):
            usage = f"{metrics['codes_used']:.0f} / 512, perplexity {metrics['code_perplexity']:.1f}"
            extra = f"codebook term {metrics['codebook']:.2f}"
            samples = sample_checkpoint(loaded, {"n": 64, "seed": 0}).outputs["images"]
            image_grid(samples, columns=8).save(FIGURES / "vqvae-samples.png", optimize=True)
            (FIGURES / "vqvae-codebook.png").write_bytes(draw(loaded, "codebook", ViewRequest()).png)
        else:
            usage, extra = "-", f"KL {metrics['kl']:.2f}"
        rows.append(
            (
                preset,
                f"{parameter_count(loaded.model)[0]:,}",
                f"{seconds:.0f}",
                f"{cpu:.0f}",
                f"{mse:.4f}",
                f"{bce:.1f}",
                usage,
                extra,
            )
        )
    figure = torch.cat(shown)  # row 1: test images; then one row per model, in PRESETS order
    grid = image_grid(figure, columns=SHOWN)
    grid.resize((grid.width * 3, grid.height * 3), resample=0).save(  # 3x, nearest: pixels stay pixels
        FIGURES / "vqvae-reconstructions.png", optimize=True
    )
    print(
        f"### VQ-VAE and VAE on {DATASET}: {args.steps:,} steps at batch 128 each, seed 0, "
        f"{args.threads} threads; the 10,000 test images\n"
    )
    header = ("preset", "parameters", "wall s", "CPU s", "mse / pixel", "bce / image", "codes used (test)", "own term")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(
        "\nwall s and CPU s: training with its evaluations (validation each epoch, the test split at the end). "
        "Reconstructions through each model's sample hook (the VAE decodes its mean code). "
        f"Figures: {FIGURES / 'vqvae-reconstructions.png'} (rows: test images, then "
        + ", ".join(PRESETS)
        + "), vqvae-samples.png (codes drawn from the training histogram), vqvae-codebook.png.",
        flush=True,
    )


if __name__ == "__main__":
    main()
