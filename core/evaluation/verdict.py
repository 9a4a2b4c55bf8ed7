"""Ship, collect more data, or redesign: a decision from stated thresholds.

The thresholds are defaults for a small image classifier meant for a demo
or a course, not for a medical device; pass your own :class:`Thresholds`
(``archzoo report --min-accuracy``) when the stakes differ.  The rules, in
the order they are checked (the same text is in docs/evaluation.md and in
every report):

**Redesign** (more of the same data will not fix it) if any of:

- the model underfits: even the top of the accuracy interval is below
  ``min_accuracy``, and training accuracy is no more than ``max_gap`` above
  test accuracy (the model cannot fit the data it has);
- temperature scaling cannot calibrate it: ECE with the fitted temperature
  is still above ``max_ece`` (a single scalar is not enough);
- it breaks under mild shift: accuracy at 15 degrees of rotation, or with
  noise of standard deviation 0.1, is below ``min_retention`` of its clean
  accuracy (the architecture lacks the invariance; convolutions or
  augmentation are design changes).

**Collect more data** if none of the above, but any of:

- it overfits: accuracy interval below ``min_accuracy`` with a train-test gap
  above ``max_gap``;
- the test set is too small to decide: the interval is wider than
  ``2 * max_ci_halfwidth``, or it straddles ``min_accuracy``;
- one class lags: a class recall below ``min_class_recall`` (name the class);
- it cannot recognise foreign inputs: the better out-of-distribution AUROC
  (MSP or energy) is below ``min_auroc`` (collect examples of what deployment
  will show it, to train or tune a reject option on);
- no temperature could be fitted (too small a validation split).

**Ship** otherwise, with the fitted temperature when it lowered the ECE.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

SHIP, COLLECT, REDESIGN = "ship", "collect more data", "redesign"


@dataclass(frozen=True)
class Thresholds:
    """The bars a model must clear to ship (see the module docstring for the rules)."""

    min_accuracy: float = 0.85
    max_ci_halfwidth: float = 0.02
    max_gap: float = 0.05
    min_class_recall: float = 0.60
    max_ece: float = 0.05
    min_auroc: float = 0.80
    min_retention: float = 0.80
    #: The "mild" shifts the retention rule looks at.
    mild_rotation: float = 15.0
    mild_noise: float = 0.1

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


RULES = (
    (
        "redesign",
        "underfits: the whole accuracy interval is below min_accuracy and train accuracy is within max_gap of test "
        "accuracy",
    ),
    ("redesign", "temperature scaling cannot calibrate it: ECE with the fitted temperature above max_ece"),
    (
        "redesign",
        "breaks under mild shift: accuracy at mild_rotation degrees or noise mild_noise below min_retention of clean "
        "accuracy",
    ),
    ("collect more data", "overfits: accuracy interval below min_accuracy with a train-test gap above max_gap"),
    (
        "collect more data",
        "test set too small to decide: interval wider than 2 x max_ci_halfwidth, or straddling min_accuracy",
    ),
    ("collect more data", "a class lags: some class recall below min_class_recall"),
    ("collect more data", "cannot flag foreign inputs: best out-of-distribution AUROC below min_auroc"),
    ("collect more data", "no temperature could be fitted (validation split too small)"),
    ("ship", "none of the above"),
)


def decide(summary: dict[str, Any], thresholds: Thresholds = Thresholds()) -> dict[str, Any]:
    """The verdict for a trust summary (:meth:`archzoo.evaluation.trust.Assessment.summary`).

    Returns ``{"verdict", "reasons": [...], "redesign": [...], "collect": [...],
    "passed": [...], "thresholds": {...}}``: every reason names the measured
    value and the threshold it was held to."""
    t = thresholds
    redesign: list[str] = []
    collect: list[str] = []
    passed: list[str] = []
    low, high = summary["accuracy_ci95"]
    accuracy = summary["accuracy"]
    train = summary.get("train_accuracy")
    gap = None if train is None else train - accuracy

    if high < t.min_accuracy:
        if gap is not None and gap > t.max_gap:
            collect.append(
                f"overfits: test accuracy {accuracy:.3f} (95% CI {low:.3f}-{high:.3f}) is below {t.min_accuracy:.2f} "
                f"while training accuracy is {train:.3f}, a gap of {gap:.3f} > {t.max_gap:.2f}: more (or more varied) "
                "training data"
            )
        else:
            detail = (
                f"training accuracy {train:.3f} is within {t.max_gap:.2f} of it"
                if gap is not None
                else "no training accuracy to compare"
            )
            redesign.append(
                f"underfits: test accuracy {accuracy:.3f} (95% CI {low:.3f}-{high:.3f}) is below {t.min_accuracy:.2f} "
                "and "
                f"{detail}: a more capable model, not more data"
            )
    elif low < t.min_accuracy:
        collect.append(
            f"undecided: the 95% accuracy interval {low:.3f}-{high:.3f} straddles {t.min_accuracy:.2f}: more test "
            "data to decide"
        )
    else:
        passed.append(f"accuracy {accuracy:.3f}, 95% CI {low:.3f}-{high:.3f}, clears {t.min_accuracy:.2f}")
    if (high - low) / 2 > t.max_ci_halfwidth:
        collect.append(
            f"the accuracy interval is +/-{(high - low) / 2:.3f} wide (over {t.max_ci_halfwidth:.3f}): "
            f"{summary['test_examples']:,} test examples are too few to pin it down"
        )

    worst = summary.get("worst_class")
    if worst is not None:
        name, recall = worst
        if recall < t.min_class_recall:
            collect.append(
                f"class '{name}' has recall {recall:.3f} < {t.min_class_recall:.2f}: more (and clearer) examples of it"
            )
        else:
            passed.append(f"every class has recall >= {t.min_class_recall:.2f} (lowest: '{name}' {recall:.3f})")

    calibration = summary.get("calibration") or {}
    if calibration.get("temperature") is not None:
        after = calibration["ece_after"]
        if after > t.max_ece:
            redesign.append(
                f"ECE is {after:.3f} even with the fitted temperature {calibration['temperature']:.3f} "
                f"(over {t.max_ece:.2f}): one scalar cannot calibrate this model"
            )
        else:
            before = calibration["ece_before"]
            use = " (use the fitted temperature: predict --calibrated)" if after < before else ""
            passed.append(
                f"ECE {before:.3f} -> {after:.3f} with temperature {calibration['temperature']:.3f}, within "
                f"{t.max_ece:.2f}{use}"
            )
    elif calibration.get("error"):
        collect.append(f"no temperature could be fitted: {calibration['error']}")

    ood = summary.get("ood")
    if ood and ood.get("best_auroc") is not None:
        if ood["best_auroc"] < t.min_auroc:
            collect.append(
                f"out-of-distribution inputs ({ood['dataset']}) are hard to flag: best AUROC {ood['best_auroc']:.3f} "
                f"< {t.min_auroc:.2f}: collect the kinds of input deployment will see, to train or tune a reject option"
            )
        else:
            passed.append(f"flags {ood['dataset']} as foreign with AUROC {ood['best_auroc']:.3f} >= {t.min_auroc:.2f}")

    for key, label in (
        ("rotation_retention", f"{t.mild_rotation:g} degrees of rotation"),
        ("noise_retention", f"noise of standard deviation {t.mild_noise:g}"),
    ):
        value = summary.get(key)
        if value is None:
            continue
        if value < t.min_retention:
            redesign.append(
                f"under {label} it keeps only {value:.0%} of its clean accuracy (< {t.min_retention:.0%}): "
                "a design change, not more of the same data (an architecture with that invariance, or augmentation in "
                "training)"
            )
        else:
            passed.append(f"keeps {value:.0%} of its accuracy under {label} (>= {t.min_retention:.0%})")

    verdict = REDESIGN if redesign else COLLECT if collect else SHIP
    reasons = redesign or collect or passed
    return {
        "verdict": verdict,
        "reasons": reasons,
        "redesign": redesign,
        "collect": collect,
        "passed": passed,
        "thresholds": t.to_dict(),
        "rules": [list(rule) for rule in RULES],
    }
