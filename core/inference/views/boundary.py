"""The decision boundary of a classifier of 2-D points: predictions on a grid over the plane.

Generic: the grid goes through the architecture's ``sample`` hook like any
rows of numbers, so every 2-D classifier gets it (an MLP, a logistic
regression, the perceptron on a truth table, a plugin's).  The grid covers
the training points with a margin, in the data's own units (the model reads
them standardised, as in training).  A plugin may add levels of the log-odds
to draw as dashed lines through its ``archzoo_views`` hook: the linear SVM
draws its margin, f(x) = +-1.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from archzoo.inference.views.base import View, ViewRequest
from archzoo.inference.views.examples import collect, in_data_units
from archzoo.inference.views.figures import figure, png
from archzoo.inference.views.images import class_names, probabilities
from archzoo.registry.host import Host

#: Training points drawn on top of the regions at most.
MAX_POINTS = 5000
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def plane(loaded: Any, host: Host, resolution: int) -> dict[str, Any]:
    """The grid's axes (data units), the class probabilities on it (rows: y, columns: x) and the
    training points (data units) with their labels."""
    inputs, labels = collect(loaded, "train", host, MAX_POINTS)
    points = in_data_units(loaded.info, inputs)
    xs, ys = grid_axes(points, resolution)
    return {
        "xs": xs,
        "ys": ys,
        "probabilities": grid_probabilities(loaded, xs, ys, host),
        "points": points.numpy(),
        "labels": labels.numpy(),
    }


def grid_axes(points: torch.Tensor, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """The x and y of a ``resolution``-a-side grid covering the points with a margin."""
    low, high = points.min(dim=0).values, points.max(dim=0).values
    pad = torch.clamp(0.15 * (high - low), min=0.25)
    xs = torch.linspace(float(low[0] - pad[0]), float(high[0] + pad[0]), resolution)
    ys = torch.linspace(float(low[1] - pad[1]), float(high[1] + pad[1]), resolution)
    return xs.numpy(), ys.numpy()


def grid_probabilities(loaded: Any, xs: np.ndarray, ys: np.ndarray, host: Host) -> np.ndarray:
    """The class probabilities at every grid point, rows y and columns x, through the ``sample`` hook."""
    gy, gx = torch.meshgrid(torch.from_numpy(ys), torch.from_numpy(xs), indexing="ij")
    mean = torch.tensor(loaded.info.mean or (0.0, 0.0), dtype=torch.float32)
    std = torch.tensor(loaded.info.std or (1.0, 1.0), dtype=torch.float32)
    grid = (torch.stack([gx.flatten(), gy.flatten()], dim=1) - mean) / std
    return probabilities(loaded, grid, host).reshape(len(ys), len(xs), -1).numpy()


def boundary(loaded: Any, request: ViewRequest, *, host: Host, extra: Any = None) -> View:
    found = plane(loaded, host, request.resolution)
    names = class_names(loaded)
    margins = list((extra(request) if extra else {}).get("margins", ()))
    line = "decision boundary (solid)" + (", margin (dashed)" if margins else "")
    title = f"{loaded.spec.name} on {loaded.info.name}: {line}"
    picture = draw_boundary(found, names, margins, title)
    data = {
        "class_names": names,
        "x": found["xs"],
        "y": found["ys"],
        "probabilities": found["probabilities"].round(4),
        "margins": margins,
        "points": found["points"],
        "labels": found["labels"],
    }
    return View("boundary", picture, data)


def draw_boundary(found: dict[str, Any], names: list[str], margins: list[float], title: str) -> bytes:
    """The picture of a :func:`plane` (class regions, the boundary line, the margins' dashed
    lines, the training points on top) as PNG bytes."""
    xs, ys, probs = found["xs"], found["ys"], found["probabilities"]
    size = probs.shape[-1]
    predicted = probs.argmax(axis=-1)
    extent = (xs[0], xs[-1], ys[0], ys[-1])
    smooth = "nearest" if len(xs) >= 150 else "bilinear"  # a coarse grid (the live view's) shows no cells
    fig, axis = figure(5.6, 4.8, squeeze=True, fixed=True)
    if size == 2:  # shade p(class 1): the colour says which class, its depth how sure
        shade = axis.imshow(
            probs[..., 1], origin="lower", extent=extent, aspect="auto", cmap="RdBu_r", vmin=0, vmax=1,
            interpolation=smooth,
        )  # fmt: skip
        bar = fig.add_axes((0.88, 0.1, 0.03, 0.83))
        fig.colorbar(shade, cax=bar, label=f"p({names[1]})")
        if probs[..., 1].min() < 0.5 < probs[..., 1].max():  # no line where one class holds the whole plane
            axis.contour(xs, ys, probs[..., 1], levels=[0.5], colors="black", linewidths=1.5)
    else:  # each class its colour, faded where the model is unsure; no colour bar to make room for
        fig.subplots_adjust(right=0.97)
        from matplotlib.colors import to_rgb

        colours = np.array([to_rgb(COLOURS[c % len(COLOURS)]) for c in range(size)])
        confidence = probs.max(axis=-1)[..., None]
        shaded = colours[predicted] * confidence + (1 - confidence)
        axis.imshow(shaded, origin="lower", extent=extent, aspect="auto", interpolation=smooth)
        if predicted.min() != predicted.max():
            axis.contour(xs, ys, predicted, levels=np.arange(size - 1) + 0.5, colors="black", linewidths=1.2)
    if margins and size == 2:  # the plugin's levels of the log-odds log p1 / p0 (an SVM: its margin f = +-1)
        odds = np.log(np.clip(probs[..., 1], 1e-12, None)) - np.log(np.clip(probs[..., 0], 1e-12, None))
        if odds.min() < max(margins) and odds.max() > min(margins):
            axis.contour(xs, ys, odds, levels=sorted(margins), colors="black", linestyles="--", linewidths=1.0)
    points, labels = found["points"], found["labels"]
    for c in range(size):  # markers of a line, not a scatter: Agg stamps one marker picture, 3x faster
        chosen = labels == c
        axis.plot(
            points[chosen, 0], points[chosen, 1], "o", ms=3.5, color=COLOURS[c % len(COLOURS)], mec="black", mew=0.4,
            label=names[c],
        )  # fmt: skip
    axis.set(xlim=extent[:2], ylim=extent[2:], xlabel="x1", ylabel="x2")
    axis.legend(fontsize=8, loc="upper right")
    axis.set_title(title, fontsize=10)
    return png(fig)
