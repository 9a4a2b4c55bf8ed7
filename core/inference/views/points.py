"""A generator's samples, the reverse diffusion as frames, and the views a plugin adds.

``samples`` is generic: the ``sample`` hook's images as a grid, or, for a
generator of 2-D points (whose result carries ``points`` in the data's
units), hundreds of samples scattered over the real training points.
``diffusion`` and any view a plugin names itself come from the plugin's
``archzoo_views`` hook as ``{"frames": [...], "titles": [...]}`` and are drawn
here, points or images alike.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from archzoo.errors import ArchzooError
from archzoo.inference.sampling import expect, sample_checkpoint
from archzoo.inference.views.base import View, ViewRequest
from archzoo.inference.views.examples import collect, in_data_units
from archzoo.inference.views.figures import bare, figure, picture, png, side
from archzoo.registry.host import Host
from archzoo.registry.limits import MAX_SAMPLES

#: Real training points drawn behind the samples at most.
MAX_REAL = 2000


def draw_samples(loaded: Any, n: int, seed: int, host: Host) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(images, points or None): ``n`` samples, drawn :data:`MAX_SAMPLES` at a time with seeds seed, seed + 1, ..."""
    images, points = [], []
    for i, start in enumerate(range(0, n, MAX_SAMPLES)):
        result = sample_checkpoint(
            loaded, {"n": min(MAX_SAMPLES, n - start), "seed": seed + i, "mode": "sample"}, host=host
        )
        expect(result, "images")
        images.append(result.outputs["images"])
        if "points" in result.outputs:
            points.append(torch.as_tensor(result.outputs["points"]).float())
    return torch.cat(images), (torch.cat(points) if points else None)


def real_points(loaded: Any, host: Host) -> np.ndarray:
    inputs, _ = collect(loaded, "train", host, MAX_REAL)
    return in_data_units(loaded.info, inputs).numpy()


def samples(loaded: Any, request: ViewRequest, *, host: Host, extra: Any = None) -> View:
    points_data = len(loaded.info.input_shape) == 1
    n = request.counted(500 if points_data else 16)
    if not points_data and n > MAX_SAMPLES:
        raise ArchzooError(f"count: {n:,} images is more than the limit of {MAX_SAMPLES} for one view")
    images, points = draw_samples(loaded, n, request.seed, host)
    if points is not None:
        title = f"{loaded.spec.name}: samples over the real {loaded.info.name}"
        data = {"seed": request.seed, "samples": np.round(points.numpy(), 5).tolist()}
        return View("samples", draw_scatter(real_points(loaded, host), points.numpy(), title), data)
    rows, columns = side(len(images))
    fig, axes = figure(1.2 * columns + 0.4, 1.2 * rows + 0.6, rows, columns)
    for axis in axes:
        bare(axis)
    for axis, image in zip(axes, images):
        array, cmap = picture(image)
        axis.imshow(array, cmap=cmap, vmin=0, vmax=1)
    fig.suptitle(f"{loaded.spec.name}: {len(images)} samples, seed {request.seed}", fontsize=10)
    return View("samples", png(fig), {"seed": request.seed, "count": len(images)})


def draw_scatter(real: np.ndarray, points: np.ndarray, title: str) -> bytes:
    """Samples (red) over the real points (grey), with axes, as PNG bytes."""
    fig, axis = figure(5.4, 5.0, squeeze=True)
    axis.scatter(real[:, 0], real[:, 1], s=6, color="#bbbbbb", label=f"real ({len(real):,} training points)")
    axis.scatter(points[:, 0], points[:, 1], s=6, color="#d62728", alpha=0.8, label=f"samples ({len(points):,})")
    axis.set(xlabel="x1", ylabel="x2", title=title)
    axis.title.set_fontsize(10)
    axis.legend(fontsize=8, loc="upper right")
    return png(fig)


def diffusion(loaded: Any, request: ViewRequest, *, host: Host, extra: Any = None) -> View:
    return plugin_view(loaded, "diffusion", extra(request), request, host=host)


def plugin_view(loaded: Any, name: str, found: dict[str, Any], request: ViewRequest, *, host: Host) -> View:
    """Frames from a plugin (``{"frames": [...], "titles": [...]}``): point sets scattered on
    shared axes over the real data, or image batches as rows of a grid."""
    frames = [torch.as_tensor(f).float().cpu() for f in found.get("frames", ())]
    if not frames:
        raise ArchzooError(f"plugin '{loaded.spec.plugin}': view '{name}' returned no frames")
    titles = list(found.get("titles") or [f"frame {i}" for i in range(len(frames))])
    if frames[0].ndim == 2:  # points
        rows, columns = side(len(frames))
        fig, axes = figure(2.6 * columns, 2.6 * rows + 0.4, rows, columns)
        real = real_points(loaded, host) if len(loaded.info.input_shape) == 1 else None
        # the real data's extent (or the last frame's, without its 1% outliers): a stray sample must not shrink the rest
        reference = real if real is not None else frames[-1].numpy()
        low, high = np.percentile(reference, 0.5, axis=0), np.percentile(reference, 99.5, axis=0)
        pad = 0.25 * (high - low) + 1e-6
        for axis, frame, title in zip(axes, frames, titles):
            if real is not None:
                axis.scatter(real[:, 0], real[:, 1], s=2, color="#cccccc")
            axis.scatter(frame[:, 0], frame[:, 1], s=3, color="#d62728")
            axis.set(xlim=(low[0] - pad[0], high[0] + pad[0]), ylim=(low[1] - pad[1], high[1] + pad[1]))
            axis.set_title(title, fontsize=9)
            axis.tick_params(labelsize=7)
        for axis in axes[len(frames) :]:
            axis.set_visible(False)
    else:  # image batches: one row per frame
        per = min(len(frames[0]), 8)
        fig, axes = figure(1.1 * per + 1.6, 1.1 * len(frames) + 0.6, len(frames), per)
        for row, (frame, title) in enumerate(zip(frames, titles)):
            for column in range(per):
                axis = axes[row * per + column]
                bare(axis)
                image, cmap = picture(frame[column].clamp(0, 1))
                axis.imshow(image, cmap=cmap, vmin=0, vmax=1)
            axes[row * per].set_ylabel(title, fontsize=8)
    fig.suptitle(f"{loaded.spec.name}: {name}", fontsize=10)
    data = {key: value for key, value in found.items() if key != "frames" and _plain(value)}
    data["titles"] = titles
    if frames[0].ndim == 2:
        data["frames"] = [np.round(f.numpy(), 4).tolist() for f in frames]
    return View(name, png(fig), data)


def _plain(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool, list, tuple, dict)) and not (
        isinstance(value, float) and not math.isfinite(value)
    )
