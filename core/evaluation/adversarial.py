"""Adversarial examples: the fast gradient sign method (FGSM, Goodfellow et al., 2015).

An adversarial input is built to fool the model, not drawn from the world:
each pixel takes one step of size ε in the direction that raises the loss,

    x_adv = clip(x + ε · sign(∇x loss(f(x), y)), 0, 1),

with the cross-entropy loss of the true class y.  ε is in pixel units (pixels
in [0, 1]: an image file's values divided by the ``raw_scale`` of
:mod:`archzoo.checkpoints.preprocessing`, before its ``(x - mean) / std``), so
0.1 is a tenth of the range from black to white whatever the checkpoint's
normalisation: the step is taken in pixel space (the
normalisation undone, the step taken and clipped to valid pixels, the
normalisation redone), as :mod:`archzoo.evaluation.shift` does for rotation
and noise, and the gradient flows through the model's own normalised input.

Accuracy against ε says how close to the data the model's decision
boundaries lie: a curve that drops at ε = 0.05, a change hardly visible,
means the model agrees with the data on natural images and not around them.
For image classifiers only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from archzoo.errors import ArchzooError, ConfigError
from archzoo.evaluation.logits import collect
from archzoo.evaluation.shift import Curve, from_pixels, to_pixels

#: Step sizes in pixel units (pixels in [0, 1]).
EPSILONS = (0.0, 0.05, 0.1, 0.2, 0.3)
#: Examples kept for the report's pictures (original, perturbation, adversarial).
SHOWN = 4


class AttackError(ArchzooError):
    """The model cannot be attacked by gradient: its forward gives no class scores to differentiate."""


@dataclass
class Attack:
    """The FGSM accuracy curve and a few examples to look at."""

    curve: Curve
    shown: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"fgsm": self.curve.to_dict(), "shown": self.shown}


def check_epsilons(epsilons: Any) -> tuple[float, ...]:
    """``epsilons`` as a sorted tuple of distinct step sizes, each from 0 to 1 in pixel units."""
    allowed = "one or more step sizes from 0 to 1 in pixel units (pixels in [0, 1]), e.g. 0,0.05,0.1,0.2,0.3"
    try:
        values = [float(e) for e in epsilons]
    except (TypeError, ValueError):
        raise ConfigError("epsilons", epsilons, allowed) from None
    if not values or any(not 0.0 <= e <= 1.0 for e in values):  # also refuses nan
        raise ConfigError("epsilons", epsilons, allowed)
    return tuple(sorted(set(values)))


def gradient_signs(model: torch.nn.Module, inputs: torch.Tensor, labels: torch.Tensor, info: Any):
    """(pixels, sign of the loss's gradient with respect to them) for one batch of normalised images."""
    device = next(model.parameters()).device
    pixels = to_pixels(inputs, info).detach().requires_grad_(True)
    try:
        scores = model(from_pixels(pixels, info).to(device))
    except Exception as exc:  # a model with its own calling convention
        raise AttackError(f"its forward does not take a batch of images ({type(exc).__name__}: {exc})") from None
    if not (torch.is_tensor(scores) and scores.ndim == 2 and scores.requires_grad):
        raise AttackError("its forward does not return differentiable class scores for a batch of images")
    # Summed, not averaged: each example's gradient is then its own loss's, whatever the batch size.
    loss = torch.nn.functional.cross_entropy(scores.float(), labels.to(device), reduction="sum")
    (gradient,) = torch.autograd.grad(loss, pixels)
    return pixels.detach(), gradient.sign()


def perturb(pixels: torch.Tensor, signs: torch.Tensor, epsilon: float) -> torch.Tensor:
    """One FGSM step of size ``epsilon`` in pixel space, clipped to valid pixels [0, 1]."""
    return (pixels + epsilon * signs).clamp(0.0, 1.0)


def fgsm_curve(
    loaded: Any, loader: Any, epsilons: tuple[float, ...] = EPSILONS, *, shown: int = SHOWN, host: Any = None
) -> Attack:
    """Accuracy of ``loaded`` on ``loader``'s images attacked by FGSM at each ε, and ``shown``
    examples: the first images it reads right, each at the smallest ε that changes its answer
    (the largest ε if none does)."""
    epsilons = check_epsilons(epsilons)
    info = loaded.info
    batches = []  # (normalised inputs, pixels, gradient signs, labels), one gradient per batch for every ε
    with torch.enable_grad():
        for inputs, labels in loader:
            pixels, signs = gradient_signs(loaded.model, inputs, labels, info)
            batches.append((inputs, pixels, signs, labels))

    accuracy, outputs = [], []
    for epsilon in epsilons:
        attacked = [(x if epsilon == 0 else from_pixels(perturb(p, s, epsilon), info), y) for x, p, s, y in batches]
        out = collect(loaded, attacked, host=host)
        accuracy.append(float((out.predicted == out.labels).float().mean()))
        outputs.append(out)
    clean = outputs[0] if epsilons[0] == 0 else collect(loaded, [(x, y) for x, _, _, y in batches], host=host)
    notes = [
        "x + ε·sign(∇x cross-entropy of the true class), clipped to [0, 1]; ε in pixel units, the step taken before "
        "the model's normalisation"
    ]
    curve = Curve("fgsm", "ε, pixels in [0, 1]", list(epsilons), accuracy, len(clean), notes)
    return Attack(curve, _examples(loaded, batches, clean, outputs, epsilons, shown))


def _examples(loaded, batches, clean, outputs, epsilons, count) -> list[dict[str, Any]]:
    names = list(loaded.info.class_names) or [str(i) for i in range(loaded.info.num_classes)]
    pixels = torch.cat([p for _, p, _, _ in batches])
    signs = torch.cat([s for _, _, s, _ in batches])
    right = (clean.predicted == clean.labels).nonzero().flatten()[:count].tolist()
    steps = [e for e in epsilons if e > 0] or list(epsilons)
    examples = []
    for i in right:
        flipped = [e for e in steps if outputs[epsilons.index(e)].predicted[i] != clean.labels[i]]
        epsilon = flipped[0] if flipped else steps[-1]
        attacked = outputs[epsilons.index(epsilon)]
        adversarial = perturb(pixels[i], signs[i], epsilon)
        examples.append(
            {
                "example": i,
                "label": names[int(clean.labels[i])],
                "epsilon": epsilon,
                "clean_prediction": names[int(clean.predicted[i])],
                "clean_probability": float(clean.probabilities[i].max()),
                "adversarial_prediction": names[int(attacked.predicted[i])],
                "adversarial_probability": float(attacked.probabilities[i].max()),
                "fooled": bool(flipped),
                "original": _rounded(pixels[i]),
                "adversarial": _rounded(adversarial),
            }
        )
    return examples


def _rounded(image: torch.Tensor) -> list:
    """An image (C x H x W) as nested lists of pixels, three decimals (kept in report.json for the figure)."""
    return (image.float() * 1000).round().div(1000).tolist()
