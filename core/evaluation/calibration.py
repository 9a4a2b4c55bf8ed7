"""Calibration: do a classifier's confidences mean what they say?

A model that says "90% sure" should be right nine times in ten.  Accuracy
cannot show whether it is; these functions can:

- :func:`reliability`: the reliability diagram's numbers.  Confidences (the
  top class's probability) fall into bins of width ``1 / n_bins`` (0.1 by
  default): ``(0, 0.1], (0.1, 0.2], ..., (0.9, 1.0]``; each bin gets its
  count, its accuracy and its mean confidence.
- :func:`expected_calibration_error`: ECE, the sum over bins of
  ``|B| / N * |accuracy(B) - confidence(B)|``: how far, on average over the
  examples, the stated confidence is from the hit rate.
- :func:`fit_temperature`: temperature scaling (Guo et al., 2017, "On
  Calibration of Modern Neural Networks"): one scalar ``T > 0`` that divides
  every logit, chosen to minimise the negative log-likelihood on the
  validation split.  Dividing by a positive constant never changes which
  class is largest, so accuracy is untouched; only the confidences move.
  No weight is retrained.

Everything works on plain tensors, so it is tested against hand-computed
values on small inputs (tests/test_calibration.py); reading a checkpoint's
outputs is :mod:`archzoo.evaluation.logits`' job.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch

from archzoo.errors import ArchzooError

#: Reliability bins: ten of width 0.1, as in the lecture notes and Guo et al.
N_BINS = 10
#: Fewer validation examples than this cannot pin a temperature down: the fit
#: would chase the noise of a handful of mistakes.  (At 100 examples the
#: standard error of a 90% hit rate is already 3 points.)
MIN_VALIDATION_EXAMPLES = 100
#: The temperature is searched in [1/20, 20] (log scale); an optimum on the
#: edge means the data did not determine one.
T_RANGE = (0.05, 20.0)


class CalibrationError(ArchzooError):
    """A temperature cannot be fitted (too few validation examples, no mistakes, no validation split)."""


@dataclass
class Bin:
    """One reliability bin: confidences in ``(low, high]``."""

    low: float
    high: float
    count: int
    accuracy: float | None  # None for an empty bin
    confidence: float | None


@dataclass
class Reliability:
    """A reliability diagram's numbers and the ECE they add up to."""

    bins: list[Bin]
    ece: float
    examples: int

    def to_dict(self) -> dict:
        return {"ece": self.ece, "examples": self.examples, "bins": [asdict(b) for b in self.bins]}


def bin_index(confidence: torch.Tensor, n_bins: int = N_BINS) -> torch.Tensor:
    """Which bin each confidence falls in: ``(k / n, (k + 1) / n]`` is bin ``k``.

    Right-closed bins, so a confidence of exactly 1.0 lands in the top bin and
    a confidence can never be 0 (the top class of C has at least 1/C)."""
    index = torch.ceil(confidence.double() * n_bins).long() - 1
    return index.clamp_(0, n_bins - 1)


def reliability(probabilities: torch.Tensor, labels: torch.Tensor, n_bins: int = N_BINS) -> Reliability:
    """The reliability diagram of predictions ``probabilities`` (N x C) against ``labels`` (N)."""
    probabilities, labels = _check(probabilities, labels)
    confidence, predicted = probabilities.double().max(dim=1)
    hits = (predicted == labels).double()
    index = bin_index(confidence, n_bins)
    n = len(labels)
    bins, ece = [], 0.0
    for k in range(n_bins):
        inside = index == k
        count = int(inside.sum())
        if count:
            accuracy, mean_conf = float(hits[inside].mean()), float(confidence[inside].mean())
            ece += count / n * abs(accuracy - mean_conf)
            bins.append(Bin(k / n_bins, (k + 1) / n_bins, count, accuracy, mean_conf))
        else:
            bins.append(Bin(k / n_bins, (k + 1) / n_bins, 0, None, None))
    return Reliability(bins=bins, ece=ece, examples=n)


