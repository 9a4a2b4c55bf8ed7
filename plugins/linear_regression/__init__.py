"""Catalogue card for linear (and polynomial, and ridge) regression.

The explainers open with it (2.1): predict a number as theta_0 + theta . x, chosen to
minimise the squared error.  Polynomial features x, x^2, ..., x^d (every monomial of
total degree at most d for several inputs) keep the model linear in theta while the
curve bends; a ridge penalty delta keeps X^T X + delta I invertible when the features
outnumber what the data can pin down.  Both solvers the explainers derive are here:
the closed form, in one pass over the training data, and gradient descent through
archzoo's shared trainer.  They minimise the same objective and agree.

No torch here: this module runs whenever archzoo lists what is installed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from archzoo import ArchSpec, hookimpl, param


@dataclass
class LinearRegressionConfig:
    """The features (polynomial degree), the penalty and the solver; input and output sizes from the data."""

    degree: int = param(
        1,
        "polynomial degree d: features are every monomial of the inputs of degree 1..d (x, x^2, ... for one input); "
        "1 is plain linear regression",
        min=1,
        max=30,
    )
    ridge: float = param(
        0.0,
        "ridge penalty delta (explainers 2.1): minimise mean (y - f(x))^2 + delta |w|^2, i.e. the closed form "
        "(X^T X + n delta I)^-1 X^T y; the intercept is not penalised; 0: ordinary least squares",
        min=0.0,
        max=1e6,
    )
    solver: Literal["closed-form", "gradient-descent"] = param(
        "closed-form",
        "closed-form: solve the normal equations, accumulated over one pass of the training data (the run's "
        "optimizer is unused); gradient-descent: SGD on the same objective with the run's lr and momentum",
    )
    input_shape: tuple[int, ...] = param(
        (1,), "shape of one input, flattened to a vector (filled from the dataset)", from_data="input_shape", min=1
    )
    outputs: int = param(1, "numbers predicted per input (filled from the dataset)", from_data="num_classes", min=1)


#: On ``sine`` (one input, one output) at degree 1: a slope and an intercept.
DEFAULT_PARAMETERS = 2


@hookimpl
def archzoo_register(registry):
    registry.add_architecture(
        ArchSpec(
            name="linear-regression",
            task="tabular-regression",
            summary="Linear regression with polynomial features and a ridge penalty, fitted in closed form "
            "((X^T X + delta I)^-1 X^T y) or by gradient descent (explainers 2.1).",
            config=LinearRegressionConfig,
            default_dataset="sine",
            citation="Legendre (1805), Nouvelles methodes pour la determination des orbites des cometes; "
            "Hoerl & Kennard (1970), Ridge regression. Technometrics 12(1):55-67.",
            parameters=DEFAULT_PARAMETERS,
            implementation="archzoo.plugins.linear_regression.model",
        )
    )
