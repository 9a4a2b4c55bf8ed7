"""How fast the views draw: the decision boundary of a 2-D model (target: under 200 ms),
and the other views of small real models, each once warmed up.

Trains tiny real runs into a fresh store (MLP, logistic regression and linear SVM on
moons; a CNN and an autoencoder on scikit-learn's digits; the DDPM on spirals; a
transformer on the synthetic sentiment task), loads each once (as the app keeps a
loaded checkpoint), draws every view it offers ``--repeats`` times with
:func:`archzoo.inference.views.draw`, and prints a Markdown table of medians.  The
boundary's time is the whole view: the grid through the model, the figure and the PNG.
Wall and CPU time are both shown: on a shared machine the wall time counts the other
jobs too, and the boundary's target is judged on its CPU time.

    python benchmarks/views.py [--repeats 7] [--resolution 200] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

BOUNDARY_TARGET_MS = 200.0

RUNS = (
    ("mlp-moons", None, {"epochs": 30}),
    ("logistic-moons", None, {"epochs": 10}),
    ("linear-svm-moons", None, {"epochs": 10}),
    ("cnn", "digits", {"epochs": 2}),
    ("autoencoder", "digits", {"epochs": 3, "latent_dim": 2, "hidden": (64,)}),
    ("ddpm-spirals", None, {"epochs": 10}),
    ("transformer", "sentiment-synthetic", {"epochs": 1, "layers": 2, "d_model": 32, "d_ff": 64}),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--resolution", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    os.environ["ARCHZOO_CHECKPOINTS"] = tempfile.mkdtemp(prefix="archzoo-views-")

    import torch

    from archzoo.checkpoints.io import load
    from archzoo.inference.views import ViewRequest, available, draw
    from archzoo.training.launch import train

    torch.set_num_threads(args.threads)
    rows = []
    for name, dataset, overrides in RUNS:
        result = train(name, dataset=dataset, overrides=overrides, out=f"{name}-{dataset or 'own'}")
        loaded = load(result.out_dir)
        for view in available(loaded):
            request = ViewRequest(resolution=args.resolution)
            draw(loaded, view, request)  # warm: the dataset read, matplotlib imported
            times, cpu = [], []
            for _ in range(args.repeats):
                started, started_cpu = time.perf_counter(), time.process_time()
                drawn = draw(loaded, view, request)
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
            size = drawn.image().size
            target = ""
            if view == "boundary":
                met = statistics.median(cpu) < BOUNDARY_TARGET_MS
                target = f"< {BOUNDARY_TARGET_MS:.0f} ms: {'met' if met else 'MISSED'}"
            rows.append(
                (
                    f"{name} on {loaded.info.name}",
                    view,
                    statistics.median(times),
                    statistics.median(cpu),
                    f"{size[0]} x {size[1]}",
                    target,
                )
            )
    print(f"### Views (`views.py`, median of {args.repeats}, {args.threads} thread(s), boundary {args.resolution}²)\n")
    print(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}\n")
    print("| model | view | median wall (ms) | median CPU (ms) | PNG | target (CPU) |")
    print("|---|---|---|---|---|---|")
    for model, view, wall, cpu_ms, size, target in rows:
        print(f"| {model} | {view} | {wall:.0f} | {cpu_ms:.0f} | {size} | {target} |")


if __name__ == "__main__":
    main()
