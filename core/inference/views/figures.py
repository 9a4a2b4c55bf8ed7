"""What every view draws with: a matplotlib figure on its own Agg canvas, and its PNG bytes.

Figures are made with ``matplotlib.figure.Figure`` directly, never through
``pyplot``: no global backend or figure registry is touched, so views draw
headless and from the app's worker threads at the same time (as the trust
report's figures do).
"""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np


def figure(width: float, height: float, rows: int = 1, columns: int = 1, *, squeeze: bool = False, fixed: bool = False):
    """A figure of ``rows`` x ``columns`` axes (a flat list, row by row).  ``fixed``: fixed
    margins instead of matplotlib's constrained layout, which measures every label and
    costs a one-panel figure about a third of its drawing time (the boundary's budget)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout=None if fixed else "constrained")
    if fixed:
        fig.subplots_adjust(left=0.11, right=0.86, bottom=0.1, top=0.93)  # room on the right for a colour bar
    FigureCanvasAgg(fig)
    axes = [fig.add_subplot(rows, columns, i + 1) for i in range(rows * columns)]
    return (fig, axes[0]) if squeeze else (fig, axes)


def png(fig: Any) -> bytes:
    """The figure as PNG bytes, drawn once: ``savefig`` would draw a laid-out figure twice
    (once to lay it out, once to render), which is most of a small view's time."""
    from PIL import Image

    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())
    buffer = io.BytesIO()
    Image.fromarray(rgba[..., :3]).save(buffer, format="png", compress_level=3)  # 6 takes twice as long, for 10%
    return buffer.getvalue()


def side(count: int) -> tuple[int, int]:
    """(rows, columns) of an about-square grid for ``count`` panels."""
    columns = max(1, math.ceil(math.sqrt(count)))
    return math.ceil(count / columns), columns


def picture(array: Any) -> tuple[np.ndarray, str | None]:
    """A C x H x W tensor or array -> (H x W or H x W x 3 array, colour map): grey for one channel."""
    data = np.asarray(array.detach().float().cpu() if hasattr(array, "detach") else array, dtype=np.float32)
    if data.ndim == 3 and data.shape[0] == 1:
        return data[0], "gray"
    if data.ndim == 3:
        return np.clip(data[:3].transpose(1, 2, 0), 0.0, 1.0), None
    return data, "gray"


def bare(axis: Any) -> None:
    """No ticks or frame: for a panel that shows an image."""
    axis.set_xticks([])
    axis.set_yticks([])
    for spine in axis.spines.values():
        spine.set_visible(False)


def strip(pictures: list[np.ndarray], pad: int = 1) -> np.ndarray:
    """Pictures of one size (H x W grey or H x W x 3 colour, values in [0, 1]) side by side on
    white, as one RGB array: a row of many images is one ``imshow``, not one axes each
    (matplotlib spends most of a many-panel figure's time on its axes)."""
    rgb = [np.repeat(p[..., None], 3, axis=2) if p.ndim == 2 else p for p in pictures]
    height, width = rgb[0].shape[:2]
    canvas = np.ones((height, len(rgb) * (width + pad) - pad, 3), dtype=np.float32)
    for i, picture_ in enumerate(rgb):
        canvas[:, i * (width + pad) : i * (width + pad) + width] = picture_
    return canvas
