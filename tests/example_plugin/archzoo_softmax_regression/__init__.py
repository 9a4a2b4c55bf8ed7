"""Softmax regression for archzoo: one Linear layer from the flattened input to
the class scores, trained with cross-entropy.

This module is the catalogue card.  archzoo imports it whenever it lists what
is installed, so it holds only the typed config and the spec: no torch.  The
model and its hooks are in ``archzoo_softmax_regression.model``, which archzoo
imports the first time the architecture is used (``implementation=`` below).
It also ships a study (``studies.toml`` beside it), which ``archzoo study list`` shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from archzoo import ArchSpec, hookimpl, param


@dataclass
class SoftmaxRegressionConfig:
    """Input shape and class count come from the dataset; the bias is optional."""

    input_shape: tuple[int, ...] = param(
        (1, 8, 8), "shape of one input, flattened to a vector (filled from the dataset)", from_data="input_shape", min=1
    )
    num_classes: int = param(10, "number of classes (filled from the dataset)", from_data="num_classes", min=2)
    bias: bool = param(True, "learn one bias per class")


@hookimpl
def archzoo_register(registry):
    registry.add_architecture(
        ArchSpec(
            name="softmax-regression",
            task="image-classification",
            summary="Softmax regression: one Linear layer from the flattened input to the class scores",
            config=SoftmaxRegressionConfig,
            default_dataset="digits",
            citation="Cox (1958), The regression analysis of binary sequences. JRSS B 20(2):215-242.",
            parameters=650,  # on digits: 64 inputs x 10 classes + 10 biases
            implementation="archzoo_softmax_regression.model",
        )
    )
    registry.add_presets(Path(__file__).with_name("presets.toml"))
    registry.add_studies(Path(__file__).with_name("studies.toml"))
