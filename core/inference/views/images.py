"""Views of an image classifier: its mistakes, its first layer, its activations, its saliency.

All four are generic: the test split through the ``sample`` hook
(``misclassified``), the weights of the first layer that reads pixels
(``filters``), a forward hook on a named module (``activations``), and the
gradient of the predicted class's score (``saliency``, with Grad-CAM on the
last convolution when there is one).  A classifier's forward pass maps a
batch of inputs to class logits, as archzoo's classification defaults assume.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from archzoo.inference.sampling import expect, sample_checkpoint
from archzoo.inference.views.base import View, ViewError, ViewRequest
from archzoo.inference.views.examples import device_of, example, first_of, layer, layers, loader
from archzoo.inference.views.figures import bare, figure, picture, png, side, strip
from archzoo.inference.views.offers import first_weights
from archzoo.registry.host import Host
from archzoo.registry.limits import check_count
from archzoo.toolkit import unwrap
from archzoo.toolkit.generative import to_unit

#: Confusion-matrix cells shown (the most populated first), and images per cell at most.
MAX_CELLS = 12
MAX_PER_CELL = 32


def class_names(loaded: Any) -> list[str]:
    names = list(loaded.info.class_names)
    return names or [str(i) for i in range(loaded.info.num_classes)]


def probabilities(loaded: Any, inputs: torch.Tensor, host: Host) -> torch.Tensor:
    """Class probabilities through the architecture's ``sample`` hook."""
    result = sample_checkpoint(loaded, {"inputs": inputs}, host=host)
    expect(result, "class-probabilities")
    return result.outputs["probabilities"]


def misclassified(loaded: Any, request: ViewRequest, *, host: Host, extra: Any = None) -> View:
    """Every wrong test prediction, grouped by its (true, predicted) cell; the fullest cells drawn."""
    per_cell = check_count("images per cell", request.counted(8), MAX_PER_CELL)
    names = class_names(loaded)
    size = len(names)
    confusion = np.zeros((size, size), dtype=np.int64)
    cells: dict[tuple[int, int], list[int]] = {}
    pictures: dict[int, torch.Tensor] = {}
    offset = 0
    for inputs, labels in loader(loaded, "test", host):
        predicted = probabilities(loaded, inputs, host).argmax(dim=1)
        for i, (t, p) in enumerate(zip(labels.tolist(), predicted.tolist())):
            confusion[t, p] += 1
            if t != p:
                found = cells.setdefault((t, p), [])
                if len(found) < per_cell:
                    pictures[offset + i] = inputs[i]
                found.append(offset + i)
        offset += len(labels)
    ranked = sorted(cells.items(), key=lambda cell: (-len(cell[1]), cell[0]))
    shown = ranked[:MAX_CELLS]
    rows = max(len(shown), 1)
    per_cell = min(per_cell, max((len(indices) for _, indices in shown), default=1))
    fig, axes = figure(1.0 * per_cell + 1.6, 1.2 * rows + 0.6, rows, 1)
    for axis in axes:
        bare(axis)
    for axis, ((t, p), indices) in zip(axes, shown):
        row = [picture(to_unit(pictures[i], loaded.info))[0] for i in indices[:per_cell]]
        row += [np.ones_like(row[0])] * (per_cell - len(row))  # a short row padded with blank cells
        axis.imshow(strip(row), vmin=0, vmax=1, interpolation="nearest", aspect="equal")
        width = row[0].shape[1] + 1
        for column, index in enumerate(indices[:per_cell]):
            axis.text((column + 0.5) * width - 0.5, -0.8, f"#{index}", ha="center", va="bottom", fontsize=7)
        axis.set_ylabel(f"{names[t]} → {names[p]}\n({len(indices)})", fontsize=8)
    wrong = int(confusion.sum() - np.trace(confusion))
    title = f"misclassified test images: {wrong} of {int(confusion.sum())}, by true → predicted class"
    if not shown:
        axes[0].text(0.5, 0.5, "no test image is misclassified", ha="center", va="center", transform=axes[0].transAxes)
    fig.suptitle(title, fontsize=10)
    data = {
        "split": "test",
        "class_names": names,
        "confusion": confusion.tolist(),
        "examples": int(confusion.sum()),
        "misclassified": wrong,
        "cells": [
            {"true": names[t], "predicted": names[p], "count": len(indices), "indices": indices}
            for (t, p), indices in ranked
        ],
    }
    return View("misclassified", png(fig), data)


