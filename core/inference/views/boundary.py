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
from archzoo.inference.views.examples import collect
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
    mean = torch.tensor(loaded.info.mean or (0.0, 0.0), dtype=torch.float32)
    std = torch.tensor(loaded.info.std or (1.0, 1.0), dtype=torch.float32)
    points = inputs.float() * std + mean
    low, high = points.min(dim=0).values, points.max(dim=0).values
    pad = torch.clamp(0.15 * (high - low), min=0.25)
    xs = torch.linspace(float(low[0] - pad[0]), float(high[0] + pad[0]), resolution)
    ys = torch.linspace(float(low[1] - pad[1]), float(high[1] + pad[1]), resolution)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    grid = (torch.stack([gx.flatten(), gy.flatten()], dim=1) - mean) / std
    probs = probabilities(loaded, grid, host).reshape(resolution, resolution, -1)
    return {
        "xs": xs.numpy(),
        "ys": ys.numpy(),
        "probabilities": probs.numpy(),
        "points": points.numpy(),
        "labels": labels.numpy(),
    }


def boundary(loaded: Any, request: ViewRequest, *, host: Host, extra: Any = None) -> View:
    found = plane(loaded, host, request.resolution)
    xs, ys, probs = found["xs"], found["ys"], found["probabilities"]
    names = class_names(loaded)
    size = probs.shape[-1]
    predicted = probs.argmax(axis=-1)
    extent = (xs[0], xs[-1], ys[0], ys[-1])
    fig, axis = figure(5.6, 4.8, squeeze=True, fixed=True)
    if size == 2:  # shade p(class 1): the colour says which class, its depth how sure
        shade = axis.imshow(
            probs[..., 1], origin="lower", extent=extent, aspect="auto", cmap="RdBu_r", vmin=0, vmax=1,
            interpolation="nearest",
        )  # fmt: skip
        bar = fig.add_axes((0.88, 0.1, 0.03, 0.83))
        fig.colorbar(shade, cax=bar, label=f"p({names[1]})")
        axis.contour(xs, ys, probs[..., 1], levels=[0.5], colors="black", linewidths=1.5)
    else:  # each class its colour, faded where the model is unsure; no colour bar to make room for
        fig.subplots_adjust(right=0.97)
        from matplotlib.colors import to_rgb

        colours = np.array([to_rgb(COLOURS[c % len(COLOURS)]) for c in range(size)])
        confidence = probs.max(axis=-1)[..., None]
        shaded = colours[predicted] * confidence + (1 - confidence)
        axis.imshow(shaded, origin="lower", extent=extent, aspect="auto", interpolation="nearest")
        axis.contour(xs, ys, predicted, levels=np.arange(size - 1) + 0.5, colors="black", linewidths=1.2)
    margins = list((extra(request) if extra else {}).get("margins", ()))
    if margins and size == 2:  # the plugin's levels of the log-odds log p1 / p0 (an SVM: its margin f = +-1)
        odds = np.log(np.clip(probs[..., 1], 1e-12, None)) - np.log(np.clip(probs[..., 0], 1e-12, None))
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
    line = "decision boundary (solid)" + (", margin (dashed)" if margins else "")
    axis.set_title(f"{loaded.spec.name} on {loaded.info.name}: {line}", fontsize=10)
    data = {
        "class_names": names,
        "x": xs,
        "y": ys,
        "probabilities": probs.round(4),
        "margins": margins,
        "points": points,
        "labels": labels,
    }
    return View("boundary", png(fig), data)
