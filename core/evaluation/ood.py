"""Out-of-distribution detection: can the model tell that an input is not one
of the kind it was trained on?

A classifier always answers with one of its classes, even for a digit shown
to a clothing model.  Two scores, computed from the logits without any
retraining, rank how "in-distribution" an input looks (higher = more so):

- **maximum softmax probability** (MSP; Hendrycks & Gimpel, 2017): the top
  class's probability;
- **energy** (Liu et al., 2020): ``E(x) = -log sum_c exp(f_c(x))``; the score
  is ``-E(x)``, the log-sum-exp of the logits, which unlike MSP keeps the
  logits' scale instead of squashing it into [0, 1].

Each is judged on an in-distribution test set (positives) against an
out-of-distribution one (negatives):

- **AUROC**: the chance that a random in-distribution input scores higher than
  a random out-of-distribution one (ties count half): 0.5 is guessing, 1.0 is
  perfect separation (scikit-learn's ``roc_auc_score``, as is the ROC curve);
- **FPR at 95% TPR**: accept inputs scoring at least the threshold that keeps
  95% of the in-distribution inputs; the share of out-of-distribution inputs
  that would slip through.  Lower is better.

:func:`prepare_ood_inputs` makes another dataset's images fit the model:
back to pixels with that dataset's normalisation, converted to the model's
channel count and size (said so in a note), normalised as the model's data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch

from archzoo.errors import ArchzooError

#: The true-positive rate at which the false-positive rate is reported.
TPR_LEVEL = 0.95


class OODDataError(ArchzooError):
    """An out-of-distribution set cannot be used with this model."""


def msp_score(logits: torch.Tensor) -> torch.Tensor:
    """Maximum softmax probability of each row."""
    return torch.softmax(logits.double(), dim=1).max(dim=1).values


def energy_score(logits: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """Negative energy, ``T * logsumexp(f / T)``: higher means more in-distribution."""
    return temperature * torch.logsumexp(logits.double() / temperature, dim=1)


def auroc(inside: torch.Tensor, outside: torch.Tensor) -> float:
    """P(score of an in-distribution input > score of an out-of-distribution one), ties counting half:
    scikit-learn's ``roc_auc_score`` with the in-distribution inputs as positives."""
    from sklearn.metrics import roc_auc_score

    truth, scores = _scored(inside, outside, "AUROC")
    return float(roc_auc_score(truth, scores))


def fpr_at_tpr(inside: torch.Tensor, outside: torch.Tensor, tpr: float = TPR_LEVEL) -> tuple[float, float]:
    """(false-positive rate, threshold) when accepting ``score >= threshold``, with the
    threshold the highest that still accepts at least ``tpr`` of the in-distribution inputs."""
    inside, outside = torch.as_tensor(inside).double().flatten(), torch.as_tensor(outside).double().flatten()
    if len(inside) == 0 or len(outside) == 0:
        raise ArchzooError("FPR at TPR needs at least one in-distribution and one out-of-distribution score")
    ordered = inside.sort(descending=True).values
    keep = math.ceil(tpr * len(ordered) - 1e-9)  # how many in-distribution inputs must be accepted
    threshold = float(ordered[max(keep, 1) - 1])
    return float((outside >= threshold).double().mean()), threshold


def roc_curve(inside: torch.Tensor, outside: torch.Tensor) -> dict[str, list[float]]:
    """(FPR, TPR) pairs of the ROC curve, for plotting: scikit-learn's ``roc_curve``, the
    in-distribution inputs as positives, thinned to at most 201 points
    (:func:`archzoo.evaluation.metrics.curve_points`)."""
    from sklearn.metrics import roc_curve as sklearn_roc_curve

    from archzoo.evaluation.metrics import curve_points

    truth, scores = _scored(inside, outside, "a ROC curve")
    fpr, tpr, _ = sklearn_roc_curve(truth, scores)
    return curve_points(fpr, tpr)


def _scored(inside: torch.Tensor, outside: torch.Tensor, what: str) -> tuple[Any, Any]:
    """(1 for in-distribution / 0 for foreign, the scores), as scikit-learn takes them."""
    import numpy as np

    inside = torch.as_tensor(inside).double().flatten().cpu().numpy()
    outside = torch.as_tensor(outside).double().flatten().cpu().numpy()
    if len(inside) == 0 or len(outside) == 0:
        raise ArchzooError(f"{what} needs at least one in-distribution and one out-of-distribution score")
    truth = np.concatenate([np.ones(len(inside), dtype=np.int64), np.zeros(len(outside), dtype=np.int64)])
    return truth, np.concatenate([inside, outside])


