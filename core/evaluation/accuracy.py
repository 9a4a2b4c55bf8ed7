"""What a single test-accuracy number hides: how sure we are of it, and how it
splits across classes.

- :func:`wilson_interval`: a confidence interval for accuracy.  Wilson's
  score interval rather than "p plus or minus 1.96 standard errors" because it
  stays inside [0, 1] and keeps its coverage near 0 and 1, where good models
  live; rather than a bootstrap because it is exact to compute and
  reproducible (no resampling seed).
- :func:`class_report`: per-class precision, recall and F1, built on
  :class:`archzoo.evaluation.metrics.ConfusionMatrix`, plus the macro averages.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from archzoo.evaluation.metrics import ConfusionMatrix

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


def class_report(matrix: ConfusionMatrix) -> dict[str, Any]:
    """Accuracy with its 95% Wilson interval, per-class precision / recall / F1, macro averages."""
    rows = []
    for row in matrix.per_class():
        rows.append({**row, "f1": f1(row["precision"], row["recall"])})
    hits = sum(matrix.counts[i][i] for i in range(len(matrix.counts)))
    low, high = wilson_interval(hits, matrix.total)

    def macro(key: str) -> float | None:
        values = [r[key] for r in rows if r[key] is not None]
        return sum(values) / len(values) if values else None

    return {
        "examples": matrix.total,
        "accuracy": matrix.accuracy,
        "accuracy_ci95": [low, high],
        "ci_method": "Wilson score interval, 95%",
        "per_class": rows,
        "macro_precision": macro("precision"),
        "macro_recall": macro("recall"),
        "macro_f1": macro("f1"),
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
