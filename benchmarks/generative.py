"""Issue #6: the generative plugins on Fashion-MNIST.

    python benchmarks/generative.py [--steps 1000] [--fid-samples 1000] [--compare-samples 128] [--ddpm-preset P]
                                    [--sweep-epochs 3] [--threads 2] [--retrain] [--skip-sweep]

What it measures, in one run:

1. parameter counts of the notes' models, built by the registry;
2. FID-fashion-mnist (archzoo's own Frechet distance in the features of the
   shipped ``cnn-fashion`` classifier; **not** the Inception FID) of
   ``--fid-samples`` images from the VAE (prior samples), the DCGAN and the
   DDPM (DDIM, 50 steps), and of uniform noise, against the 10,000 test
   images; all three models trained with the **same budget**: ``--steps``
   optimizer steps at batch 128 (the same number of training images seen), each
   with its notes' recipe (presets ``vae-notes``, ``dcgan-fashion``,
   ``ddpm-fashion``), the last weights;
3. DDIM (50 steps) against DDPM's ancestral sampler (1,000 steps) on the same
   batch of ``--compare-samples`` noise images: wall-clock time and FID-fashion-mnist;
4. the VAE's test reconstruction and KL per image for latent sizes
   2, 5, 10, 20, 50 and beta 0.5, 1, 2, 4 (``--sweep-epochs`` each).

Trained runs are kept in benchmarks/results/generative/ (git-ignored) and
reused unless ``--retrain``; sample grids go to benchmarks/figures/generative/
(committed, small PNGs).  Every number is printed as a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import sys
import time
from pathlib import Path

import torch

from archzoo.checkpoints.io import load
from archzoo.checkpoints.layout import is_checkpoint
from archzoo.evaluation import fid
from archzoo.inference.generation import image_grid
from archzoo.inference.sampling import sample_checkpoint
from archzoo.registry.host import get_host
from archzoo.registry.plans import fill_from_data, plan_run
from archzoo.toolkit.models import parameter_count
from archzoo.training.launch import train

HERE = Path(__file__).resolve().parent
RUNS = HERE / "results" / "generative"
FIGURES = HERE / "figures" / "generative"
DATASET = "fashion-mnist"
METRIC = fid.metric_name(DATASET)
#: The preset trained for each model; ``--ddpm-preset`` picks the DDPM's
#: (``ddpm-fashion``: the notes' recipe; ``ddpm-fashion-ema``: plus the weight average Ho et al. sample from).
MODELS = {"vae": "vae-notes", "dcgan": "dcgan-fashion", "ddpm": "ddpm-fashion-ema"}
#: ``--mixed-precision``: the training steps' precision for all three models ("no": float32).
PRECISION = "no"
STEPS_PER_EPOCH = 422  # Fashion-MNIST's 54,000 training images at batch 128


def table(header: tuple[str, ...], rows: list[tuple]) -> None:
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")
    print(flush=True)


def save_grid(images: torch.Tensor, name: str, count: int = 64) -> Path:
    FIGURES.mkdir(parents=True, exist_ok=True)
    path = FIGURES / f"{name}.png"
    image_grid(images[:count], columns=8).save(path, optimize=True)
    return path


def parameter_counts() -> None:
    print("### Parameter counts (built by the registry on Fashion-MNIST)\n")
    host = get_host()
    rows = []
    targets = {"vae-notes": 835_384, "dcgan-fashion": 837_504 + 431_872}
    for preset in ("autoencoder-2d", "vae-notes", "dcgan-fashion", "ddpm-fashion"):
        plan = plan_run(preset, host=host)
        model = host.hooks(plan.spec).build_model(fill_from_data(plan.config, host.datasets[plan.dataset]))
        total = parameter_count(model)[0]
        detail = ""
        if plan.spec.name == "dcgan":
            g, d = (sum(p.numel() for p in part.parameters()) for part in (model.generator, model.discriminator))
            detail = f"G {g:,} (notes 837,504), D {d:,} (notes 431,872)"
            ok = g == 837_504 and d == 431_872
        else:
            ok = total == targets.get(preset, total)
        target = f"{targets[preset]:,}" if preset in targets else "-"
        rows.append((preset, f"{total:,}", target, detail, "met" if ok else "**not met**"))
    table(("preset", "parameters", "notes", "parts", "equal"), rows)


def trained(name: str, steps: int, retrain: bool) -> tuple[Path, float]:
    """The last checkpoint of ``name``'s preset after ``steps`` optimizer steps, and the training seconds.

    A finished run is reused.  A run cut off (its folder has a resumable
    checkpoint but no record) is resumed, and so is the longest finished
    shorter run of the same preset and precision, copied first: continuing
    from a whole number of epochs with a constant learning rate is the same
    run as one started with the larger budget, so a 20-epoch comparison can
    build on the 10-epoch one across sessions."""
    out = run_folder(name, steps)
    record = out / "benchmark.json"
    if not retrain and is_checkpoint(out / "last") and record.is_file():
        return out / "last", json.loads(record.read_text())["seconds"]
    overrides = {"max_steps": steps, "epochs": epochs_for(name, steps)}
    earlier_seconds = 0.0
    shorter = [] if retrain else [(n, d) for n, d in finished_runs(name) if n < steps]
    if not retrain and not is_checkpoint(out / "last") and shorter:
        start, source = shorter[-1]
        shutil.copytree(source, out, ignore=shutil.ignore_patterns("benchmark.json"))
        (out / "continued.json").write_text(json.dumps(json.loads((source / "benchmark.json").read_text())))
        print(f"(continuing {source.name} from {start:,} to {steps:,} steps)", flush=True)
    continued = out / "continued.json"
    if continued.is_file():
        earlier_seconds = json.loads(continued.read_text())["seconds"]
    resume = not retrain and is_checkpoint(out / "last")
    started = time.perf_counter()
    if resume:
        result = train(MODELS[name], overrides=overrides, out=out, resume=True)
    else:
        overrides.update(seed=0, mixed_precision=PRECISION)
        result = train(MODELS[name], overrides=overrides, out=out, overwrite=True)
    seconds = earlier_seconds + time.perf_counter() - started
    record.write_text(
        json.dumps(
            {
                "seconds": seconds,
                "steps": steps,
                "precision": PRECISION,
                "val": result.val_metrics,
                "test": result.test_metrics,
            }
        )
    )
    return out / "last", seconds


def epochs_for(name: str, steps: int) -> int:
    """The preset's epochs, raised when a budget outlasts them (the DDPM's 20
    end at 8,440 steps); with a constant learning rate that changes nothing else."""
    return max(int(get_host().presets[MODELS[name]].train["epochs"]), math.ceil(steps / STEPS_PER_EPOCH))


def finished_runs(name: str) -> list[tuple[int, Path]]:
    """(steps, folder) of ``name``'s finished runs at this precision, fewest steps first."""
    suffix = f"-{PRECISION}" if PRECISION != "no" else ""
    pattern = re.compile(re.escape(MODELS[name]) + r"-(\d+)" + re.escape(suffix))
    found = [(int(m.group(1)), d) for d in RUNS.iterdir() if (m := pattern.fullmatch(d.name))]
    return sorted((n, d) for n, d in found if (d / "benchmark.json").is_file())