@dataclass
class ScoreResult:
    """How well one score separates the two sets."""

    score: str
    auroc: float
    fpr_at_95_tpr: float
    threshold: float
    roc: dict[str, list[float]] = field(default_factory=dict)
    histogram: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, *, curves: bool = True) -> dict[str, Any]:
        data = {
            "score": self.score,
            "auroc": self.auroc,
            "fpr_at_95_tpr": self.fpr_at_95_tpr,
            "threshold": self.threshold,
        }
        if curves:
            data.update(roc=self.roc, histogram=self.histogram)
        return data


def judge(score: str, inside: torch.Tensor, outside: torch.Tensor) -> ScoreResult:
    """AUROC, FPR at 95% TPR, the ROC curve and score histograms for one score."""
    fpr, threshold = fpr_at_tpr(inside, outside)
    return ScoreResult(
        score=score,
        auroc=auroc(inside, outside),
        fpr_at_95_tpr=fpr,
        threshold=threshold,
        roc=roc_curve(inside, outside),
        histogram=_histogram(inside, outside),
    )


def prepare_ood_inputs(
    images: torch.Tensor, source_info: Any, target_info: Any, notes: list[str], name: str = ""
) -> torch.Tensor:
    """Another dataset's (normalised) images made into what the model takes.

    Undo the source's normalisation, convert the channel count (grey to RGB by
    repeating, RGB to grey by luminance) and the size (bilinear), then apply the
    model's normalisation; every conversion made is added to ``notes`` once."""
    target_shape = tuple(target_info.input_shape)
    source_shape = tuple(images.shape[1:])
    if len(target_shape) != 3 or len(source_shape) != 3:
        if source_shape != target_shape:
            raise OODDataError(
                f"out-of-distribution set {name or source_info.name!r} has inputs of shape {source_shape}, "
                f"the model takes {target_shape}; only images can be converted"
            )
        return images
    x = _denormalise(images.float(), source_info)
    c_in, c_out = source_shape[0], target_shape[0]
    if c_in != c_out:
        if c_in == 1:
            x = x.repeat(1, c_out, 1, 1)
        elif c_out == 1 and c_in == 3:
            x = (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]).unsqueeze(1)
        else:
            raise OODDataError(f"cannot convert {c_in}-channel images to the model's {c_out} channels")
        _note(
            notes,
            f"out-of-distribution set {name or source_info.name}: converted {c_in} channel(s) to the model's {c_out}",
        )
    if source_shape[1:] != target_shape[1:]:
        x = torch.nn.functional.interpolate(
            x, size=target_shape[1:], mode="bilinear", align_corners=False, antialias=True
        )
        _note(
            notes,
            (
                f"out-of-distribution set {name or source_info.name}: resized its images from "
                f"{source_shape[2]}x{source_shape[1]} to the model's {target_shape[2]}x{target_shape[1]}"
            ),
        )
    return _normalise(x.clamp(0, 1), target_info)


def _denormalise(x: torch.Tensor, info: Any) -> torch.Tensor:
    if not info.mean:
        return x
    shape = (1, -1, 1, 1)
    return x * torch.tensor(info.std, dtype=x.dtype).view(shape) + torch.tensor(info.mean, dtype=x.dtype).view(shape)


def _normalise(x: torch.Tensor, info: Any) -> torch.Tensor:
    if not info.mean:
        return x
    shape = (1, -1, 1, 1)
    return (x - torch.tensor(info.mean, dtype=x.dtype).view(shape)) / torch.tensor(info.std, dtype=x.dtype).view(shape)


def _note(notes: list[str], text: str) -> None:
    if text not in notes:
        notes.append(text)


def _histogram(inside: torch.Tensor, outside: torch.Tensor, bins: int = 40) -> dict[str, Any]:
    both = torch.cat([inside.double(), outside.double()])
    low, high = float(both.min()), float(both.max())
    if high <= low:
        high = low + 1.0
    edges = torch.linspace(low, high, bins + 1, dtype=torch.float64)
    return {
        "edges": edges.tolist(),
        "in_distribution": torch.histc(inside.double(), bins, low, high).long().tolist(),
        "out_of_distribution": torch.histc(outside.double(), bins, low, high).long().tolist(),
    }
