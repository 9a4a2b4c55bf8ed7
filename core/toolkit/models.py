"""Small helpers for the modules plugins build: reaching the model inside a
distributed wrapper, counting its parameters, and the weight-decay split every
optimizer wants."""

from __future__ import annotations

from typing import Any

import torch.nn as nn

from archzoo.registry.host import Host, get_host
from archzoo.registry.plans import fill_from_data, plan_run


def unwrap(model: nn.Module) -> nn.Module:
    """The plugin's own module: under several processes the trainer hands hooks a
    ``DistributedDataParallel`` wrapper whose ``.module`` is the model; alone it is the model itself."""
    return getattr(model, "module", model)


def param_groups_weight_decay(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """Optimizer parameter groups with ``weight_decay`` on weight matrices and
    kernels, and none on biases and normalisation scales (tensors of one
    dimension), as is usual for AdamW.  Frozen parameters are left out; with a
    decay of 0 there is one group, so the optimizer updates all tensors in one call."""
    params = [p for p in model.parameters() if p.requires_grad]
    if weight_decay == 0:
        return [{"params": params}] if params else []
    groups = [
        {"params": [p for p in params if p.ndim >= 2], "weight_decay": weight_decay},
        {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
    ]
    return [g for g in groups if g["params"]]


def parameter_count(model: nn.Module) -> tuple[int, int]:
    """(all parameters, trainable parameters)."""
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return total, trainable


def planned_parameters(name: str, host: Host | None = None) -> int | None:
    """How many parameters the model ``archzoo train NAME`` starts has: an
    architecture's declared count for its defaults, else the model built on its
    dataset's declared input shape; ``None`` when that shape is known only from
    the data itself, or a third-party model cannot be built here."""
    host = host or get_host()
    plan = plan_run(name, host=host)
    if plan.preset is None and plan.spec.parameters is not None:
        return plan.spec.parameters
    config, dataset = plan.config, host.datasets.get(plan.dataset)
    if dataset is not None and dataset.input_shape:
        config = fill_from_data(config, dataset)
    try:
        return parameter_count(host.hooks(plan.spec).build_model(config))[0]
    except Exception:  # shown as '?'
        return None


def plan_on_meta(build: Any, config: Any) -> dict[str, tuple[tuple[int, ...], Any]] | None:
    """``{tensor name: (shape, dtype)}`` of the model ``build(config)`` would make, found by
    building it on PyTorch's ``meta`` device, which allocates no memory: the size of a model
    described by a form or someone's config.json is known before a byte of it exists.

    None when the model cannot be built there (a plugin that reads pretrained weights from
    disk while building; its size is the pretrained model's, not the config's)."""
    import torch

    try:
        with torch.device("meta"):
            model = build(config)
        state = unwrap(model).state_dict()
    except Exception:  # not buildable on meta: the caller builds for real, as before
        return None
    return {name: (tuple(tensor.shape), tensor.dtype) for name, tensor in state.items()}


def planned_size(plan: dict[str, tuple[tuple[int, ...], Any]]) -> int:
    """Elements in a :func:`plan_on_meta` plan (parameters and buffers)."""
    total = 0
    for shape, _ in plan.values():
        count = 1
        for side in shape:
            count *= side
        total += count
    return total