def run_folder(name: str, steps: int) -> Path:
    return RUNS / (f"{MODELS[name]}-{steps}" + (f"-{PRECISION}" if PRECISION != "no" else ""))


def draw(location: Path, n: int, seed: int, chunk: int = 250, **request) -> tuple[torch.Tensor, float]:
    """``n`` images from a checkpoint in chunks of ``chunk`` (seeds seed, seed+1, ...), and the seconds it took."""
    loaded = load(location)
    images, started = [], time.perf_counter()
    for i, start in enumerate(range(0, n, chunk)):
        result = sample_checkpoint(loaded, {"n": min(chunk, n - start), "seed": seed + i, **request})
        images.append(result.outputs["images"])
    return torch.cat(images), time.perf_counter() - started


def quality(steps: int, n: int, retrain: bool) -> dict[str, float]:
    print(f"### {METRIC} after an equal training budget: {steps:,} optimizer steps at batch 128\n")
    print(
        f"{METRIC} is archzoo's Frechet distance in the 64 features of its shipped cnn-fashion classifier "
        "(0.926 test accuracy), not the Inception FID: compare these numbers with each other only.\n"
    )
    real_test = fid.real_images(DATASET, "test")
    real_stats = fid.statistics(fid.features(real_test))
    real_train = fid.real_images(DATASET, "train", limit=n)
    rows, scores = [], {}
    save_grid(real_train, "real")
    reference = fid.frechet_distance(real_stats, fid.statistics(fid.features(real_train)))
    rows.append(("real training images (the floor)", "-", "-", "-", f"{reference:.2f}"))
    for name in MODELS:
        location, seconds = trained(name, steps, retrain)
        request = {"steps": 50} if name == "ddpm" else {}
        images, sample_seconds = draw(location, n, seed=1000, **request)
        save_grid(images, f"{name}" + ("-ddim50" if name == "ddpm" else ""))
        scores[name] = fid.frechet_distance(real_stats, fid.statistics(fid.features(images)))
        what = {"vae": "VAE prior samples", "dcgan": "DCGAN", "ddpm": "DDPM, DDIM 50 steps"}[
            name
        ] + f" ({MODELS[name]})"
        rows.append(
            (
                what,
                f"{seconds / 60:.1f}",
                f"{1000 * seconds / steps:.0f}",
                f"{sample_seconds:.1f}",
                f"{scores[name]:.2f}",
            )
        )
    noise = torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    save_grid(noise, "noise")
    scores["noise"] = fid.frechet_distance(real_stats, fid.statistics(fid.features(noise)))
    rows.append(("uniform noise", "-", "-", "-", f"{scores['noise']:.2f}"))
    table(("images", "training minutes", "ms / step", f"sampling s ({n})", f"{METRIC} vs test (n={n:,})"), rows)
    order = scores["ddpm"] < scores["dcgan"] < scores["vae"] < scores["noise"]
    print(
        f"target DDPM (DDIM 50) < DCGAN < VAE < noise: {'met' if order else '**not met**'} "
        f"({scores['ddpm']:.2f} / {scores['dcgan']:.2f} / {scores['vae']:.2f} / {scores['noise']:.2f})\n"
    )
    return scores


