"""Catalogue card for the multilayer perceptron.

The MLP is the first network in the lecture notes: flatten the input, then a
stack of Linear -> activation layers, then one Linear to the class scores.  It
has no notion of space, so it serves images (flattened) and plain feature
vectors alike; that is why it also lists ``tabular-classification`` (the 2-D
``moons`` points, say) and ``tabular-regression`` (the ``sine`` curve: one output,
trained on the mean squared error by archzoo's regression defaults).

This module is imported whenever archzoo lists what is installed, so it holds
only the typed config and the spec: no torch.  The network is in
:mod:`archzoo.plugins.mlp.model`, imported when the architecture is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from archzoo import ArchSpec, hookimpl, param


@dataclass
class MLPConfig:
    """Widths of the hidden layers, their activation, normalisation, dropout and
    initialisation; input size and class count come from the dataset."""

    hidden: tuple[int, ...] = param(
        (256,),
        "widths of the hidden layers, input to output (e.g. 256,128); empty for a linear model",
        min=1,
        max=65536,
    )
    activation: Literal["relu", "gelu", "tanh", "sigmoid", "leaky_relu", "elu", "silu", "mish"] = param(
        "relu", "nonlinearity after each hidden layer (notes 1.1.2; leaky ReLU with slope 0.01)"
    )
    dropout: float = param(0.0, "dropout probability after each hidden activation; 0 turns it off", min=0.0, max=0.95)
    norm: Literal["none", "batch", "layer"] = param(
        "none",
        "normalisation between each hidden Linear and its activation: BatchNorm1d (the notes' RegularizedNet, 3.10) "
        "or LayerNorm",
    )
    init: Literal["default", "xavier", "he", "normal"] = param(
        "default",
        "weight initialisation (notes 1.5): PyTorch's default, Xavier/Glorot uniform, He/Kaiming normal, or "
        "N(0, 0.02^2); biases start at 0",
    )
    input_shape: tuple[int, ...] = param(
        (1, 8, 8), "shape of one input, flattened to a vector (filled from the dataset)", from_data="input_shape", min=1
    )
    num_classes: int = param(
        10,
        "number of classes, or of numbers a regression predicts (filled from the dataset: 1 for sine)",
        from_data="num_classes",
        min=1,
    )


#: Parameters of the default config on ``digits`` (1x8x8, 10 classes):
#: 64*256+256 (hidden) + 256*10+10 (output) = 16,640 + 2,570.
DEFAULT_PARAMETERS = 19_210


@hookimpl
def archzoo_register(registry):
    registry.add_architecture(
        ArchSpec(
            name="mlp",
            task="image-classification",
            extra_tasks=("tabular-classification", "tabular-regression"),
            summary="Multilayer perceptron: flatten, Linear-activation blocks, Linear to classes (the 784-256-10 "
            "lecture-note baseline).",
            config=MLPConfig,
            default_dataset="digits",
            citation="Rumelhart, Hinton & Williams (1986), Learning representations by back-propagating errors. "
            "Nature 323:533-536.",
            parameters=DEFAULT_PARAMETERS,
            implementation="archzoo.plugins.mlp.model",
        )
    )
