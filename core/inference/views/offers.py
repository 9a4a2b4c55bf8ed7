"""Which generic views a model offers, from its task, its inputs and its layers (no plugin code).

The rules are the ones docs/views.md lists; a plugin adds views of its own
through the ``archzoo_views`` hook (see :func:`archzoo.inference.views.plugin_views`).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn as nn

from archzoo.inference.views.examples import device_of
from archzoo.registry.host import Host
from archzoo.toolkit import unwrap

CLASSIFIERS = ("image-classification", "tabular-classification", "text-classification")


def generic(loaded: Any, host: Host) -> list[str]:
    spec, info, model = loaded.spec, loaded.info, unwrap(loaded.model)
    shape = tuple(info.input_shape)
    names: list[str] = []
    classifier = spec.task in CLASSIFIERS
    if points_classifier(spec, info):
        names.append("boundary")
    if info.task == "tabular-regression":
        names.append("residuals")
    if classifier and len(shape) == 3:
        names += ["misclassified", "filters"] if first_weights(model, shape) is not None else ["misclassified"]
        names += ["activations", "saliency"]
    if spec.task == "image-generation":
        names.append("samples")
        if len(shape) == 3 and callable(getattr(model, "encode", None)):
            names += ["latent", "reconstructions"]
    if attends(loaded):
        names.append("attention")
    return names


def points_classifier(spec: Any, info: Any) -> bool:
    """A classifier of 2-D points (rows of two numbers): it has a decision boundary to draw."""
    return spec.task in CLASSIFIERS and info.task == "tabular-classification" and tuple(info.input_shape) == (2,)


def first_weights(model: nn.Module, shape: tuple[int, ...]) -> tuple[str, nn.Module] | None:
    """The layer whose weights are images: the first convolution, or a first Linear that reads
    the whole flattened input (a linear model's or an MLP's first layer)."""
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d):
            return name, module
        if isinstance(module, nn.Linear):
            return (name, module) if module.in_features == math.prod(shape) else None
    return None


def attends(loaded: Any) -> bool:
    """Whether a forward pass computes attention: an ``nn.MultiheadAttention`` layer, or (for
    sequence models) a probe of one short dummy input that calls ``scaled_dot_product_attention``;
    a sequence-to-sequence model, whether one greedy step of it returns attention."""
    model = unwrap(loaded.model)
    if loaded.info.task == "sequence-to-sequence":  # the maps its prediction returns: none without attention
        return bool(model.greedy(torch.full((1, 2), 3, dtype=torch.long, device=device_of(model)), 1)[1])
    if any(isinstance(m, nn.MultiheadAttention) for m in model.modules()):
        return True
    if loaded.info.task not in ("text-classification", "text-generation"):
        return False
    from archzoo.inference.views.attention import probe

    return probe(loaded)
