"""The multilayer perceptron, as in the lecture notes.

Recipe: flatten the input to a vector, then for each hidden width a
Linear (-> BatchNorm or LayerNorm) -> activation (-> Dropout) block, then
Linear to the class scores.
The notes' baseline is 784-256-10 (203,530 parameters) and the deeper
784-256-128-10 (235,146), trained with Adam at 1e-3, batch 128, 10 epochs;
the width/depth ablations are [1024], [256,128,64] and [64,64,64,64].
The regularised network of 3.10 (``regularizednet`` preset) is 784-256-256-10
with BatchNorm and Dropout 0.3 after each hidden layer.

Only ``build_model`` lives here: training step, evaluation and sampling are
the standard classification ones that archzoo supplies (cross-entropy step,
accuracy/loss evaluation, softmax probabilities).
"""

from __future__ import annotations

import math

import torch.nn as nn

from archzoo import hookimpl
from archzoo.toolkit.layers import activation, initialise, norm_1d


class MLP(nn.Module):
    """Flatten -> [Linear (-> norm) -> act (-> Dropout)] * len(hidden) -> Linear."""

    def __init__(
        self,
        in_features: int,
        hidden: tuple[int, ...],
        num_classes: int,
        activation_name: str = "relu",
        dropout: float = 0.0,
        norm: str = "none",
    ):
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = in_features
        for h in hidden:
            layers += [nn.Linear(width, h), *norm_1d(norm, h), activation(activation_name)]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, num_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)  # (B, *input_shape) -> (B, num_classes) logits


@hookimpl
def build_model(spec, config):
    in_features = math.prod(config.input_shape)  # 1x28x28 -> 784, moons (2,) -> 2
    model = MLP(in_features, tuple(config.hidden), config.num_classes, config.activation, config.dropout, config.norm)
    return initialise(model, config.init, config.activation)
