"""What a single test-accuracy number hides: how sure we are of it, and how it
splits across classes.

- :func:`wilson_interval`: a confidence interval for accuracy.  Wilson's
  score interval rather than "p plus or minus 1.96 standard errors" because it
  stays inside [0, 1] and keeps its coverage near 0 and 1, where good models
  live; rather than a bootstrap because it is exact to compute and
  reproducible (no resampling seed).
- :func:`class_report`: per-class precision, recall and F1 and their
  averages, with per-class and macro AUROC when the probabilities are given;
  all scikit-learn's (:mod:`archzoo.evaluation.metrics`).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from archzoo.errors import ArchzooError
from archzoo.evaluation.metrics import ConfusionMatrix, roc_scores

#: Two-sided 95%: the 0.975 quantile of the standard normal.
Z_95 = 1.959963984540054


def wilson_interval(hits: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for ``hits`` successes out of ``n`` (95% by default)."""
    if n <= 0:
        return (0.0, 1.0)
    p = hits / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (max(0.0, centre - half), min(1.0, centre + half))


def confusion_from(
    predicted: torch.Tensor, labels: torch.Tensor, class_names: list[str], dataset: str = "", split: str = ""
) -> ConfusionMatrix:
    """A :class:`ConfusionMatrix` from predicted and true class indices."""
    size = len(class_names)
    index = labels.long().cpu() * size + predicted.long().cpu()
    counts = torch.bincount(index, minlength=size * size).view(size, size)
    return ConfusionMatrix(class_names=list(class_names), counts=counts.tolist(), dataset=dataset, split=split)


def f1(precision: float | None, recall: float | None) -> float | None:
    """Harmonic mean of precision and recall; 0 when both are 0, None when either is undefined."""
    if precision is None or recall is None:
        return None
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def class_report(
    matrix: ConfusionMatrix, *, labels: torch.Tensor | None = None, probabilities: torch.Tensor | None = None
) -> dict[str, Any]:
    """Accuracy with its 95% Wilson interval, per-class precision / recall / F1 and their
    macro and weighted averages (scikit-learn's, over every class in the split or the
    predictions); with ``labels`` and ``probabilities`` (N x classes) of the same examples,
    each class's AUROC, the macro AUROC and the ROC curves too."""
    scores = matrix.scores()
    rows = scores["per_class"]
    roc = None
    if probabilities is not None:
        if labels is None or len(labels) != matrix.total:
            raise ArchzooError(
                f"ROC needs the true class of each of the matrix's {matrix.total} examples beside the probabilities"
            )
        roc = roc_scores(labels, probabilities, matrix.class_names)
        rows = [{**row, "auroc": roc["per_class"][row["class"]]} for row in rows]
    hits = sum(matrix.counts[i][i] for i in range(len(matrix.counts)))
    low, high = wilson_interval(hits, matrix.total)
    return {
        "examples": matrix.total,
        "accuracy": matrix.accuracy,
        "accuracy_ci95": [low, high],
        "ci_method": "Wilson score interval, 95%",
        "per_class": rows,
        **{key: scores[key] for key in scores if key.startswith(("macro_", "weighted_"))},
        "averaged_over": scores["averaged_over"],
        "zero_division": scores["zero_division"],
        "macro_auroc": roc["macro_auroc"] if roc else None,
        "roc": roc,
        "confusion_matrix": {"class_names": matrix.class_names, "counts": matrix.counts},
        "most_confused": [list(cell) for cell in matrix.most_confused(3)],
    }


#: How far above guessing an accuracy must be before it is not called "about chance".
CHANCE_MARGIN = 0.05


def chance_note(accuracy: float | None, num_classes: int) -> str:
    """A word for an accuracy no better than guessing the classes at random
    (0.507 on two classes), or "" when the model learned something."""
    if accuracy is None or num_classes < 2:
        return ""
    chance = 1.0 / num_classes
    if accuracy > chance + CHANCE_MARGIN:
        return ""
    return (
        f"An accuracy of {accuracy:.3f} is about chance for {num_classes} classes ({chance:.3f} by guessing): "
        "the model has learned little. Try more epochs, another learning rate, or a larger model."
    )
