"""The residuals of a regression: how far each test prediction is from the truth, and where.

Two panels, generic for any ``tabular-regression`` checkpoint (its ``sample`` hook's
predicted values, :func:`archzoo.inference.regression.residuals`):

- one input (the ``sine`` set): the test points and the fitted curve over x, then the
  residual against x, where a misfit shows as a pattern (a straight line through a
  sine leaves a sine behind);
- several inputs: predicted against true with the diagonal of a perfect fit, then the
  residual against the prediction.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from archzoo.inference.regression import Residuals, curve, residuals
from archzoo.inference.views.base import View, ViewRequest
from archzoo.inference.views.figures import figure, png
from archzoo.registry.host import Host
from archzoo.toolkit.regression import regression_scores


def residual_view(loaded: Any, request: ViewRequest, *, host: Host, extra: Any = None) -> View:
    found = residuals(loaded, split="test", limit=request.counted(5000), host=host)
    xs = fitted = None
    if found.inputs.shape[1] == 1:
        low, high = found.inputs.min(), found.inputs.max()
        pad = 0.05 * (high - low or 1.0)
        xs = np.linspace(low - pad, high + pad, request.resolution)
        fitted = curve(loaded, xs, host=host)
    title = f"{loaded.spec.name} on {found.dataset}"
    picture = draw_residuals(found, title, xs, fitted)
    data = {
        "names": found.names,
        "inputs": found.inputs,
        "true": found.true,
        "predicted": found.predicted,
        **({"curve_x": xs, "curve_y": fitted} if xs is not None else {}),
    }
    return View("residuals", picture, data)


def scores_line(found: Residuals) -> str:
    """``R^2 0.83, MSE 0.092`` of the residuals' own split."""
    import torch

    scores = regression_scores(torch.from_numpy(found.predicted), torch.from_numpy(found.true))
    return f"R\u00b2 {scores['r2']:.3f}, MSE {scores['mse']:.4g} ({len(found.true)} {found.split} examples)"


def draw_residuals(
    found: Residuals, title: str, xs: np.ndarray | None = None, fitted: np.ndarray | None = None
) -> bytes:
    """The two panels as PNG bytes (the first output's, when there are several)."""
    true, predicted, residual = found.true[:, 0], found.predicted[:, 0], found.residuals[:, 0]
    name = found.names[0] if found.names else "y"
    fig, (left, right) = figure(10.0, 4.2, 1, 2)
    if xs is not None and fitted is not None:
        x = found.inputs[:, 0]
        left.plot(x, true, "o", ms=3.5, color="#1f77b4", mec="black", mew=0.3, label=f"{found.split} points")
        left.plot(xs, fitted[:, 0], "-", color="#d62728", lw=2, label="fitted")
        left.set(xlabel="x", ylabel=name, title="data and fit")
        right.plot(x, residual, "o", ms=3.5, color="#2ca02c", mec="black", mew=0.3)
        right.set(xlabel="x", ylabel=f"residual ({name} - predicted)", title="residual against x")
        left.legend(fontsize=8)
    else:
        low, high = float(min(true.min(), predicted.min())), float(max(true.max(), predicted.max()))
        left.plot(true, predicted, "o", ms=3.5, color="#1f77b4", mec="black", mew=0.3)
        left.plot([low, high], [low, high], "--", color="black", lw=1, label="perfect fit")
        left.set(xlabel=f"true {name}", ylabel=f"predicted {name}", title="predicted against true")
        right.plot(predicted, residual, "o", ms=3.5, color="#2ca02c", mec="black", mew=0.3)
        right.set(xlabel=f"predicted {name}", ylabel="residual (true - predicted)", title="residual against prediction")
        left.legend(fontsize=8)
    right.axhline(0.0, color="black", lw=1)
    fig.suptitle(f"{title}: {scores_line(found)}", fontsize=10)
    return png(fig)
