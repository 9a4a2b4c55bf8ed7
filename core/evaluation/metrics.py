"""Metrics beyond the ``evaluate`` hook's numbers: the confusion matrix of a
classifier checkpoint, per-class precision and recall, and a picture of it.

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
        """Support, precision and recall of each class (``None`` where undefined)."""
        rows = []
        size = len(self.counts)
        for i, name in enumerate(self.class_names):
            support = sum(self.counts[i])
            predicted = sum(self.counts[t][i] for t in range(size))
            hits = self.counts[i][i]
            rows.append(
                {
                    "class": name,
                    "support": support,
                    "precision": hits / predicted if predicted else None,
                    "recall": hits / support if support else None,
                }
            )
        return rows

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
    chosen, _ = evaluation_data(
        loaded,
        dataset=None if matrix.dataset == loaded.meta["dataset"]["name"] else matrix.dataset,
        split=matrix.split or "test",
        data_dir=data_dir,
        host=host,
    )
    names = matrix.class_names
    found = []
    for index in matrix.examples.get((true, predicted), [])[:limit]:
        image = tensor_to_image(to_unit(chosen[index][0].float(), loaded.info))
        image = image.resize((image.width * 3, image.height * 3), resample=0)  # nearest: the pixels as they are
        found.append((image, f"#{index}: {names[true]} → {names[predicted]}"))
    return found


def _short(name: str, limit: int = 14) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _blend(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return tuple(int(round(x + (y - x) * t)) for x, y in zip(a, b))