def samplers(steps: int, n: int) -> None:
    print(f"### DDIM (50 steps, eta 0) against DDPM's ancestral sampler (1,000 steps), the same {n} starting noises\n")
    location = run_folder("ddpm", steps) / "last"
    loaded = load(location)
    real_stats = fid.statistics(fid.features(fid.real_images(DATASET, "test")))
    rows, results = [], {}
    for label, request in (("DDIM, 50 steps", {"steps": 50}), ("DDPM, 1,000 steps", {"sampler": "ddpm"})):
        started = time.perf_counter()
        images = sample_checkpoint(loaded, {"n": n, "seed": 7, **request}).outputs["images"]
        seconds = time.perf_counter() - started
        score = fid.frechet_distance(real_stats, fid.statistics(fid.features(images)))
        results[label] = (seconds, score)
        save_grid(images, "ddpm-" + ("ddim50" if "DDIM" in label else "ddpm1000") + f"-n{n}")
        rows.append((label, f"{seconds:.1f}", f"{1000 * seconds / n:.0f}", f"{score:.2f}"))
    table(("sampler", f"seconds for {n} images", "ms / image", f"{METRIC} (n={n})"), rows)
    (ddim_s, ddim_fid), (ddpm_s, ddpm_fid) = results.values()
    gap = abs(ddim_fid - ddpm_fid) / ddpm_fid
    print(
        f"these two runs took {ddpm_s / ddim_s:.1f}x as long, one after the other (the machine's load may differ "
        f"between them: the paired timing above is the speed-up); DDIM's {METRIC} is "
        f"{100 * (ddim_fid / ddpm_fid - 1):+.1f}% of DDPM's (target within 20%: "
        f"{'met' if gap <= 0.2 else '**not met**'})\n"
    )


