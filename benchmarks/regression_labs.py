"""The regression labs: R^2 on the sine, the bias-variance decomposition, double descent.

    python benchmarks/regression_labs.py [--datasets 100] [--seeds 5]

1. R^2 of the presets linear-sine, polynomial-sine and mlp-sine (test split of ``sine``,
   200 points, sigma 0.3), each trained through archzoo's trainer.
2. The workshop's day-5 lab: polynomials of degree 1, 3, 9 and 15 fitted to the same small
   dataset, N = 10 points at evenly spaced x in [-1, 1], with 100 draws of its noise (sigma = 0.3);
   at 200 test x in [-1, 1], bias^2 (the mean fit against sin(pi x)), variance (of the fits
   about their mean) and the noise sigma^2.  (With x drawn afresh for each set too, a cubic's
   extrapolation past a set's outermost points swamps both numbers; the lab holds x fixed.)
   Each fit is the linear-regression plugin's own closed form (one pass, its solve); degrees
   whose 10 points cannot pin down every coefficient (9 is at the edge, 15 beyond it) need a
   ridge, so every fit takes delta = 1e-6 (the plugin refuses delta = 0 there and says why).
3. The deep-learning notes' 11.10 set-up: make_classification(200 examples, 20 features,
   10 informative, random_state 42), 70/30 split; a two-layer network of width p whose first
   layer is random and fixed (ReLU random features) and whose readout is the plugin's closed
   form with delta = 1e-8 (about the minimum-norm solution), on +-1 labels.  Test error against
   p through the interpolation threshold p = 140 (the training examples), averaged over seeds.

Figures go to benchmarks/figures/regression/ (PNG and JSON).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import torch

from archzoo.plugins.linear_regression.model import PolynomialRegression, accumulate, solve

FIGURES = Path(__file__).parent / "figures" / "regression"


def closed_form(x: np.ndarray, y: np.ndarray, degree: int, ridge: float) -> PolynomialRegression:
    """The plugin's closed form on (x, y) in one batch: the same sums and solve as its train_step."""
    net = PolynomialRegression(x.shape[1], y.shape[1], degree, ridge, "closed-form")
    with torch.no_grad():
        accumulate(net, torch.from_numpy(x).float(), torch.from_numpy(y).float(), ctx=None)
        solve(net)
    return net


def r2_table() -> list[tuple[str, float, float]]:
    from archzoo.training.launch import train

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for preset in ("linear-sine", "polynomial-sine", "mlp-sine"):
            result = train(preset, out=Path(folder) / preset)
            rows.append((preset, result.test_metrics["r2"], result.test_metrics["mse"]))
    return rows


def bias_variance(degrees=(1, 3, 9, 15), points=10, noise=0.3, datasets=100, ridge=1e-6) -> dict:
    grid = np.linspace(-1, 1, 200, dtype=np.float32).reshape(-1, 1)
    truth = np.sin(np.pi * grid[:, 0])
    table = {}
    for degree in degrees:
        fits = []
        x = np.linspace(-1, 1, points, dtype=np.float32).reshape(-1, 1)  # the lab's one small design
        for seed in range(datasets):
            y = (np.sin(np.pi * x) + np.random.default_rng(1000 + seed).normal(0, noise, x.shape)).astype(np.float32)
            net = closed_form(x, y, degree, ridge)
            with torch.no_grad():
                fits.append(net(torch.from_numpy(grid)).numpy()[:, 0])
        fits = np.stack(fits)  # (datasets, grid)
        mean = fits.mean(axis=0)
        table[degree] = {
            "bias2": float(((mean - truth) ** 2).mean()),
            "variance": float(fits.var(axis=0).mean()),
            "noise": noise**2,
            "mean_fit": mean.tolist(),
        }
    return {"x": grid[:, 0].tolist(), "truth": truth.tolist(), "degrees": table}


def double_descent(widths, seeds=5, ridge=1e-8) -> dict:
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split

    x, y = make_classification(n_samples=200, n_features=20, n_informative=10, random_state=42)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, random_state=42)
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    signs_train = (2.0 * y_train - 1.0).reshape(-1, 1).astype(np.float32)
    errors = {}
    for width in widths:
        per_seed = []
        for seed in range(seeds):
            weights = np.random.default_rng(seed).normal(0, 1 / np.sqrt(20), (20, width))
            features_train = np.maximum(x_train @ weights, 0).astype(np.float32)
            features_test = np.maximum(x_test @ weights, 0).astype(np.float32)
            net = closed_form(features_train, signs_train, 1, ridge)
            with torch.no_grad():
                scores = net(torch.from_numpy(features_test)).numpy()[:, 0]
                fit = net(torch.from_numpy(features_train)).numpy()[:, 0]
            per_seed.append(
                (float(((scores > 0) != (y_test == 1)).mean()), float(((fit > 0) != (y_train == 1)).mean()))
            )
        errors[width] = {
            "test_error": float(np.mean([t for t, _ in per_seed])),
            "train_error": float(np.mean([f for _, f in per_seed])),
        }
    return {"train_examples": len(y_train), "widths": list(widths), "errors": errors}


