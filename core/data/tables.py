"""Numeric CSV files as tabular classification sets: columns of numbers and a label column.

A ``.csv`` path given as the dataset (``archzoo train mlp --dataset points.csv``) is
read here when it is a table of numbers (:func:`is_number_table`), else as a table of
texts (:mod:`archzoo.data.text`).  The path is the dataset's name, as an image
folder's is, so a checkpoint finds its data again (``archzoo eval RUN``,
``archzoo show RUN boundary``) without being told where it is.

Reading is kept apart from labelling: :func:`read_number_table` gives the features
and the label column's cells as written, and :func:`load_number_table` makes classes
of them, so a numeric target (regression) can later read the same table.  Splits and
standardisation are the toy 2-D sets' (:mod:`archzoo.data.toys`): 15% test, then
``val_fraction`` of the rest, each feature scaled by the training split's mean and
standard deviation, recorded in :class:`DataInfo` so that predictions and views take
numbers in the file's own units.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from archzoo.data.splitting import split_indices, tensor_dataset
from archzoo.data.text import TEXT_COLUMNS, label_ids
from archzoo.data.toys import TEST_FRACTION
from archzoo.data.types import DataInfo, DataOptions, DatasetSplits
from archzoo.errors import DataError

#: The label column when none is named: this one if the header has it, else the last column.
LABEL_COLUMN = "label"
#: The largest magnitude a feature may have: the model reads float32.
LARGEST = float(np.finfo(np.float32).max)


@dataclass(frozen=True)
class NumberTable:
    """A CSV's feature columns as numbers and its label (target) column as written."""

    features: np.ndarray  # (rows, feature columns), float32, read-only
    targets: tuple[str, ...]
    feature_columns: tuple[str, ...]
    target_column: str
    #: The file's row (1-based, the header being row 1) of each example, for errors about a cell.
    rows: tuple[int, ...] = ()


def is_number_table(path: Path, options: DataOptions) -> bool:
    """Is this file a table of numbers rather than of texts?  A ``.csv`` file whose header
    names no text column (none is given, and none of the text tables' usual names is
    there) and whose first row's filled feature cells are numbers.  An empty file, or one
    of a single column, counts as numbers, so that its error speaks of numbers."""
    if path.suffix.lower() != ".csv" or options.text_column:
        return False
    try:
        rows = _rows(path)
        header = [h.strip() for h in next(rows, [])]
        first = next(rows, None)
    except (DataError, csv.Error):
        return False  # the text reader says what is wrong with it
    if {h.lower() for h in header} & set(TEXT_COLUMNS):
        return False
    if first is None or len(header) < 2:
        return True
    target = _target_index(header, options.label_column)
    cells = [c.strip() for i, c in enumerate(first) if i != target and c.strip()]
    return bool(cells) and all(_is_number(c) for c in cells)


def read_number_table(path: Path, label_column: str | None = None) -> NumberTable:
    """Read a CSV file with a header row: every column but the label's must hold numbers.

    The label column is ``label_column``, else the one called ``label``, else the last.
    Blank rows are skipped; anything else that is not a row of numbers and a label is an
    error naming the file, the row (1-based, the header being row 1, as a spreadsheet
    counts) and the column.
    """
    stat = path.stat()
    return _read(str(path), stat.st_mtime_ns, stat.st_size, label_column)


@lru_cache(maxsize=8)
def _read(path_text: str, _mtime: int, _size: int, label_column: str | None) -> NumberTable:
    path = Path(path_text)
    rows = _rows(path)
    header = next(rows, None)
    if header is None:
        raise DataError(
            f"{path} is empty: a CSV dataset needs a header row naming its columns, then one row per example"
        )
    header = [h.strip() for h in header]
    if len(header) < 2:
        raise DataError(
            f"{path} has a single column ({header[0]!r}): a CSV dataset needs at least one column of numbers "
            "and a label column"
        )
    target = _target_index(header, label_column)
    if target is None:
        raise DataError(
            f"{path} has no label column '{label_column}'; its columns are {', '.join(map(repr, header))} "
            "(name the label column with --set label_column=NAME)"
        )
    features, targets, numbers, number = [], [], [], 1
    try:
        for number, row in enumerate(rows, start=2):
            if not any(cell.strip() for cell in row):
                continue  # a blank line, or a spreadsheet's empty row (",,")
            if len(row) != len(header):
                raise DataError(f"{path}, row {number}: {len(row)} cells, but the header has {len(header)} columns")
            label = row[target].strip()
            if not label:
                raise DataError(f"{path}, row {number}: the label ('{header[target]}') is empty")
            where = f"{path}, row {number}"
            features.append([_number(c, f"{where}, {_column(header, i)}") for i, c in enumerate(row) if i != target])
            targets.append(label)
            numbers.append(number)
    except csv.Error as exc:
        raise DataError(f"{path}, row {number + 1}: not readable as CSV ({exc})") from None
    if not targets:
        raise DataError(f"{path} has a header but no rows of numbers")
    array = np.asarray(features, dtype=np.float32)
    array.setflags(write=False)
    names = tuple(h for i, h in enumerate(header) if i != target)
    return NumberTable(array, tuple(targets), names, header[target], tuple(numbers))


