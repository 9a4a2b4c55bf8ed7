"""Metrics beyond the ``evaluate`` hook's numbers: the confusion matrix of a
classifier checkpoint and a picture of it, per-class precision, recall and F1
(:func:`class_scores`), and ROC curves with their AUROC (:func:`roc_scores`).

The per-class numbers, their averages and the ROC curves are scikit-learn's
(``precision_recall_fscore_support``, ``roc_curve``, ``roc_auc_score``), not
archzoo's own arithmetic: the averages count every class that occurs in the
split or in the predictions, so a class the model never predicts pulls the
macro F1 down instead of dropping out of it (docs/evaluation.md).

Predictions come from the architecture's own ``sample`` hook (class
probabilities), so this works for any classifier plugin without it writing
anything extra.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archzoo.checkpoints.io import load
from archzoo.errors import ArchzooError
from archzoo.inference.data import evaluation_data, evaluation_loader
from archzoo.inference.sampling import sample_checkpoint
from archzoo.registry.host import Host, get_host
from archzoo.registry.limits import check_count
from archzoo.registry.specs import CLASSIFICATION_TASKS

#: Pixels above the matrix's grid in :meth:`ConfusionMatrix.to_image` (room for a viewer's caption
#: and the title), and between the class labels and the grid on its left.
MATRIX_TOP = 76
LABEL_GAP = 28


@dataclass
class ConfusionMatrix:
    """``counts[t][p]``: how many examples of true class ``t`` were predicted as ``p``."""

    class_names: list[str]
    counts: list[list[int]]
    dataset: str = ""
    split: str = ""
    #: The split's example indices behind each (true, predicted) cell, in the split's order.
    examples: dict[tuple[int, int], list[int]] = field(default_factory=dict, repr=False)

    @property
    def total(self) -> int:
        return sum(sum(row) for row in self.counts)

    @property
    def accuracy(self) -> float:
        return sum(self.counts[i][i] for i in range(len(self.counts))) / max(self.total, 1)

    def per_class(self) -> list[dict[str, Any]]:
        """Support, precision, recall and F1 of each class, scikit-learn's (see :func:`class_scores`)."""
        return self.scores()["per_class"]

    def scores(self) -> dict[str, Any]:
        """:func:`class_scores` of the predictions this matrix counts."""
        import numpy as np

        size = len(self.counts)
        true = np.repeat(np.arange(size), [sum(row) for row in self.counts])
        predicted = np.concatenate([np.repeat(np.arange(size), row) for row in self.counts] or [np.zeros(0, int)])
        return class_scores(true, predicted, self.class_names)

    def most_confused(self, n: int = 3) -> list[tuple[str, str, int]]:
        """The ``n`` largest off-diagonal cells as (true, predicted, count)."""
        return [(self.class_names[t], self.class_names[p], c) for t, p, c in self.cells()[:n]]

    def cells(self) -> list[tuple[int, int, int]]:
        """The misclassified cells as (true, predicted, count), the fullest first."""
        found = [(t, p, c) for t, row in enumerate(self.counts) for p, c in enumerate(row) if t != p and c]
        return sorted(found, key=lambda cell: (-cell[2], cell[0], cell[1]))

    def cell_at(self, x: float, y: float, cell: int = 40) -> tuple[int, int] | None:
        """The (true, predicted) cell under pixel (x, y) of :meth:`to_image`'s picture; None off the grid."""
        _, _, _, label_w = self._fonts(cell)
        column, row = (x - (label_w + LABEL_GAP)) // cell, (y - MATRIX_TOP) // cell
        size = len(self.class_names)
        return (int(row), int(column)) if 0 <= row < size and 0 <= column < size else None

    def _fonts(self, cell: int) -> tuple[Any, Any, list[str], int]:
        from PIL import ImageFont

        font = ImageFont.load_default(size=max(10, cell // 3))
        small = ImageFont.load_default(size=max(10, cell // 3))
        names = [_short(n) for n in self.class_names]
        label_w = max(int(font.getlength(n)) for n in names) + 12 if names else 20
        return font, small, names, label_w

    def to_image(self, cell: int = 40) -> Any:
        """A heat map with counts in the cells: rows are true classes, columns predictions."""
        from PIL import Image, ImageDraw

        size = len(self.class_names)
        font, small, names, label_w = self._fonts(cell)
        margin_top, margin_left = MATRIX_TOP, label_w + LABEL_GAP
        width, height = margin_left + size * cell + 12, margin_top + size * cell + label_w + 34
        image = Image.new("RGB", (width, height), "white")
        draw = ImageDraw.Draw(image)
        for t, row in enumerate(self.counts):
            support = sum(row) or 1
            for p, count in enumerate(row):
                share = count / support
                colour = (
                    _blend((255, 255, 255), (31, 119, 180) if t == p else (214, 39, 40), min(1.0, 0.12 + share * 1.6))
                    if count
                    else (250, 250, 250)
                )
                x, y = margin_left + p * cell, margin_top + t * cell
                draw.rectangle((x, y, x + cell - 1, y + cell - 1), fill=colour, outline=(225, 225, 225))
                if count:
                    text = str(count)
                    ink = "white" if share > 0.5 else "black"
                    tw = small.getlength(text)
                    draw.text((x + (cell - tw) / 2, y + cell / 2 - cell // 6 - 1), text, fill=ink, font=small)
        for i, name in enumerate(names):
            tw = font.getlength(name)
            draw.text(
                (margin_left - 8 - tw, margin_top + i * cell + cell / 2 - cell // 6 - 1), name, fill="black", font=font
            )
            label = Image.new("RGBA", (int(tw) + 4, cell), (255, 255, 255, 0))
            ImageDraw.Draw(label).text((0, cell / 2 - cell // 6 - 1), name, fill="black", font=font)
            rotated = label.rotate(90, expand=True)
            image.paste(rotated, (margin_left + i * cell, margin_top + size * cell + 6), rotated)
        title = f"{self.dataset} {self.split}: {self.total:,} examples, accuracy {self.accuracy:.3f}".strip()
        draw.text((8, 34), title, fill="black", font=font)
        draw.text((margin_left, 56), "predicted class", fill=(90, 90, 90), font=small)
        axis = Image.new("RGBA", (int(small.getlength("true class")) + 4, 20), (255, 255, 255, 0))
        ImageDraw.Draw(axis).text((0, 2), "true class", fill=(90, 90, 90), font=small)
        axis = axis.rotate(-90, expand=True)
        image.paste(axis, (4, margin_top), axis)
        return image

    def to_text(self) -> str:
        """A plain-text table (for a terminal)."""
        names = [_short(n, 8) for n in self.class_names]
        width = max([len(n) for n in names] + [len(str(max((max(r) for r in self.counts), default=0)))]) + 1
        lines = ["true\\pred".ljust(width + 1) + "".join(n.rjust(width) for n in names)]
        for name, row in zip(names, self.counts):
            lines.append(name.ljust(width + 1) + "".join(str(c).rjust(width) for c in row))
        return "\n".join(lines)


#: What a ratio with nothing to divide by counts as (scikit-learn's ``zero_division``): a class
#: never predicted has precision 0 (and so F1 0), a class predicted but absent from the split
#: recall 0. Zero, not "leave it out": a class the model never predicts is a failure the macro
#: averages must show.
ZERO_DIVISION = 0.0


def class_scores(true: Any, predicted: Any, class_names: list[str]) -> dict[str, Any]:
    """Per-class support, precision, recall and F1, and their macro and weighted averages,
    computed by scikit-learn's ``precision_recall_fscore_support``.

    ``true`` and ``predicted``: class indices (sequences, arrays or tensors). The classes
    counted (``labels=``) are every class that occurs in ``true`` or in ``predicted``, so a
    class that is never predicted counts, with precision and F1 of :data:`ZERO_DIVISION`.
    A class neither in the split nor predicted has nothing to measure: its numbers are
    ``None`` and the averages leave it out. Each row's ``note`` says when one of these applies.
    """
    import numpy as np
    from sklearn.metrics import precision_recall_fscore_support

    y_true, y_pred = _indices(true, "true classes"), _indices(predicted, "predicted classes")
    size = len(class_names)
    if len(y_true) != len(y_pred):
        raise ArchzooError(f"{len(y_true)} true classes but {len(y_pred)} predictions: they must pair up")
    beyond = [int(c) for c in np.concatenate([y_true, y_pred]) if not 0 <= c < size]
    if beyond:
        shown = ", ".join(class_names[:5]) + (", ..." if size > 5 else "")
        raise ArchzooError(f"class index {beyond[0]} is outside the {size} classes ({shown})")
    counted = sorted(set(y_true.tolist()) | set(y_pred.tolist()))
    support = np.bincount(y_true, minlength=size)
    guesses = np.bincount(y_pred, minlength=size)
    result: dict[str, Any] = {
        "per_class": [],
        "averaged_over": [class_names[c] for c in counted],
        "zero_division": ZERO_DIVISION,
        "source": "scikit-learn precision_recall_fscore_support",
    }
    if not counted:
        result["per_class"] = [_empty_row(name, "no examples") for name in class_names]
        result.update({f"{a}_{m}": None for a in ("macro", "weighted") for m in ("precision", "recall", "f1")})
        return result
    options = {"labels": counted, "zero_division": ZERO_DIVISION}
    precision, recall, f1, _ = precision_recall_fscore_support(y_true, y_pred, average=None, **options)
    found = {c: (float(precision[i]), float(recall[i]), float(f1[i])) for i, c in enumerate(counted)}
    for c, name in enumerate(class_names):
        if c not in found:
            result["per_class"].append(_empty_row(name, "not in the split and never predicted: nothing to measure"))
            continue
        note = ""
        if not support[c]:
            note = f"not in the split: recall undefined, counted as {ZERO_DIVISION:g}"
        elif not guesses[c]:
            note = f"never predicted: precision undefined, counted as {ZERO_DIVISION:g}"
        p, r, f = found[c]
        row = {"class": name, "support": int(support[c]), "predicted": int(guesses[c])}
        result["per_class"].append({**row, "precision": p, "recall": r, "f1": f, "note": note})
    for average in ("macro", "weighted"):
        p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, average=average, **options)
        result.update({f"{average}_precision": float(p), f"{average}_recall": float(r), f"{average}_f1": float(f)})
    return result


def roc_scores(true: Any, probabilities: Any, class_names: list[str]) -> dict[str, Any]:
    """ROC curves and the area under them, from the predicted class probabilities,
    by scikit-learn's ``roc_curve`` and ``roc_auc_score``.

    Two classes: the usual single curve, the second class positive (the first
    class's curve is its mirror and has the same area). More: one curve per class,
    that class against the rest, and the macro AUROC, their mean (what
    ``roc_auc_score(..., multi_class="ovr")`` computes when every class is present).
    A class absent from the split (or the only one in it) has no curve: its AUROC is
    ``None``, ``undefined`` says why, and the macro mean is over the others. The curves
    are thinned for plotting (:func:`curve_points`); the AUROC uses every score.
    """
    import numpy as np
    from sklearn.metrics import roc_auc_score, roc_curve

    y_true = _indices(true, "true classes")
    scores = np.asarray(probabilities.detach().cpu() if hasattr(probabilities, "detach") else probabilities, float)
    size = len(class_names)
    if scores.ndim != 2 or scores.shape != (len(y_true), size):
        raise ArchzooError(
            f"ROC needs one probability per class for each example: {len(y_true)} x {size}, "
            f"not {' x '.join(map(str, scores.shape))}"
        )
    present = set(y_true.tolist())
    binary = size == 2
    judged = [1] if binary else list(range(size))
    per_class: dict[str, float | None] = {name: None for name in class_names}
    curves: dict[str, dict[str, list[float]]] = {}
    undefined: dict[str, str] = {}
    for c in judged:
        name = class_names[c]
        if c not in present:
            undefined[name] = "not in the split: no positives, so no ROC curve (AUROC undefined)"
        elif len(present) == 1:
            undefined[name] = "the only class in the split: no negatives, so no ROC curve (AUROC undefined)"
        else:
            positive = y_true == c
            fpr, tpr, _ = roc_curve(positive, scores[:, c])
            per_class[name] = float(roc_auc_score(positive, scores[:, c]))
            curves[name] = curve_points(fpr, tpr)
    defined = [v for v in per_class.values() if v is not None]
    if binary:
        per_class[class_names[0]] = per_class[class_names[1]]
    return {
        "method": "binary" if binary else "one-vs-rest",
        "positive_class": class_names[1] if binary else None,
        "macro_auroc": float(np.mean(defined)) if defined else None,
        "per_class": per_class,
        "curves": curves,
        "undefined": undefined,
        "source": "scikit-learn roc_curve, roc_auc_score",
    }


#: A ROC curve keeps at most this many points for the report's figures and JSON: scikit-learn's
#: curve has up to one per distinct score (thousands on 10,000 examples); the AUROC is always
#: computed from every score.
CURVE_POINTS = 201


def curve_points(fpr: Any, tpr: Any, limit: int = CURVE_POINTS) -> dict[str, list[float]]:
    """A ROC curve as ``{"fpr": [...], "tpr": [...]}``, thinned to at most ``limit`` of its points,
    evenly spaced along it, always keeping both ends."""
    import numpy as np

    fpr, tpr = np.asarray(fpr, float), np.asarray(tpr, float)
    if len(fpr) > limit:
        keep = np.unique(np.linspace(0, len(fpr) - 1, limit).round().astype(int))
        fpr, tpr = fpr[keep], tpr[keep]
    return {"fpr": fpr.tolist(), "tpr": tpr.tolist()}


def _indices(values: Any, what: str) -> Any:
    import numpy as np

    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    array = np.asarray(values)
    if array.ndim != 1 or (array.size and not np.issubdtype(array.dtype, np.integer)):
        raise ArchzooError(f"{what} must be one class index per example, not an array of shape {array.shape}")
    return array.astype(np.int64)


def _empty_row(name: str, note: str) -> dict[str, Any]:
    return {"class": name, "support": 0, "predicted": 0, "precision": None, "recall": None, "f1": None, "note": note}


def confusion_matrix(
    location: str | Path,
    *,
    dataset: str | None = None,
    split: str = "test",
    data_dir: str | Path | None = None,
    download: bool = False,
    batch_size: int = 512,
    host: Host | None = None,
) -> ConfusionMatrix:
    """The confusion matrix of a classifier checkpoint on a split (the same split ``evaluate_checkpoint`` uses)."""
    import torch

    host = host or get_host()
    loaded = load(location, host=host)
    if loaded.spec.task not in CLASSIFICATION_TASKS:
        raise ArchzooError(f"a confusion matrix needs a classifier; '{loaded.spec.name}' is a {loaded.spec.task} model")
    loader = evaluation_loader(
        loaded, batch_size=batch_size, dataset=dataset, split=split, data_dir=data_dir, download=download, host=host
    )
    names = list(loaded.info.class_names) or [str(i) for i in range(loaded.info.num_classes)]
    size = len(names)
    counts = torch.zeros(size, size, dtype=torch.long)
    cells = []
    for inputs, labels in loader:
        result = sample_checkpoint(loaded, {"inputs": inputs}, host=host)
        predicted = result.outputs["probabilities"].argmax(dim=1).cpu()
        index = labels.long().cpu() * size + predicted
        counts += torch.bincount(index, minlength=size * size).view(size, size)
        cells.append(index)
    examples: dict[tuple[int, int], list[int]] = {}
    for position, cell in enumerate(torch.cat(cells).tolist() if cells else []):
        examples.setdefault(divmod(cell, size), []).append(position)
    return ConfusionMatrix(
        class_names=names,
        counts=counts.tolist(),
        dataset=dataset or loaded.meta["dataset"]["name"],
        split=split,
        examples=examples,
    )


#: Pictures of one cell drawn at most.
MAX_CELL_PICTURES = 64


def cell_pictures(
    location: str | Path,
    matrix: ConfusionMatrix,
    true: int,
    predicted: int,
    *,
    limit: int = 32,
    data_dir: str | Path | None = None,
    host: Host | None = None,
) -> list[tuple[Any, str]]:
    """The images behind one cell of ``matrix`` (made by :func:`confusion_matrix` for this
    checkpoint) as (PIL image, caption) pairs, the first ``limit`` in the split's order.
    Only image classifiers have pictures; for the others this is an empty list."""
    from archzoo.inference.generation import tensor_to_image  # torch: imported when used
    from archzoo.toolkit.generative import to_unit

    limit = check_count("images per cell", limit, MAX_CELL_PICTURES)
    host = host or get_host()
    loaded = load(location, host=host)
    if len(loaded.info.input_shape) != 3:
        return []
    chosen = _judged_split(loaded, matrix.dataset, matrix.split or "test", data_dir, host)
    names = matrix.class_names
    found = []
    for index in matrix.examples.get((true, predicted), [])[:limit]:
        image = tensor_to_image(to_unit(chosen[index][0].float(), loaded.info))
        image = image.resize((image.width * 3, image.height * 3), resample=0)  # nearest: the pixels as they are
        found.append((image, f"#{index}: {names[true]} → {names[predicted]}"))
    return found


def _judged_split(loaded: Any, dataset: str, split: str, data_dir: str | Path | None, host: Host) -> Any:
    """The split a confusion matrix was made on, read once for the clicks on its cells that follow
    (reading Fashion-MNIST again took most of a click's time): kept for the last two checkpoints,
    and read again when a checkpoint's weights file changes."""
    weights = Path(loaded.path) / "model.safetensors"
    stamp = weights.stat().st_mtime_ns if weights.exists() else 0
    own = dataset == loaded.meta["dataset"]["name"]
    key = (str(Path(loaded.path).resolve()), stamp, dataset, split, str(data_dir or ""), id(host))
    if key not in _SPLITS:
        chosen, _ = evaluation_data(loaded, dataset=None if own else dataset, split=split, data_dir=data_dir, host=host)
        _SPLITS[key] = chosen
        while len(_SPLITS) > 2:
            _SPLITS.pop(next(iter(_SPLITS)))
    return _SPLITS[key]


#: (checkpoint folder, its weights' modification time, dataset, split, data folder, host) -> the split.
_SPLITS: dict[tuple, Any] = {}


def _short(name: str, limit: int = 14) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _blend(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return tuple(int(round(x + (y - x) * t)) for x, y in zip(a, b))