def sampler_timing(steps: int, batch: int = 16, repeats: int = 3) -> None:
    """DDIM-50 and DDPM-1000 on the same batch, alternated ``repeats`` times, so a
    change in the machine's load hits both alike; the median ratio is the speed-up."""
    loaded = load(run_folder("ddpm", steps) / "last")
    times: dict[str, list[float]] = {"ddim": [], "ddpm": []}
    for _ in range(repeats):
        for sampler, request in (("ddim", {"steps": 50}), ("ddpm", {"sampler": "ddpm"})):
            started = time.perf_counter()
            sample_checkpoint(loaded, {"n": batch, "seed": 3, **request})
            times[sampler].append(time.perf_counter() - started)
    ratios = [p / d for d, p in zip(times["ddim"], times["ddpm"])]
    ratio = sorted(ratios)[len(ratios) // 2]
    print(f"#### Timing, batch of {batch}, the two samplers alternated {repeats} times\n")
    table(
        ("sampler", "median seconds", "runs"),
        [
            (
                "DDIM, 50 steps",
                f"{sorted(times['ddim'])[repeats // 2]:.2f}",
                ", ".join(f"{t:.2f}" for t in times["ddim"]),
            ),
            (
                "DDPM, 1,000 steps",
                f"{sorted(times['ddpm'])[repeats // 2]:.2f}",
                ", ".join(f"{t:.2f}" for t in times["ddpm"]),
            ),
        ],
    )
    print(
        f"DDIM is {ratio:.1f}x faster, median of the paired ratios {', '.join(f'{r:.1f}' for r in ratios)} "
        f"(target >= 15x: {'met' if ratio >= 15 else '**not met**'}; 1000 / 50 = 20 network evaluations)\n"
    )


def vae_sweep(epochs: int, retrain: bool) -> None:
    print(
        f"### VAE on Fashion-MNIST: test reconstruction (BCE, summed over pixels) and KL per image, {epochs} epochs "
        "each\n"
    )
    latents, betas = (2, 5, 10, 20, 50), (0.5, 1.0, 2.0, 4.0)
    cells: dict[tuple[int, float], dict] = {}
    for latent in latents:
        for beta in betas:
            out = RUNS / f"vae-sweep-z{latent}-b{beta}-e{epochs}"
            record = out / "benchmark.json"
            if retrain or not record.is_file():
                result = train(
                    "vae-notes",
                    overrides={"latent_dim": latent, "beta": beta, "epochs": epochs, "seed": 0},
                    out=out,
                    overwrite=True,
                )
                record.write_text(json.dumps({"test": result.test_metrics}))
            cells[(latent, beta)] = json.loads(record.read_text())["test"]
    rows = []
    for latent in latents:
        rows.append(
            (latent, *(f"{cells[(latent, b)]['reconstruction']:.1f} / {cells[(latent, b)]['kl']:.1f}" for b in betas))
        )
    table(("latent size", *(f"beta {b:g}: rec / KL" for b in betas)), rows)
    at_one = [(latent, cells[(latent, 1.0)]) for latent in latents]
    table(
        ("latent size (beta 1)", "reconstruction", "KL", "negative ELBO"),
        [
            (latent, f"{c['reconstruction']:.1f}", f"{c['kl']:.1f}", f"{c['reconstruction'] + c['kl']:.1f}")
            for latent, c in at_one
        ],
    )
    at_twenty = [(beta, cells[(20, beta)]) for beta in betas]
    table(
        ("beta (latent 20)", "reconstruction", "KL"),
        [(f"{b:g}", f"{c['reconstruction']:.1f}", f"{c['kl']:.1f}") for b, c in at_twenty],
    )
    # the notes' pictures: the 2-D code's plane, and a traversal of the 20-D code
    FIGURES.mkdir(parents=True, exist_ok=True)
    plane = sample_checkpoint(load(RUNS / f"vae-sweep-z2-b1.0-e{epochs}" / "last"), {"n": 12, "mode": "grid"}).outputs
    image_grid(plane["images"], plane["columns"]).save(FIGURES / "vae-z2-grid.png", optimize=True)
    walk = sample_checkpoint(
        load(RUNS / f"vae-sweep-z20-b1.0-e{epochs}" / "last"), {"n": 9, "mode": "traverse"}
    ).outputs
    image_grid(walk["images"], walk["columns"]).save(FIGURES / "vae-z20-traverse.png", optimize=True)
    print(
        "latent plane (latent 2) and traversal (latent 20): figures/generative/vae-z2-grid.png, vae-z20-traverse.png\n"
    )


def spirals(retrain: bool) -> None:
    print("### The notes' 2-D diffusion toy (preset ddpm-spirals)\n")
    out = RUNS / "ddpm-spirals"
    record = out / "benchmark.json"
    if retrain or not record.is_file():
        started = time.perf_counter()
        result = train("ddpm-spirals", out=out, overwrite=True)
        record.write_text(json.dumps({"seconds": time.perf_counter() - started, "test": result.test_metrics}))
    seconds = json.loads(record.read_text())["seconds"]
    loaded = load(out / "last")
    rows = []
    for label, request in (("DDIM, 50 steps", {"steps": 50}), ("DDPM, 1,000 steps", {"sampler": "ddpm"})):
        result = sample_checkpoint(loaded, {"n": 1000, "seed": 0, **request})
        name = "ddpm-spirals-" + ("ddim50" if "DDIM" in label else "ddpm1000")
        FIGURES.mkdir(parents=True, exist_ok=True)
        image_grid(result.outputs["images"]).save(FIGURES / f"{name}.png", optimize=True)
        rows.append((label, f"figures/generative/{name}.png"))
    print(f"trained in {seconds / 60:.1f} minutes; 1,000 points drawn by each sampler:\n")
    table(("sampler", "scatter plot"), rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=1000, help="optimizer steps for each model (the equal budget)")
    parser.add_argument("--fid-samples", type=int, default=1000, help="generated images per FID")
    parser.add_argument("--compare-samples", type=int, default=128, help="images for the DDIM / DDPM comparison")
    parser.add_argument("--sweep-epochs", type=int, default=3, help="epochs for each VAE of the latent / beta sweep")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--ddpm-preset",
        default=MODELS["ddpm"],
        choices=("ddpm-fashion", "ddpm-fashion-ema", "ddpm-cosine"),
        help="the DDPM recipe to train (default: the notes' plus a weight average)",
    )
    parser.add_argument(
        "--mixed-precision",
        choices=("no", "bf16"),
        default="no",
        help="train all three models' steps in bfloat16 (about twice as fast on CPUs with bf16 instructions)",
    )
    parser.add_argument("--retrain", action="store_true", help="train again even when a run is kept")
    parser.add_argument("--skip-sweep", action="store_true")
    parser.add_argument("--skip-samplers", action="store_true")
    parser.add_argument("--skip-spirals", action="store_true")
    parser.add_argument(
        "--skip-sampler-fid",
        action="store_true",
        help="time the samplers only (the FID comparison runs DDPM for minutes)",
    )
    parser.add_argument(
        "--skip-quality", action="store_true", help="skip the FID comparison (it trains the three models)"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    MODELS["ddpm"] = args.ddpm_preset
    global PRECISION
    PRECISION = args.mixed_precision
    RUNS.mkdir(parents=True, exist_ok=True)
    print(f"## Generative models (issue #6), torch {torch.__version__}, {args.threads} threads\n", flush=True)
    parameter_counts()
    if not args.skip_quality:
        quality(args.steps, args.fid_samples, args.retrain)
    if not args.skip_samplers:
        sampler_timing(args.steps)
        if not args.skip_sampler_fid:
            samplers(args.steps, args.compare_samples)
    if not args.skip_sweep:
        vae_sweep(args.sweep_epochs, args.retrain)
    if not args.skip_spirals:
        spirals(args.retrain)
    return 0


if __name__ == "__main__":
    sys.exit(main())
