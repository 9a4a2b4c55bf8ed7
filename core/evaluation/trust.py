"""Judging a trained classifier before shipping it: everything test accuracy hides.

:func:`assess` runs one checkpoint through every measurement and returns an
:class:`Assessment`:

1. accuracy with its 95% Wilson interval, per-class precision / recall / F1,
   ROC curves and AUROC (scikit-learn's) and the confusion matrix
   (:mod:`archzoo.evaluation.accuracy`);
2. calibration: reliability bins and ECE on the test split, a temperature
   fitted by NLL on the validation split, and ECE / NLL on the test split
   before and after it (:mod:`archzoo.evaluation.calibration`);
3. out-of-distribution detection against another dataset: MSP and energy
   scores, AUROC and FPR at 95% TPR (:mod:`archzoo.evaluation.ood`);
4. accuracy under rotation, additive noise and translation (:mod:`archzoo.evaluation.shift`);
5. for image classifiers, accuracy under the FGSM attack at a few step sizes, with
   examples (:mod:`archzoo.evaluation.adversarial`);
6. a ship / collect more data / redesign verdict (:mod:`archzoo.evaluation.verdict`).

It only reads: storing the temperature and the report in the checkpoint is
:mod:`archzoo.checkpoints.amend`'s job, writing the HTML page :mod:`archzoo.evaluation.report`'s.
``archzoo eval --trust`` prints an assessment; ``archzoo report`` saves one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archzoo.checkpoints.amend import amend_checkpoint, local_folder
from archzoo.checkpoints.io import load
from archzoo.data import DataOptions, load_dataset
from archzoo.errors import ArchzooError, DataError
from archzoo.evaluation.accuracy import class_report, confusion_from
from archzoo.evaluation.adversarial import EPSILONS, AttackError, check_epsilons, fgsm_curve
from archzoo.evaluation.calibration import CalibrationError, fit_temperature
from archzoo.evaluation.logits import collect, require_classifier, subset
from archzoo.evaluation.shift import (
    check_max_shift,
    is_image_model,
    noise_curve,
    rotation_curve,
    translation_curve,
)
from archzoo.evaluation.verdict import Thresholds, decide
from archzoo.inference.data import evaluation_data, evaluation_loader
from archzoo.registry.host import Host, get_host

#: The out-of-distribution set used when none is named: each dataset's natural foil.
DEFAULT_OOD = {"fashion-mnist": "mnist", "mnist": "fashion-mnist"}
#: Shift and FGSM curves are measured on at most this many test examples (a fixed-seed
#: subset): some forty passes over the full set would cost a CNN minutes on a CPU.
SHIFT_EXAMPLES = 2000
#: Training accuracy (for the train-test gap) is measured on at most this many training examples.
TRAIN_EXAMPLES = 5000


@dataclass
class Assessment:
    """Every number :func:`assess` measured, and the notes on how."""

    checkpoint: str
    architecture: str
    dataset: str
    split: str
    classes: dict[str, Any]
    calibration: dict[str, Any]
    ood: dict[str, Any] | None
    shift: dict[str, Any]
    train_accuracy: float | None
    thresholds: Thresholds
    adversarial: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def temperature(self) -> float | None:
        return self.calibration.get("temperature")

    def summary(self) -> dict[str, Any]:
        """The headline numbers (what the verdict and the model card use), JSON-ready."""
        per_class = [r for r in self.classes["per_class"] if r["support"] and r["recall"] is not None]
        worst = min(per_class, key=lambda r: r["recall"]) if per_class else None
        calibration: dict[str, Any] = {}
        if self.temperature is not None:
            calibration = {
                "temperature": self.temperature,
                "validation_examples": self.calibration["fit"]["examples"],
                "ece_before": self.calibration["test_before"]["ece"],
                "ece_after": self.calibration["test_after"]["ece"],
                "nll_before": self.calibration["test_nll_before"],
                "nll_after": self.calibration["test_nll_after"],
            }
        elif self.calibration.get("error"):
            calibration = {"error": self.calibration["error"], "ece_before": self.calibration["test_before"]["ece"]}
        ood = None
        if self.ood:
            scores = self.ood["scores"]
            ood = {"dataset": self.ood["dataset"], "examples": self.ood["examples"]}
            for name, result in scores.items():
                ood[f"{name}_auroc"], ood[f"{name}_fpr95"] = result["auroc"], result["fpr_at_95_tpr"]
            ood["best_auroc"] = max(r["auroc"] for r in scores.values())
        t = self.thresholds
        return {
            "dataset": self.dataset,
            "split": self.split,
            "test_examples": self.classes["examples"],
            "accuracy": self.classes["accuracy"],
            "accuracy_ci95": self.classes["accuracy_ci95"],
            "macro_f1": self.classes["macro_f1"],
            "macro_auroc": self.classes.get("macro_auroc"),
            "worst_class": [worst["class"], worst["recall"]] if worst else None,
            "train_accuracy": self.train_accuracy,
            "calibration": calibration,
            "ood": ood,
            "rotation": _curve_points(self.shift.get("rotation")),
            "noise": _curve_points(self.shift.get("noise")),
            "translation": _curve_points(self.shift.get("translation")),
            "fgsm": _curve_points((self.adversarial or {}).get("fgsm")),
            "rotation_retention": _retention(self.shift.get("rotation"), t.mild_rotation),
            "noise_retention": _retention(self.shift.get("noise"), t.mild_noise),
        }

    def verdict(self) -> dict[str, Any]:
        return decide(self.summary(), self.thresholds)

    def to_dict(self) -> dict[str, Any]:
        """Everything, JSON-ready (``archzoo eval --trust --json``; the report's ``report.json``)."""
        return {
            "format": "archzoo-report",
            "checkpoint": self.checkpoint,
            "architecture": self.architecture,
            "created": self.created,
            "summary": self.summary(),
            "verdict": self.verdict(),
            "classes": self.classes,
            "calibration": self.calibration,
            "ood": self.ood,
            "shift": self.shift,
            "adversarial": self.adversarial,
            "notes": self.notes,
        }


def assess(
    location: str | Path,
    *,
    dataset: str | None = None,
    split: str = "test",
    data_dir: str | Path | None = None,
    ood: str | bool | None = None,
    ood_data_dir: str | Path | None = None,
    shift: bool = True,
    max_shift: int | None = None,
    fgsm: bool = True,
    epsilons: tuple[float, ...] = EPSILONS,
    shift_examples: int | None = SHIFT_EXAMPLES,
    train_examples: int | None = TRAIN_EXAMPLES,
    thresholds: Thresholds | None = None,
    batch_size: int = 512,
    host: Host | None = None,
) -> Assessment:
    """Measure a classifier checkpoint (see the module docstring).

    ``ood``: the out-of-distribution dataset (a name or a folder); by default
    :data:`DEFAULT_OOD` of the model's dataset, else none (and a note);
    ``False``: none.
    ``max_shift``: the translation curve's largest shift in pixels (default: a fifth
    of the image side); ``epsilons``: FGSM's step sizes in pixel units; ``fgsm=False``
    skips the attack.
    ``shift_examples`` / ``train_examples``: caps on the examples used for the
    shift and FGSM curves and the training accuracy (``None``: all).
    """
    from archzoo.evaluation.calibration import (
        CalibrationError,
        fit_temperature,
        negative_log_likelihood,
        reliability,
    )

    host = host or get_host()
    thresholds = thresholds or Thresholds()
    loaded = load(location, host=host)
    require_classifier(loaded)
    epsilons = check_epsilons(epsilons)  # bad options fail before the work, not after
    if max_shift is not None and is_image_model(loaded.info):
        check_max_shift(max_shift, loaded.info)
    own = loaded.meta["dataset"]["name"]
    name = dataset or own
    notes: list[str] = []
    # Read the data once, as evaluation reads it (same split, tokenizer, shape check).
    chosen, splits = evaluation_data(loaded, dataset=dataset, split=split, data_dir=data_dir, host=host)

    def loader(part: Any) -> Any:
        from torch.utils.data import DataLoader

        return DataLoader(part, batch_size=batch_size, collate_fn=splits.collate)

    test = collect(loaded, loader(chosen), host=host)
    classes = _classes(loaded, test, name, split)

    # -- calibration: fit on the validation split, judge on the test split -------------
    calibration: dict[str, Any] = {
        "n_bins": 10,
        "test_before": reliability(test.probabilities, test.labels).to_dict(),
        "test_nll_before": negative_log_likelihood(test.logits, test.labels),
    }
    try:
        if splits.val is None or len(splits.val) == 0:
            raise CalibrationError(
                f"dataset '{name}' has no validation split to fit a temperature on (train with val_fraction above 0)"
            )
        val = collect(loaded, loader(splits.val), host=host)
        fit = fit_temperature(val.logits, val.labels)
    except CalibrationError as exc:
        calibration["error"] = str(exc)
        notes.append(f"calibration: {exc}")
    else:
        t = fit.temperature
        if split in ("validation", "val"):
            notes.append(
                "calibration: measured on the validation split, the one the temperature was fitted on, so 'after' is "
                "optimistic"
            )
        calibration.update(
            temperature=t,
            fit=fit.to_dict(),
            test_after=reliability(_softmax(test.logits, t), test.labels).to_dict(),
            test_nll_after=negative_log_likelihood(test.logits, test.labels, t),
        )

    # -- out-of-distribution detection -------------------------------------------------
    ood_result = None
    ood_name = None if ood is False else ood or DEFAULT_OOD.get(own)
    if ood is False:
        notes.append("out-of-distribution: not measured (switched off)")
    elif ood_name:
        try:
            ood_result = _ood(loaded, test, ood_name, ood_data_dir, batch_size, notes, host)
        except DataError as exc:
            if ood:  # named by the user: their data is missing, say so as an error
                raise
            notes.append(
                f"out-of-distribution: not measured, the default set '{ood_name}' cannot be read here ({exc}); "
                "point at it with --ood-data-dir DIR, or name another with --ood"
            )
    else:
        notes.append(f"out-of-distribution: no set named and none known for '{own}'; name one (--ood DATASET)")

    # -- shift ---------------------------------------------------------------------------
    curves: dict[str, Any] = {}
    if shift:
        curves = _shift(loaded, chosen, split, shift_examples, max_shift, loader, notes, host)
    adversarial = None
    if fgsm:
        adversarial = _attack(loaded, chosen, split, shift_examples, epsilons, loader, notes, host)
    else:
        notes.append("FGSM: not measured (switched off)")

    # -- training accuracy, for the train-test gap ---------------------------------------
    train_accuracy = None
    if splits.train is not None and len(splits.train):
        train = collect(loaded, loader(subset(splits.train, train_examples)), host=host)
        train_accuracy = float((train.predicted == train.labels).float().mean())
    else:
        notes.append(
            f"training accuracy not measured (so no train-test gap): dataset '{name}' has no training split here"
        )

    if not test.exact:
        notes.append(
            "the model's raw outputs do not match its sample hook's probabilities; scores use log-probabilities and "
            "the energy score is left out"
        )
    return Assessment(
        checkpoint=str(loaded.path),
        architecture=loaded.spec.name,
        dataset=name,
        split=split,
        classes=classes,
        calibration=calibration,
        ood=ood_result,
        shift=curves,
        train_accuracy=train_accuracy,
        thresholds=thresholds,
        adversarial=adversarial,
        notes=notes,
    )


def _softmax(logits: Any, temperature: float) -> Any:
    import torch

    return torch.softmax(logits.double() / temperature, dim=1)


def _classes(loaded: Any, outputs: Any, dataset: str, split: str) -> dict[str, Any]:
    names = list(loaded.info.class_names) or [str(i) for i in range(loaded.info.num_classes)]
    matrix = confusion_from(outputs.predicted, outputs.labels, names, dataset, split)
    return class_report(matrix, labels=outputs.labels, probabilities=outputs.probabilities)


def _ood(loaded, test, name, data_dir, batch_size, notes, host) -> dict[str, Any] | None:
    """Score the model's test split against the ``name`` dataset's test split."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from archzoo.evaluation.ood import (
        OODDataError,
        energy_score,
        judge,
        msp_score,
        prepare_ood_inputs,
    )

    if name == loaded.meta["dataset"]["name"]:
        raise OODDataError(f"the out-of-distribution set must differ from the model's own dataset ('{name}')")
    splits = load_dataset(name, DataOptions(data_dir=Path(data_dir).expanduser() if data_dir else None), host=host)
    part = splits.test if splits.test is not None and len(splits.test) else splits.val
    if part is None or len(part) == 0:
        raise OODDataError(
            f"out-of-distribution set '{name}' has no test (or validation) split. {' '.join(splits.notes)}".strip()
        )
    if len(tuple(loaded.info.input_shape)) == 3:
        images = (
            part.tensors[0] if isinstance(part, TensorDataset) else torch.stack([part[i][0] for i in range(len(part))])
        )
        converted = prepare_ood_inputs(images, splits.info, loaded.info, notes, name)
        loader = DataLoader(
            TensorDataset(converted, torch.zeros(len(converted), dtype=torch.long)), batch_size=batch_size
        )
    else:
        loader = evaluation_loader(
            loaded, batch_size=batch_size, dataset=name, split="test", data_dir=data_dir, host=host
        )
    outside = collect(loaded, loader, host=host)
    results = {"msp": judge("msp", msp_score(test.logits), msp_score(outside.logits))}
    if test.exact and outside.exact:
        results["energy"] = judge("energy", energy_score(test.logits), energy_score(outside.logits))
    return {
        "dataset": name,
        "in_dataset": loaded.meta["dataset"]["name"],
        "examples": len(outside),
        "in_examples": len(test),
        "scores": {k: v.to_dict() for k, v in results.items()},
    }


def _shift(loaded, chosen, split, limit, max_shift, loader, notes, host) -> dict[str, Any]:
    task = loaded.meta.get("task") or loaded.spec.task
    if task == "text-classification":
        notes.append(
            "shift: rotation, translation and pixel noise apply to images (and noise to rows of numbers), not to text"
        )
        return {}
    picked = subset(chosen, limit)
    if len(picked) < len(chosen):
        notes.append(f"shift curves use {len(picked):,} of the {len(chosen):,} {split} examples (a fixed-seed sample)")
    batches = loader(picked)
    curves = {}
    if is_image_model(loaded.info):
        curves["rotation"] = rotation_curve(loaded, batches, host=host).to_dict()
    else:
        notes.append("shift: rotation and translation apply to images; rows of numbers get the noise curve only")
    curves["noise"] = noise_curve(loaded, batches, host=host).to_dict()
    if is_image_model(loaded.info):
        curves["translation"] = translation_curve(loaded, batches, max_shift, host=host).to_dict()
    return curves


def _attack(loaded, chosen, split, limit, epsilons, loader, notes, host) -> dict[str, Any] | None:
    """FGSM's curve and examples, or None with a note saying why not."""
    if not is_image_model(loaded.info):
        notes.append("FGSM: not measured, the attack applies to image classifiers (steps in pixel units)")
        return None
    picked = subset(chosen, limit)
    try:
        attack = fgsm_curve(loaded, loader(picked), epsilons, host=host)
    except AttackError as exc:
        notes.append(f"FGSM: not measured, '{loaded.spec.name}' cannot be attacked by gradient: {exc}")
        return None
    if len(picked) < len(chosen):
        notes.append(f"FGSM uses {len(picked):,} of the {len(chosen):,} {split} examples (the shift curves' sample)")
    return attack.to_dict()


def _curve_points(curve: dict[str, Any] | None) -> dict[str, list[float]] | None:
    return {"strengths": curve["strengths"], "accuracy": curve["accuracy"]} if curve else None


def _retention(curve: dict[str, Any] | None, strength: float) -> float | None:
    if not curve or strength not in curve["strengths"] or curve["accuracy"][0] <= 0:
        return None
    return curve["accuracy"][curve["strengths"].index(strength)] / curve["accuracy"][0]


# -- storing the temperature ----------------------------------------------------------------


def calibration_entry(fit: dict[str, Any]) -> dict[str, Any]:
    """What ``config.json`` keeps under ``calibration``: the temperature ``predict --calibrated``
    uses, and its evidence."""
    return {
        "temperature": fit["temperature"],
        "method": "temperature scaling: one scalar dividing the logits, fitted by NLL on the validation split",
        "validation_examples": fit["examples"],
        "validation_nll_before": fit["nll_before"],
        "validation_nll_after": fit["nll_after"],
        "validation_ece_before": fit["ece_before"],
        "validation_ece_after": fit["ece_after"],
        "fitted": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def calibrate_checkpoint(
    location: str | Path,
    *,
    save: bool = True,
    data_dir: str | Path | None = None,
    batch_size: int = 512,
    host: Host | None = None,
) -> dict[str, Any]:
    """Fit a temperature on the checkpoint's validation split and (``save``) store
    it in its ``config.json`` and model card, atomically and without touching the
    weights.  Returns the ``calibration`` entry; raises
    :class:`archzoo.evaluation.calibration.CalibrationError` when no temperature can be fitted."""
    from torch.utils.data import DataLoader

    host = host or get_host()
    if save:
        local_folder(location, host=host)  # refuse a cache folder before the work, not after
    loaded = load(location, host=host)
    require_classifier(loaded)

    try:
        chosen, splits = evaluation_data(loaded, split="validation", data_dir=data_dir, host=host)
    except ArchzooError as exc:
        raise CalibrationError(f"no validation split to fit a temperature on: {exc}") from None
    val = collect(loaded, DataLoader(chosen, batch_size=batch_size, collate_fn=splits.collate), host=host)
    entry = calibration_entry(fit_temperature(val.logits, val.labels).to_dict())
    if save:
        amend_checkpoint(loaded.path, meta_updates={"calibration": entry}, host=host)
    return entry


def stored_temperature(meta: dict[str, Any]) -> float | None:
    """The temperature a checkpoint's ``config.json`` holds, or None."""
    value = (meta.get("calibration") or {}).get("temperature")
    return float(value) if isinstance(value, (int, float)) and value > 0 else None
