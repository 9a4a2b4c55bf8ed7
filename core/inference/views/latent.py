"""Views of an autoencoder: the test set in its latent plane, and its reconstructions.

Generic for any image generator with an ``encode`` method that takes images
in [0, 1] (:func:`archzoo.toolkit.generative.to_unit` of the data) and returns
the codes, or a tuple whose first item is the codes (a VAE's mean).  Codes of
more than two numbers are projected on their first two principal components,
and the view says so.  Reconstructions go through the ``sample`` hook's
``reconstruct`` mode, whose images are the originals followed by their
reconstructions.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from archzoo.inference.sampling import expect, sample_checkpoint
from archzoo.inference.views.base import View, ViewRequest
from archzoo.inference.views.boundary import COLOURS
from archzoo.inference.views.examples import collect, device_of
from archzoo.inference.views.figures import bare, figure, picture, png
from archzoo.inference.views.images import class_names
from archzoo.registry.host import Host
from archzoo.registry.limits import check_count
from archzoo.toolkit import unwrap
from archzoo.toolkit.generative import to_unit

#: Test images placed in the latent plane at most (the whole test split of MNIST).
MAX_LATENT = 10_000
#: Reconstructions drawn at most.
MAX_RECONSTRUCTIONS = 32


def codes(loaded: Any, inputs: torch.Tensor) -> torch.Tensor:
    model = unwrap(loaded.model)
    found = []
    with torch.no_grad():
        for start in range(0, len(inputs), 512):
            batch = to_unit(inputs[start : start + 512], loaded.info).to(device_of(model))
            out = model.encode(batch)
            found.append((out[0] if isinstance(out, (tuple, list)) else out).float().cpu())
    return torch.cat(found).flatten(1)


def latent(loaded: Any, request: ViewRequest, *, host: Host, extra: Any = None) -> View:
    limit = request.counted(MAX_LATENT) if request.count is not None else MAX_LATENT
    inputs, labels = collect(loaded, "test", host, limit)
    z = codes(loaded, inputs)
    dimensions = z.shape[1]
    projection = "none"
    if z.shape[1] > 2:  # the plane of the two directions along which the codes vary most
        centred = z - z.mean(dim=0)
        _, _, v = torch.linalg.svd(centred, full_matrices=False)
        z, projection = centred @ v[:2].T, "first two principal components"
    elif z.shape[1] == 1:
        z, projection = torch.cat([z, torch.zeros_like(z)], dim=1), "one latent dimension, drawn on a line"
    points, labels = z.numpy(), labels.numpy()
    names = class_names(loaded)
    fig, axis = figure(6.0, 5.2, squeeze=True)
    for c in range(len(names)):
        chosen = labels == c
        if chosen.any():
            axis.scatter(
                points[chosen, 0], points[chosen, 1], s=5, alpha=0.7, color=COLOURS[c % len(COLOURS)], label=names[c]
            )
    axis.legend(fontsize=7, markerscale=2.5, loc="best")
    axes_names = ("z1", "z2") if projection == "none" else ("PC 1", "PC 2")
    axis.set(xlabel=axes_names[0], ylabel=axes_names[1])
    shown = f"{len(points):,} test images in the latent {'plane' if projection == 'none' else 'space'}"
    axis.set_title(f"{loaded.spec.name}: {shown}" + ("" if projection == "none" else f" ({projection})"), fontsize=10)
    data = {
        "split": "test",
        "latent_dim": int(dimensions),
        "projection": projection,
        "class_names": names,
        "points": np.round(points, 5).tolist(),
        "labels": labels.tolist(),
    }
    return View("latent", png(fig), data)


def reconstructions(loaded: Any, request: ViewRequest, *, host: Host, extra: Any = None) -> View:
    """Test images from ``index`` on (first row) above their reconstructions (second row)."""
    count = check_count("reconstructions", request.counted(8), MAX_RECONSTRUCTIONS)
    inputs, _ = collect(loaded, "test", host, request.index + count)
    inputs = inputs[request.index :]
    result = sample_checkpoint(
        loaded, {"mode": "reconstruct", "n": len(inputs), "inputs": inputs, "seed": request.seed}, host=host
    )
    expect(result, "images")
    images = result.outputs["images"]
    originals, rebuilt = images[: len(inputs)], images[len(inputs) :]
    fig, axes = figure(1.1 * len(inputs) + 1.2, 2.8, 2, len(inputs))
    for i in range(len(inputs)):
        for row, source in enumerate((originals, rebuilt)):
            axis = axes[row * len(inputs) + i]
            bare(axis)
            image, cmap = picture(source[i])
            axis.imshow(image, cmap=cmap, vmin=0, vmax=1)
        axes[i].set_title(f"#{request.index + i}", fontsize=7)
    axes[0].set_ylabel("original", fontsize=9)
    axes[len(inputs)].set_ylabel("reconstruction", fontsize=9)
    fig.suptitle(f"{loaded.spec.name}: test images (above) and their reconstructions (below)", fontsize=10)
    errors = (originals - rebuilt).pow(2).flatten(1).mean(dim=1)
    data = {
        "indices": list(range(request.index, request.index + len(inputs))),
        "mse": [round(float(e), 6) for e in errors],
    }
    return View("reconstructions", png(fig), data)
