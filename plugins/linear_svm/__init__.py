"""Catalogue card for the linear support vector machine.

The soft-margin SVM of the notes, trained the way a neural network is: the
hinge loss max(0, 1 - y f(x)) plus an L2 penalty on w, minimised by
(sub)gradient descent.  Same straight boundary as logistic regression, but
fitted to the widest margin, with a loss that ignores points beyond it.

No torch here: this module runs whenever archzoo lists what is installed.
"""

from __future__ import annotations

from dataclasses import dataclass

from archzoo import ArchSpec, hookimpl, param


@dataclass
class LinearSVMConfig:
    """The soft margin's trade-off, as the regularisation strength lambda."""

    regularization: float = param(
        1e-3,
        "lambda in lambda/2 * |w|^2 + mean hinge loss; the textbook C is 1 / (lambda * n) for n training points; "
        "larger means a wider, softer margin",
        min=0.0,
        max=1e3,
    )
    input_shape: tuple[int, ...] = param(
        (2,), "shape of one input, flattened to a vector (filled from the dataset)", from_data="input_shape", min=1
    )
    num_classes: int = param(
        2, "number of classes (filled from the dataset); beyond 2, one-vs-rest", from_data="num_classes", min=2
    )


#: On ``moons`` (2 inputs, 2 classes): two weights and a bias.
DEFAULT_PARAMETERS = 3


@hookimpl
def archzoo_register(registry):
    registry.add_architecture(
        ArchSpec(
            name="linear-svm",
            task="tabular-classification",
            metrics={"hinge_loss": "lower"},
            summary="Linear soft-margin SVM: hinge loss plus L2 penalty by gradient descent; a maximum-margin "
            "straight boundary.",
            config=LinearSVMConfig,
            default_dataset="moons",
            citation="Cortes & Vapnik (1995), Support-vector networks. Machine Learning 20:273-297; Shalev-Shwartz et "
            "al. (2007), Pegasos.",
            parameters=DEFAULT_PARAMETERS,
            implementation="archzoo.plugins.linear_svm.model",
        )
    )
