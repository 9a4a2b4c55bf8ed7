"""The linear soft-margin SVM, as in the lecture notes.

Recipe: a margin f(x) = w.x + b and labels y in {-1, +1}; minimise

    J(w, b) = lambda/2 * |w|^2 + mean_i max(0, 1 - y_i f(x_i))

by (sub)gradient descent on mini-batches (the Pegasos view of the SVM).  The
hinge is zero for points beyond the margin |f| >= 1 on the right side, so
only the points on or inside the margin (the support vectors) move the line.
``regularization`` is lambda; the textbook's C (sum of slacks) is
1 / (lambda * n).  The penalty is in the loss, not in the optimiser:
``configure_optimizers`` gives plain SGD (the run's ``lr`` and ``momentum``)
without weight decay, and the bias is not penalised.

Beyond two classes it is one-vs-rest: one margin per class, each with its own
hinge loss against "every other class", predicting the largest margin.

Probabilities: an SVM does not have any.  ``sample`` reports
sigmoid(f(x)) for class 1 on two classes (softmax of the margins beyond),
a monotone squashing that is 0.5 on the boundary and tends to 1 far from it.
They rank the inputs correctly, but they are *not calibrated*: no Platt
scaling is fitted, and 0.73 does not mean "right 73% of the time".
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from archzoo import SampleResult, hookimpl
from archzoo.toolkit import unwrap


class LinearSVM(nn.Module):
    """Flatten -> Linear(d, 1) margin (two classes) or Linear(d, C) margins (one-vs-rest).

    ``forward`` returns (0, f) on two classes, so argmax predicts class 1 when f > 0,
    as every classifier in archzoo does with its scores."""

    def __init__(self, in_features: int, num_classes: int = 2, regularization: float = 1e-3):
        super().__init__()
        self.regularization = regularization  # lambda in the objective
        self.binary = num_classes == 2
        self.linear = nn.Linear(in_features, 1 if self.binary else num_classes)

    def margins(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x.flatten(1))  # (B, 1) or (B, C)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.margins(x)
        return torch.cat([torch.zeros_like(f), f], dim=1) if self.binary else f


def hinge_loss(model: nn.Module, inputs: torch.Tensor, labels: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """max(0, 1 - y f(x)) with y in {-1, +1}; summed over the one-vs-rest margins."""
    f = model(inputs)
    if unwrap(model).binary:
        f = f[:, 1:]  # the margin itself
        signs = (2 * labels - 1).float().unsqueeze(1)
    else:
        signs = 2 * F.one_hot(labels, f.shape[1]).float() - 1
    per_example = torch.clamp(1 - signs * f, min=0).sum(dim=1)
    return per_example.mean() if reduction == "mean" else per_example


@hookimpl
def build_model(spec, config):
    return LinearSVM(math.prod(config.input_shape), config.num_classes, config.regularization)


@hookimpl
def configure_optimizers(spec, model, train_config):
    # Plain (sub)gradient descent; the L2 penalty is part of the loss, so no weight decay here.
    return torch.optim.SGD(model.parameters(), lr=train_config.lr, momentum=train_config.momentum)


@hookimpl
def train_step(spec, model, batch, ctx):
    inputs, labels = batch
    net = unwrap(model)
    hinge = hinge_loss(model, inputs, labels)
    loss = hinge + net.regularization / 2 * net.linear.weight.pow(2).sum()
    ctx.backward(loss)
    ctx.step()
    with torch.no_grad():
        accuracy = (model(inputs).argmax(dim=1) == labels).float().mean()
    return {"loss": loss.detach(), "hinge": hinge.detach(), "accuracy": accuracy.detach()}


@hookimpl
def evaluate(spec, model, loader, ctx):
    hinges, hits = [], []
    with torch.no_grad():
        for inputs, labels in loader:
            hinges.append(ctx.gather(hinge_loss(model, inputs, labels, reduction="none")))
            hits.append(ctx.gather(model(inputs).argmax(dim=1) == labels))
    if not hits:
        raise ValueError("cannot evaluate on an empty data split")
    return {"accuracy": torch.cat(hits).float().mean().item(), "hinge_loss": torch.cat(hinges).mean().item()}


@hookimpl
def sample(spec, model, request, ctx):
    """sigmoid of the margin (softmax of the margins beyond two classes): uncalibrated, see the module docstring."""
    inputs = request["inputs"].to(ctx.device)
    with torch.no_grad():
        probabilities = torch.softmax(model(inputs), dim=1)  # on two classes: (1 - sigmoid(f), sigmoid(f))
    return SampleResult(
        kind="class-probabilities",
        outputs={"probabilities": probabilities.cpu(), "class_names": list(ctx.info.class_names)},
    )


@hookimpl
def archzoo_views(spec, model, ctx):
    """The boundary view also draws the margin f(x) = +-1.  With (0, f) as the logits, the
    log-odds log p1 / p0 the view computes is f itself."""
    if not unwrap(model).binary:
        return None
    return {"boundary": lambda request: {"margins": [-1.0, 1.0]}}
