"""MC-dropout (notes, exercise 3.3): a classifier's answer and how sure it is of it.

Dropout left on at prediction time makes every forward pass a different thinned
network; the mean of many passes' probabilities is the prediction, and their
spread says how much the thinned networks disagree.  Batch norm stays in
evaluation mode (its running statistics), so only dropout varies.
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch
import torch.nn as nn

from archzoo.errors import ArchzooError
from archzoo.inference.sampling import sample_checkpoint
from archzoo.registry.host import Host
from archzoo.registry.specs import SampleResult

#: At most this many passes in one prediction: each is a whole forward pass.
MAX_PASSES = 1000

DROPOUT_LAYERS = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout)


@contextlib.contextmanager
def dropout_active(model: nn.Module, name: str):
    """The model's dropout layers in training mode for the block, the rest as it was."""
    layers = [m for m in model.modules() if isinstance(m, DROPOUT_LAYERS) and m.p > 0]
    if not layers:
        raise ArchzooError(
            f"{name} has no dropout to leave on, so every pass would give the same answer: MC-dropout needs a model "
            "trained with dropout (e.g. --set dropout=0.3)"
        )
    try:
        for layer in layers:
            layer.train()
        yield
    finally:
        for layer in layers:
            layer.eval()


def mc_dropout(loaded: Any, request: dict[str, Any], passes: int, seed: int, host: Host | None) -> SampleResult:
    """``passes`` samples of the classifier's probabilities with dropout on: their mean as
    ``probabilities`` and their standard deviation as ``spread``, class by class."""
    device = next(loaded.model.parameters()).device
    forked = [] if device.type == "cpu" else [device.index or 0]  # the masks are drawn where the model is
    with torch.random.fork_rng(devices=forked, device_type=device.type), dropout_active(loaded.model, str(loaded.path)):
        torch.manual_seed(seed)
        draws = [sample_checkpoint(loaded, request, host=host) for _ in range(passes)]
    if draws[0].kind != "class-probabilities":
        return draws[0]  # the caller names what came back instead
    stacked = torch.stack([draw.outputs["probabilities"] for draw in draws])  # (passes, inputs, classes)
    outputs = {**draws[0].outputs, "probabilities": stacked.mean(dim=0), "spread": stacked.std(dim=0)}
    return SampleResult(kind="class-probabilities", outputs=outputs)
