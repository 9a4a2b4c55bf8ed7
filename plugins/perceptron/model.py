"""Rosenblatt's perceptron, as in the lecture notes.

Recipe: a score z = w.x + b, a step activation y_hat = 1 if z > 0 else 0,
weights starting at zero, and Rosenblatt's rule applied to one example at a
time::

    for each (x, y) in the data:
        y_hat = step(w.x + b)
        if y_hat != y:                       # only mistakes teach
            w <- w + eta * (y - y_hat) * x
            b <- b + eta * (y - y_hat)

repeated for at most ``epochs`` passes (the trainer's ``epochs`` is the
notes' "maximum number of epochs").  A pass with no mistake changes nothing,
and no later pass will either: the perceptron has *converged*.  The
convergence theorem (Novikoff, 1962) promises that on linearly separable data
this happens after at most (R/gamma)^2 mistakes; on data no line separates
(``xor``) it never happens, and the weights wander for as long as they are
allowed to.

How it fits the trainer, honestly:

- ``train_step`` applies the rule above to the examples of its batch, in
  order, by hand under ``torch.no_grad()``.  There is no gradient and no
  optimiser step: it never calls ``ctx.backward`` or ``ctx.step``.  With
  ``batch_size`` at least the training set size, one step is one pass.
- ``configure_optimizers`` returns a placeholder ``SGD`` with learning rate 0,
  only because the trainer keeps one optimiser per run (to report its
  learning rate, save and resume its state).  It is never stepped, and the
  learning rate the progress bar shows, 0, is the truth: nothing here
  descends a gradient.  The rule's own step size is the config's
  ``step_size``.
- The step's ``loss`` is the share of the batch's examples that were
  mistakes when the rule met them (Rosenblatt's error count, as a fraction),
  so on separable data it falls to 0 and stays there.
- ``evaluate`` reports ``converged``: 1.0 when the last training epoch went
  by without a single mistake, else 0.0 (and after the run's last epoch, a
  warning in the log says so in words); then ``accuracy`` and ``loss`` (the
  share of mistakes) on the split.  The model counts its mistakes per epoch
  in a buffer, so the count travels with checkpoints.  ``converged`` comes
  first because it is the headline: the trainer keeps as ``best`` the first
  epoch that converged.  (With accuracy as the headline it would keep the
  first epoch that reached 100%, which had still made mistakes on its way
  there, so it had not yet *shown* that it converged.)
- ``sample`` returns the step's hard decision as one-hot "probabilities": the
  perceptron has no notion of confidence, and pretending otherwise would be
  a lie.

Training on several processes gives each process its own line (the rule is
sequential and is not averaged across processes); train it on one.
"""

from __future__ import annotations

import logging
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from archzoo import ConfigError, SampleResult, hookimpl
from archzoo.toolkit import unwrap

log = logging.getLogger(__name__)


class Perceptron(nn.Module):
    """z = w.x + b, then a step.  ``forward`` returns the scores (0, z) per
    example, so that argmax gives the step's decision (class 1 when z > 0)."""

    def __init__(self, in_features: int, step_size: float = 1.0):
        super().__init__()
        self.step_size = step_size  # eta in Rosenblatt's rule
        self.linear = nn.Linear(in_features, 1)
        nn.init.zeros_(self.linear.weight)  # Rosenblatt starts from w = 0, b = 0
        nn.init.zeros_(self.linear.bias)
        # Mistakes made so far in the epoch being trained, and which epoch that is
        # (-1: never trained).  Buffers, so they are saved with the weights.
        self.register_buffer("epoch_mistakes", torch.zeros(()))
        self.register_buffer("epoch_seen", torch.full((), -1.0))

    def score(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x.flatten(1)).squeeze(1)  # (B,)

    def decide(self, x: torch.Tensor) -> torch.Tensor:
        """The step activation: 1 where w.x + b > 0, else 0."""
        return (self.score(x) > 0).long()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.score(x)
        return torch.stack([torch.zeros_like(z), z], dim=1)  # (B, 2)


@hookimpl
def build_model(spec, config):
    if config.num_classes != 2:
        raise ConfigError(
            "num_classes", config.num_classes, "2: a perceptron draws one line between two classes", owner=spec.name
        )
    return Perceptron(math.prod(config.input_shape), config.step_size)


@hookimpl
def configure_optimizers(spec, model, train_config):
    # A placeholder the trainer can report, save and restore; never stepped (see the module docstring).
    return torch.optim.SGD(model.parameters(), lr=0.0)


@hookimpl
def train_step(spec, model, batch, ctx):
    """One application of Rosenblatt's rule to each example of the batch, in order."""
    net = unwrap(model)
    inputs, labels = batch
    if net.epoch_seen.item() != ctx.epoch:  # a new epoch: start counting its mistakes afresh
        net.epoch_seen.fill_(ctx.epoch)
        net.epoch_mistakes.zero_()
    net.last_epoch = ctx.epoch + 1 >= ctx.train_config.epochs  # the maximum is reached after this one
    w, b = net.linear.weight[0], net.linear.bias
    eta = net.step_size
    mistakes = 0
    with torch.no_grad():
        for x, y in zip(inputs.flatten(1), labels):
            y_hat = int(torch.dot(w, x) + b[0] > 0)
            error = int(y) - y_hat  # +1: should have fired, -1: should not have, 0: right
            if error:
                w.add_(x, alpha=eta * error)
                b.add_(eta * error)
                mistakes += 1
        net.epoch_mistakes.add_(mistakes)
    share = mistakes / max(len(labels), 1)
    return {"loss": share, "accuracy": 1.0 - share, "mistakes": float(mistakes)}


@hookimpl
def evaluate(spec, model, loader, ctx):
    net = unwrap(model)
    hits = []
    with torch.no_grad():
        for inputs, labels in loader:
            hits.append(ctx.gather(net.decide(inputs) == labels))
    if not hits:
        raise ValueError("cannot evaluate on an empty data split")
    accuracy = torch.cat(hits).float().mean().item()
    trained = net.epoch_seen.item() >= 0
    mistakes = int(net.epoch_mistakes.item())
    converged = trained and mistakes == 0
    if trained and not converged and getattr(net, "last_epoch", False) and not getattr(net, "reported", False):
        net.reported = True  # once per run, after its last epoch
        log.warning(
            "perceptron: did not converge in %d epochs (%d mistakes in the last one): "
            "no line separated the training data",
            int(net.epoch_seen.item()) + 1,
            mistakes,
        )
    return {"converged": float(converged), "accuracy": accuracy, "loss": 1.0 - accuracy}


@hookimpl
def sample(spec, model, request, ctx):
    """The step's decision as one-hot probabilities (a perceptron has no confidence to report)."""
    inputs = request["inputs"].to(ctx.device)
    with torch.no_grad():
        decision = unwrap(model).decide(inputs)
    return SampleResult(
        kind="class-probabilities",
        outputs={"probabilities": F.one_hot(decision, 2).float().cpu(), "class_names": list(ctx.info.class_names)},
    )
