"""Catalogue card for logistic regression.

The notes' bridge from the perceptron to neural networks: the same score
z = w.x + b, but through the logistic sigmoid instead of a step, so the output
is a probability and the weights can be fitted by gradient descent on the
cross-entropy.  On two classes it has one weight per input and a bias (3
parameters on the 2-D sets); on more classes it is softmax (multinomial)
regression.

No torch here: this module runs whenever archzoo lists what is installed.
"""

from __future__ import annotations

from dataclasses import dataclass

from archzoo import ArchSpec, hookimpl, param


@dataclass
class LogisticConfig:
    """Nothing to shape: one weight per input (per class beyond two) and an optional bias."""

    bias: bool = param(True, "learn an intercept b in sigmoid(w.x + b)")
    input_shape: tuple[int, ...] = param(
        (2,), "shape of one input, flattened to a vector (filled from the dataset)", from_data="input_shape", min=1
    )
    num_classes: int = param(
        2,
        "number of classes (filled from the dataset); 2 is logistic, more is softmax regression",
        from_data="num_classes",
        min=2,
    )


#: On ``moons`` (2 inputs, 2 classes): two weights and a bias.
DEFAULT_PARAMETERS = 3


@hookimpl
def archzoo_register(registry):
    registry.add_architecture(
        ArchSpec(
            name="logistic",
            task="tabular-classification",
            summary="Logistic regression: sigmoid(w.x + b) fitted by gradient descent on the cross-entropy; a "
            "straight decision boundary with probabilities.",
            config=LogisticConfig,
            default_dataset="moons",
            citation="Cox (1958), The regression analysis of binary sequences. JRSS B 20(2):215-242.",
            parameters=DEFAULT_PARAMETERS,
            implementation="archzoo.plugins.logistic.model",
        )
    )
