"""Logistic regression, as in the lecture notes.

Recipe: p(y = 1 | x) = sigmoid(w.x + b), trained by gradient descent on the
binary cross-entropy -[y log p + (1 - y) log(1 - p)].  The decision boundary
w.x + b = 0 is a straight line: good enough for ``moons`` (0.83 test accuracy
with the ``logistic-moons`` preset) and hopeless on ``xor``, where the best
line cuts off one of the four blobs (0.75) and gradient descent from a small
start does worse (0.59): the lesson that motivates hidden layers.

One trick makes it fit archzoo's classification defaults unchanged: the model
returns the two logits (0, z).  Their softmax is exactly
(1 - sigmoid(z), sigmoid(z)), and cross-entropy on them is exactly the binary
cross-entropy above, so the default training step, evaluation and sampling
*are* logistic regression, with one weight vector, not two.  With more than
two classes the model is softmax regression, Linear(inputs, classes).

Only ``build_model`` lives here; weight decay (``--set weight_decay=...``)
is the L2 penalty.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn

from archzoo import hookimpl


class LogisticRegression(nn.Module):
    """Flatten -> Linear(d, 1) -> logits (0, z) for two classes; Linear(d, C) beyond."""

    def __init__(self, in_features: int, num_classes: int = 2, bias: bool = True):
        super().__init__()
        self.binary = num_classes == 2
        self.linear = nn.Linear(in_features, 1 if self.binary else num_classes, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.linear(x.flatten(1))
        if self.binary:  # softmax(0, z) = (1 - sigmoid(z), sigmoid(z))
            return torch.cat([torch.zeros_like(z), z], dim=1)
        return z


@hookimpl
def build_model(spec, config):
    return LogisticRegression(math.prod(config.input_shape), config.num_classes, config.bias)