def filters(loaded: Any, request: ViewRequest, *, host: Host, extra: Any = None) -> View:
    """The first layer's weights drawn as images: a CNN's first filters, or the rows of a first
    Linear layer folded back into the input's shape (one image per output unit)."""
    shape = tuple(loaded.info.input_shape)
    name, module = first_weights(unwrap(loaded.model), shape)
    weight = module.weight.detach().float().cpu()
    if isinstance(module, nn.Linear):
        images = weight.reshape(weight.shape[0], *shape)
    else:
        images = weight
    count = min(request.counted(64), len(images))
    rows, columns = side(count)
    fig, axes = figure(1.0 * columns + 0.6, 1.0 * rows + 0.6, rows, columns)
    for axis in axes:
        bare(axis)
    for axis, unit in zip(axes, images[:count]):
        if unit.shape[0] == 3:  # colour filters: each scaled to [0, 1] on its own
            low, high = unit.min(), unit.max()
            axis.imshow(((unit - low) / (high - low + 1e-12)).permute(1, 2, 0).numpy())
        else:
            plane = unit.mean(dim=0).numpy()
            bound = float(np.abs(plane).max()) or 1.0
            axis.imshow(plane, cmap="RdBu_r", vmin=-bound, vmax=bound)
    kind = "filters" if isinstance(module, nn.Conv2d) else "weight images"
    fig.suptitle(f"{name}: {count} of {len(images)} {kind} {tuple(weight.shape)} (red +, blue -)", fontsize=10)
    data = {"layer": name, "kind": type(module).__name__, "shape": list(weight.shape), "shown": count}
    return View("filters", png(fig), data)


#: Modules whose outputs are activations in the everyday sense: what ``activations`` shows by default.
NONLINEARITIES = (nn.ReLU, nn.GELU, nn.SiLU, nn.Tanh, nn.Sigmoid, nn.LeakyReLU, nn.ELU)


def default_layer(model: nn.Module) -> str:
    """The first nonlinearity (the first layer's activations), else the first convolution or
    Linear layer: what ``activations`` shows without ``--layer``."""
    found = first_of(model, NONLINEARITIES) or first_of(model, nn.Conv2d) or first_of(model, nn.Linear)
    if found is None:
        names = ", ".join(layers(model))
        raise ViewError(f"the model has no convolution or Linear layer to show; give --layer, one of: {names}")
    return found[0]


def activations(loaded: Any, request: ViewRequest, *, host: Host, extra: Any = None) -> View:
    """One test input's activations at a named layer, caught by a forward hook: one map per
    channel for a feature map, one bar per unit for a vector."""
    model = unwrap(loaded.model)
    name = request.layer or default_layer(model)
    module = layer(model, name)
    inputs, label = example(loaded, request.index, host)
    caught: list[torch.Tensor] = []

    def keep(_module: Any, _inputs: Any, output: Any) -> None:
        caught.append((output[0] if isinstance(output, (tuple, list)) else output).detach().float().cpu())

    handle = module.register_forward_hook(keep)
    try:
        with torch.no_grad():
            logits = model(inputs.to(device_of(model)))
    finally:
        handle.remove()
    if not caught:
        raise ViewError(f"layer '{name}' did not run in the forward pass; choose another with --layer")
    output = caught[0][0]
    names = class_names(loaded)
    predicted = int(logits.argmax(dim=1)[0])
    heading = f"layer '{name}' ({type(module).__name__}) on test image #{request.index}" + (
        f" ({names[int(label[0])]})" if label is not None else ""
    )
    heading += f", predicted {names[predicted]}"
    if output.ndim == 3:
        count = min(request.counted(32), output.shape[0])
        rows, columns = side(count + 1)
        fig, axes = figure(1.1 * columns + 0.6, 1.1 * rows + 0.7, rows, columns)
        for axis in axes:
            bare(axis)
        image, cmap = picture(to_unit(inputs[0].cpu(), loaded.info))
        axes[0].imshow(image, cmap=cmap, vmin=0, vmax=1)
        axes[0].set_title("input", fontsize=7)
        for c, axis in enumerate(axes[1 : count + 1]):
            axis.imshow(output[c].numpy(), cmap="viridis")
            axis.set_title(f"channel {c}", fontsize=7)
    else:
        values = output.flatten()
        count = min(request.counted(256), len(values))
        fig, axis = figure(max(5.0, 0.04 * count + 2), 3.2, squeeze=True)
        axis.bar(range(count), values[:count].numpy(), width=0.9)
        axis.set(xlabel="unit", ylabel="activation")
    fig.suptitle(f"{heading}: output {tuple(output.shape)}", fontsize=10)
    data = {
        "layer": name,
        "index": request.index,
        "label": names[int(label[0])] if label is not None else None,
        "predicted": names[predicted],
        "shape": list(output.shape),
        "shown": count,
        "mean": float(output.mean()),
        "max": float(output.max()),
    }
    return View("activations", png(fig), data)


