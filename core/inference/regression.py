"""Regression by checkpoint: predicted numbers for rows the user types, and the residuals on a split.

:func:`predict_values` is what ``archzoo predict`` runs on a ``tabular-regression``
checkpoint and what the app's rows box calls; :func:`residuals` is what the
``residuals`` view, the Evaluate tab and ``archzoo report`` draw: every example of a
split with its true and predicted values, inputs in the data's own units.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from archzoo.checkpoints.io import LoadedCheckpoint, load
from archzoo.errors import ArchzooError
from archzoo.inference.data import evaluation_data
from archzoo.inference.inputs import parse_row, prepare_row
from archzoo.inference.sampling import expect, sample_checkpoint
from archzoo.registry.host import Host, get_host
from archzoo.registry.limits import MAX_ROWS, check_count, check_text_request

TASK = "tabular-regression"
#: Examples of a split the residuals read at most (the plot and the JSON stay small).
MAX_RESIDUALS = 20_000


@dataclass
class ValuePredictions:
    """The predicted numbers per input row (one per output), the outputs' names, and notes."""

    values: list[list[float]]
    names: list[str]
    notes: list[str] = field(default_factory=list)


@dataclass
class Residuals:
    """A split's inputs (data units, N x D), true and predicted values (N x K) and what they are."""

    inputs: np.ndarray
    true: np.ndarray
    predicted: np.ndarray
    names: list[str]
    dataset: str
    split: str

    @property
    def residuals(self) -> np.ndarray:
        """true - predicted: positive where the model predicts too low."""
        return self.true - self.predicted


def loaded_regression(location: Any, host: Host) -> LoadedCheckpoint:
    """The checkpoint, loaded, or an error when it does not predict numbers."""
    loaded = location if isinstance(location, LoadedCheckpoint) else load(location, host=host)
    if loaded.info.task != TASK:
        raise ArchzooError(
            f"{loaded.path} is a {loaded.info.task} model ({loaded.spec.name}); predicted values and residuals are "
            f"for {TASK} models"
        )
    return loaded


def predict_values(location: Any, rows: Sequence[Any], *, host: Host | None = None) -> ValuePredictions:
    """Predicted values for rows of numbers (``"0.5"``, ``"1.2, 3"`` or sequences), in the data's own units."""
    host = host or get_host()
    if not rows:
        raise ArchzooError("give at least one row of numbers to predict")
    check_count("rows in one prediction", len(rows), MAX_ROWS, hint="send fewer at a time")
    loaded = loaded_regression(location, host)
    batch = torch.stack([prepare_row(row, loaded.info, f"row {number}") for number, row in enumerate(rows, 1)])
    result = sample_checkpoint(loaded, {"inputs": batch}, host=host)
    expect(result, "values")
    return ValuePredictions(values=result.outputs["values"].tolist(), names=list(result.outputs["names"]))


def predict_typed_rows(location: Any, text: str, *, host: Host | None = None) -> ValuePredictions:
    """Predicted values for rows typed one per line (blank lines skipped); an error names its line."""
    host = host or get_host()
    check_text_request(text or "", "the rows")  # the cheapest answer to a flood, before the checkpoint is read
    loaded = loaded_regression(location, host)
    width = int(np.prod(loaded.info.input_shape))
    lines = [(number, line) for number, line in enumerate((text or "").splitlines(), 1) if line.strip()]
    if not lines:
        raise ArchzooError(f"type {width} number{'s' if width > 1 else ''} separated by commas, one row per line")
    return predict_values(loaded, [parse_row(line, width, f"row {number}") for number, line in lines], host=host)


def residuals(
    location: Any,
    *,
    dataset: str | None = None,
    split: str = "test",
    limit: int = MAX_RESIDUALS,
    host: Host | None = None,
) -> Residuals:
    """The first ``limit`` examples of a split of the checkpoint's data (or another of its shape)
    with their true and predicted values."""
    host = host or get_host()
    loaded = loaded_regression(location, host)
    chosen, splits = evaluation_data(loaded, dataset=dataset, split=split, host=host)
    inputs, true = next(iter(DataLoader(chosen, batch_size=min(limit, len(chosen)), collate_fn=splits.collate)))
    result = sample_checkpoint(loaded, {"inputs": inputs}, host=host)
    expect(result, "values")
    info = loaded.info
    mean = np.asarray(info.mean or (0.0,) * inputs.shape[1], dtype=np.float64)
    std = np.asarray(info.std or (1.0,) * inputs.shape[1], dtype=np.float64)
    return Residuals(
        inputs=inputs.double().numpy() * std + mean,
        true=true.double().reshape(len(true), -1).numpy(),
        predicted=result.outputs["values"].double().numpy(),
        names=list(result.outputs["names"]),
        dataset=splits.info.name,
        split=split,
    )


def curve(location: Any, xs: np.ndarray, *, host: Host | None = None) -> np.ndarray:
    """Predictions along one input (``xs`` in the data's units) of a one-input model: its fitted curve."""
    host = host or get_host()
    loaded = loaded_regression(location, host)
    mean, std = (loaded.info.mean or (0.0,))[0], (loaded.info.std or (1.0,))[0]
    grid = torch.from_numpy(((np.asarray(xs, dtype=np.float64) - mean) / std).astype(np.float32)).reshape(-1, 1)
    result = sample_checkpoint(loaded, {"inputs": grid}, host=host)
    expect(result, "values")
    return result.outputs["values"].double().numpy()