def expected_calibration_error(probabilities: torch.Tensor, labels: torch.Tensor, n_bins: int = N_BINS) -> float:
    """ECE: sum over bins of ``|B| / N * |accuracy(B) - confidence(B)|``."""
    return reliability(probabilities, labels, n_bins).ece


def negative_log_likelihood(logits: torch.Tensor, labels: torch.Tensor, temperature: float = 1.0) -> float:
    """Mean NLL of ``labels`` under ``softmax(logits / temperature)`` (natural log)."""
    logits, labels = _check(logits, labels)
    return float(torch.nn.functional.cross_entropy(logits.double() / temperature, labels))


@dataclass
class TemperatureFit:
    """A fitted temperature and what it changed on the data it was fitted on."""

    temperature: float
    examples: int
    errors: int
    nll_before: float
    nll_after: float
    ece_before: float
    ece_after: float

    def to_dict(self) -> dict:
        return asdict(self)


def fit_temperature(
    logits: torch.Tensor, labels: torch.Tensor, *, min_examples: int = MIN_VALIDATION_EXAMPLES
) -> TemperatureFit:
    """The temperature ``T`` minimising the mean NLL of ``softmax(logits / T)``.

    The NLL is convex in ``1 / T`` (a log-sum-exp of functions linear in it,
    minus one linear in it), so it has one minimum and a golden-section search
    over ``log T`` finds it to machine precision without any step size to tune.
    Raises :class:`CalibrationError` when the data cannot determine ``T``:
    fewer than ``min_examples`` examples, or no mistakes at all (then the NLL
    keeps falling as ``T`` goes to 0, and any "fit" would be the search's edge).
    """
    logits, labels = _check(logits, labels)
    n = len(labels)
    if n < min_examples:
        raise CalibrationError(
            f"the validation split has {n} examples; fitting a temperature needs at least {min_examples} "
            "(train with a larger val_fraction, or on more data)"
        )
    z = logits.double()
    errors = int((z.argmax(dim=1) != labels).sum())
    if errors == 0:
        raise CalibrationError(
            f"the model makes no mistake on the {n} validation examples, so the likelihood keeps rising as the "
            "temperature falls to 0 and no temperature can be fitted; use more validation data"
        )

    def nll(log_t: float) -> float:
        return float(torch.nn.functional.cross_entropy(z / math.exp(log_t), labels))

    low, high = math.log(T_RANGE[0]), math.log(T_RANGE[1])
    ratio = (math.sqrt(5) - 1) / 2
    a, b = low, high
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = nll(c), nll(d)
    for _ in range(100):
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = nll(c)
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = nll(d)
    log_t = (a + b) / 2
    if log_t - low < 1e-3 or high - log_t < 1e-3:
        raise CalibrationError(
            f"the best temperature lies at the edge of the range searched ({T_RANGE[0]} to {T_RANGE[1]}): "
            f"the {n} validation examples ({errors} mistakes) do not determine one"
        )
    temperature = math.exp(log_t)
    probs_before = torch.softmax(z, dim=1)
    probs_after = torch.softmax(z / temperature, dim=1)
    return TemperatureFit(
        temperature=temperature,
        examples=n,
        errors=errors,
        nll_before=nll(0.0),
        nll_after=nll(log_t),
        ece_before=expected_calibration_error(probs_before, labels),
        ece_after=expected_calibration_error(probs_after, labels),
    )


def _check(scores: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    scores, labels = torch.as_tensor(scores), torch.as_tensor(labels).long()
    if scores.ndim != 2 or labels.ndim != 1 or len(scores) != len(labels):
        raise ArchzooError(
            f"expected N x C scores and N labels, got shapes {tuple(scores.shape)} and {tuple(labels.shape)}"
        )
    if len(labels) == 0:
        raise ArchzooError("no examples to measure calibration on")
    return scores, labels