def saliency(loaded: Any, request: ViewRequest, *, host: Host, extra: Any = None) -> View:
    """|d score / d pixel| of the predicted class for one test image, and Grad-CAM
    (Selvaraju et al., 2017) on the last convolution when the model has one."""
    model = unwrap(loaded.model)
    inputs, label = example(loaded, request.index, host)
    x = inputs.to(device_of(model)).clone().requires_grad_(True)
    convolutions = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    caught: list[torch.Tensor] = []
    handle = convolutions[-1].register_forward_hook(lambda m, i, o: caught.append(o)) if convolutions else None
    try:
        with torch.enable_grad():
            logits = model(x)
            predicted = int(logits.argmax(dim=1)[0])
            score = logits[0, predicted]
            grads = torch.autograd.grad(score, [x, *caught[-1:]])
    finally:
        if handle is not None:
            handle.remove()
    gradient = grads[0][0].abs().amax(dim=0).cpu()
    gradient = gradient / (gradient.max() + 1e-12)
    cam = None
    if len(grads) > 1:
        feature, feature_grad = caught[-1][0].detach(), grads[1][0]
        weights = feature_grad.mean(dim=(1, 2))  # one weight per channel: its gradient averaged over the map
        cam = F.relu((weights[:, None, None] * feature).sum(dim=0))
        cam = F.interpolate(cam[None, None], size=tuple(x.shape[-2:]), mode="bilinear", align_corners=False)[0, 0]
        cam = (cam / (cam.max() + 1e-12)).cpu()
    names = class_names(loaded)
    probability = float(torch.softmax(logits.detach(), dim=1)[0, predicted])
    panels = 3 if cam is not None else 2
    fig, axes = figure(2.6 * panels, 3.0, 1, panels)
    image, cmap = picture(to_unit(inputs[0].cpu(), loaded.info))
    for axis in axes:
        bare(axis)
        axis.imshow(image, cmap=cmap, vmin=0, vmax=1)
    axes[0].set_title("input", fontsize=9)
    axes[1].imshow(gradient.numpy(), cmap="inferno", alpha=0.6)
    axes[1].set_title("input gradient", fontsize=9)
    if cam is not None:
        axes[2].imshow(cam.numpy(), cmap="jet", alpha=0.45)
        axes[2].set_title("Grad-CAM (last convolution)", fontsize=9)
    truth = f", true {names[int(label[0])]}" if label is not None else ""
    fig.suptitle(f"test image #{request.index}: predicted {names[predicted]} ({probability:.2f}){truth}", fontsize=10)
    data = {
        "index": request.index,
        "label": names[int(label[0])] if label is not None else None,
        "predicted": names[predicted],
        "probability": probability,
        "gradient": np.round(gradient.numpy(), 4).tolist(),
        "grad_cam": None if cam is None else np.round(cam.numpy(), 4).tolist(),
    }
    return View("saliency", png(fig), data)
