"""Catalogue card for Rosenblatt's perceptron, and its two truth tables.

The perceptron is the first learning machine in the lecture notes: a weighted
sum of the inputs through a step, and Rosenblatt's rule that nudges the
weights towards every example it gets wrong.  On a linearly separable set
(the ``and`` and ``or`` truth tables) the rule stops changing the weights
after finitely many mistakes; on ``xor`` no line separates the classes and it
never stops: archzoo reports that as ``converged 0.0``, a result, not a crash.

The ``and`` and ``or`` datasets are registered here, beside the architecture
that needs them; their loader lives in :mod:`archzoo.plugins.perceptron.data`.
No torch here: this module runs whenever archzoo lists what is installed.
"""

from __future__ import annotations

from dataclasses import dataclass

from archzoo import ArchSpec, DatasetSpec, hookimpl, param


@dataclass
class PerceptronConfig:
    """The perceptron has no shape to choose: one weight per input and a bias.
    Its only knob is the step size of Rosenblatt's rule."""

    step_size: float = param(
        1.0,
        "eta in Rosenblatt's rule w <- w + eta*(y - y_hat)*x; from zero weights it only scales w, never changes a "
        "decision",
        min=1e-6,
        max=1e6,
    )
    input_shape: tuple[int, ...] = param(
        (2,), "shape of one input, flattened to a vector (filled from the dataset)", from_data="input_shape", min=1
    )
    num_classes: int = param(
        2,
        "number of classes (filled from the dataset); the perceptron separates exactly two",
        from_data="num_classes",
        min=2,
        max=2,
    )


#: On ``and`` (2 inputs): two weights and a bias.
DEFAULT_PARAMETERS = 3

_DATA = "archzoo.plugins.perceptron.data"


@hookimpl
def archzoo_register(registry):
    registry.add_architecture(
        ArchSpec(
            name="perceptron",
            task="tabular-classification",
            metrics={"converged": "higher"},
            summary="Rosenblatt's perceptron: weighted sum, step activation, the mistake-driven update rule; "
            "converges on linearly separable data, reports when it does not.",
            config=PerceptronConfig,
            default_dataset="and",
            citation="Rosenblatt (1958), The perceptron: a probabilistic model for information storage and "
            "organization in the brain. Psychological Review 65(6):386-408.",
            parameters=DEFAULT_PARAMETERS,
            implementation="archzoo.plugins.perceptron.model",
        )
    )
    for name, rule in (("and", "x1 AND x2"), ("or", "x1 OR x2")):
        registry.add_dataset(
            DatasetSpec(
                name=name,
                task="tabular-classification",
                summary=f"the {name.upper()} truth table: the four points of {{0,1}}^2 labelled {rule}; train, "
                "validation and test are the same four rows",
                loader=f"{_DATA}:load_{name}",
                source="Boolean logic; the linearly separable gates of Minsky & Papert (1969), Perceptrons",
                input_shape=(2,),
                num_classes=2,
            )
        )
