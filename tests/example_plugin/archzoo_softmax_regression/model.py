"""The softmax-regression model and its four model hooks.

archzoo's classification defaults would do for train_step, evaluate and
sample; they are written out here so that this example shows every hook.
The host calls them only for "softmax-regression", so none of them has to
check ``spec``.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from archzoo import SampleResult, hookimpl


class SoftmaxRegression(nn.Module):
    """(B, *input_shape) -> (B, num_classes) logits."""

    def __init__(self, in_features: int, num_classes: int, bias: bool = True):
        super().__init__()
        self.linear = nn.Linear(in_features, num_classes, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x.flatten(start_dim=1))


@hookimpl
def build_model(spec, config):
    return SoftmaxRegression(math.prod(config.input_shape), config.num_classes, config.bias)


@hookimpl
def train_step(spec, model, batch, ctx):
    inputs, labels = batch  # already on ctx.device
    logits = model(inputs)
    loss = F.cross_entropy(logits, labels)
    ctx.backward(loss)  # through Accelerate: mixed precision, several GPUs
    ctx.step()  # clip, optimizer step, schedule step, zero the gradients
    accuracy = (logits.detach().argmax(dim=1) == labels).float().mean()
    return {"loss": loss.item(), "accuracy": accuracy.item()}


@hookimpl
def evaluate(spec, model, loader, ctx):
    correct = torch.zeros((), device=ctx.device)
    loss_sum = torch.zeros((), device=ctx.device)
    count = 0
    with torch.no_grad():
        for inputs, labels in loader:
            logits = model(inputs)
            # ctx.gather: every process's per-example results (this process's alone on one)
            losses = ctx.gather(F.cross_entropy(logits, labels, reduction="none"))
            hits = ctx.gather((logits.argmax(dim=1) == labels).float())
            loss_sum += losses.sum()
            correct += hits.sum()
            count += hits.numel()
    if count == 0:
        raise ValueError("cannot evaluate on an empty data split")
    return {"accuracy": correct.item() / count, "loss": loss_sum.item() / count}


@hookimpl
def sample(spec, model, request, ctx):
    inputs = request["inputs"].to(ctx.device)
    with torch.no_grad():
        probs = torch.softmax(model(inputs), dim=1)
    return SampleResult(
        kind="class-probabilities",
        outputs={"probabilities": probs.cpu(), "class_names": list(ctx.info.class_names)},
    )