def _rows(path: Path) -> Iterator[list[str]]:
    """The file's rows as csv reads them (UTF-8, a byte-order mark allowed)."""
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 text ({exc})") from None
    except OSError as exc:
        raise DataError(f"{path} cannot be read ({exc.strerror or exc})") from None
    return csv.reader(io.StringIO(raw))


def _target_index(header: list[str], label_column: str | None) -> int | None:
    """Where the label column is: the named one (None when it is not there), else ``label``, else the last."""
    if label_column:
        return header.index(label_column) if label_column in header else None
    return header.index(LABEL_COLUMN) if LABEL_COLUMN in header else len(header) - 1


def _column(header: list[str], index: int) -> str:
    return f"column '{header[index]}'" if header[index] else f"column {index + 1}"


def _number(cell: str, where: str) -> float:
    """One feature cell as a number, or an error saying where it is and what it holds."""
    text = cell.strip()
    if not text:
        raise DataError(f"{where}: the cell is empty; every feature needs a number")
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"{where}: {text!r} is not a number") from None
    if not math.isfinite(value) or abs(value) > LARGEST:
        raise DataError(f"{where}: {text!r} is not a finite number within float32's range")
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def class_names_of(targets: tuple[str, ...]) -> tuple[str, ...]:
    """The classes a label column holds, sorted: by value when every label is a number
    ("2" before "10"), else as text."""
    seen = set(targets)
    values = {t: float(t) for t in seen if _is_number(t)}
    if len(values) == len(seen) and all(math.isfinite(v) for v in values.values()):
        return tuple(sorted(seen, key=lambda t: (values[t], t)))
    return tuple(sorted(seen))


def load_number_table(path: Path, options: DataOptions) -> DatasetSplits:
    """A numeric CSV as a tabular classification set; its classes are the label values
    (or a checkpoint's, ``options.class_names``, when it is judged on the file)."""
    path = Path(path).expanduser()
    table = read_number_table(path, options.label_column)
    classes = options.class_names or class_names_of(table.targets)
    if options.class_names is None and len(classes) < 2:
        raise DataError(
            f"{path}: the label column '{table.target_column}' holds a single class ({classes[0]!r}); "
            "a classifier needs at least two (name another column with --set label_column=NAME)"
        )
    labels, classes = label_ids(table.targets, classes, str(path))
    splits = standardised_splits(path.name, table.features, labels, classes, options)
    shown = ", ".join(table.feature_columns[:6]) + (", ..." if len(table.feature_columns) > 6 else "")
    splits.notes.append(
        f"{path.name}: {len(table.feature_columns)} feature column{'s' if len(table.feature_columns) > 1 else ''} "
        f"({shown}), label column '{table.target_column}' ({len(classes)} classes)"
    )
    return splits


def load_regression_table(path: Path, options: DataOptions) -> DatasetSplits:
    """A numeric CSV as a regression set (``houses.csv:task=regression``): the target column
    (``label_column``, else ``label``, else the last) holds the numbers to predict."""
    from archzoo.data.regression import regression_splits

    path = Path(path).expanduser()
    table = read_number_table(path, options.label_column)
    values = []
    for cell, row in zip(table.targets, table.rows):
        try:
            values.append(_number(cell, f"{path}, row {row}, target column '{table.target_column}'"))
        except DataError as exc:
            raise DataError(
                f"{exc}: a regression target must be a number (name another column with --set label_column=NAME)"
            ) from None
    targets = np.asarray(values, dtype=np.float32).reshape(-1, 1)
    splits = regression_splits(path.name, table.features, targets, (table.target_column,), options)
    splits.notes.append(
        f"{path.name}: {len(table.feature_columns)} input column{'s' if len(table.feature_columns) > 1 else ''}, "
        f"target column '{table.target_column}' (numbers to predict)"
    )
    return splits


def standardised_splits(
    name: str, x: np.ndarray, y: np.ndarray, class_names: tuple[str, ...], options: DataOptions
) -> DatasetSplits:
    """Rows of features and class ids -> splits as the toy sets make them: :data:`TEST_FRACTION`
    test, ``val_fraction`` of the rest validation, every feature standardised with the
    training split's mean and standard deviation (a constant feature is left unscaled)."""
    train_idx, val_idx, test_idx = split_indices(len(y), TEST_FRACTION, options.val_fraction)
    mean = x[train_idx].mean(axis=0, dtype=np.float64).astype(np.float32)
    std = x[train_idx].std(axis=0, dtype=np.float64)
    std = np.where(std > 1e-6, std, 1.0).astype(np.float32)

    def part(idx: np.ndarray):
        features = torch.from_numpy(((x[idx] - mean) / std).astype(np.float32))
        return tensor_dataset(features, torch.from_numpy(y[idx]))

    info = DataInfo(
        name,
        "tabular-classification",
        (x.shape[1],),
        len(class_names),
        tuple(class_names),
        tuple(mean.tolist()),
        tuple(std.tolist()),
    )
    return DatasetSplits(info, part(train_idx), part(val_idx), part(test_idx))


def clear_caches() -> None:
    """Forget the files read."""
    _read.cache_clear()