def plot_bias_variance(found: dict, path: Path) -> None:
    from archzoo.inference.views.figures import figure, png

    degrees = list(found["degrees"])
    fig, (curves, bars) = figure(11.0, 4.2, 1, 2)
    curves.plot(found["x"], found["truth"], "k--", lw=1.5, label="sin(pi x)")
    for degree in degrees:
        curves.plot(found["x"], found["degrees"][degree]["mean_fit"], lw=1.5, label=f"degree {degree}: mean fit")
    curves.set(ylim=(-2, 2), xlabel="x", ylabel="y", title="the mean of 100 fits (N = 10, sigma = 0.3)")
    curves.legend(fontsize=8)
    positions = np.arange(len(degrees))
    for offset, key, label in ((-0.25, "bias2", "bias\u00b2"), (0.0, "variance", "variance"), (0.25, "noise", "noise")):
        bars.bar(positions + offset, [found["degrees"][d][key] for d in degrees], width=0.25, label=label)
    bars.set(xticks=positions, xticklabels=[str(d) for d in degrees], yscale="log", xlabel="degree",
             title="bias\u00b2 falls, variance rises with the degree")  # fmt: skip
    bars.legend(fontsize=8)
    path.write_bytes(png(fig))


def plot_double_descent(found: dict, path: Path) -> None:
    from archzoo.inference.views.figures import figure, png

    widths = found["widths"]
    fig, axis = figure(6.4, 4.2, squeeze=True)
    axis.plot(widths, [found["errors"][w]["test_error"] for w in widths], "o-", label="test error")
    axis.plot(widths, [found["errors"][w]["train_error"] for w in widths], "s--", label="training error")
    axis.axvline(found["train_examples"], color="black", lw=1, ls=":", label="interpolation threshold")
    axis.set(xscale="log", xlabel="width p (random ReLU features)", ylabel="classification error",
             title="double descent (notes 11.10 set-up)")  # fmt: skip
    axis.legend(fontsize=8)
    path.write_bytes(png(fig))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=100, help="training sets per degree (default 100)")
    parser.add_argument("--seeds", type=int, default=5, help="random first layers per width (default 5)")
    parser.add_argument("--skip-r2", action="store_true", help="leave out the trainer runs")
    args = parser.parse_args()
    torch.set_num_threads(1)
    FIGURES.mkdir(parents=True, exist_ok=True)

    if not args.skip_r2:
        print("R^2 on sine (test split, 30 points)")
        print(f"{'preset':<18}{'R^2':>8}{'MSE':>9}")
        for preset, r2, mse in r2_table():
            print(f"{preset:<18}{r2:>8.3f}{mse:>9.4f}")
        print()

    found = bias_variance(datasets=args.datasets)
    print(f"bias-variance: N = 10, sigma = 0.3, {args.datasets} training sets, delta = 1e-6")
    print(f"{'degree':>6}{'bias^2':>10}{'variance':>12}{'noise':>8}{'sum':>12}")
    for degree, row in found["degrees"].items():
        total = row["bias2"] + row["variance"] + row["noise"]
        print(f"{degree:>6}{row['bias2']:>10.4f}{row['variance']:>12.4f}{row['noise']:>8.3f}{total:>12.4f}")
    (FIGURES / "bias_variance.json").write_text(json.dumps(found) + "\n", encoding="utf-8")
    plot_bias_variance(found, FIGURES / "bias_variance.png")
    print()

    widths = (10, 20, 40, 70, 100, 120, 130, 140, 150, 160, 200, 280, 400, 700, 1000, 2000, 4000)
    descent = double_descent(widths, seeds=args.seeds)
    print(f"double descent: {descent['train_examples']} training examples, {args.seeds} seeds per width")
    print(f"{'width':>6}{'test error':>12}{'train error':>13}")
    for width in widths:
        row = descent["errors"][width]
        print(f"{width:>6}{row['test_error']:>12.3f}{row['train_error']:>13.3f}")
    (FIGURES / "double_descent.json").write_text(json.dumps(descent) + "\n", encoding="utf-8")
    plot_double_descent(descent, FIGURES / "double_descent.png")
    print(f"\nfigures: {FIGURES}")


if __name__ == "__main__":
    main()
