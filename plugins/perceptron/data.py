"""The AND and OR truth tables as datasets.

A truth table is the whole world: four inputs, each with one right answer.
There is nothing to hold out, so the training, validation and test splits are
the same four rows, and "validation accuracy 1.0" means "the line separates
every row".  The inputs stay 0/1 (no standardisation), as in the notes'
figure of the unit square.
"""

from __future__ import annotations

import torch
from torch.utils.data import TensorDataset

from archzoo.toolkit import DataInfo, DataOptions, DatasetSplits

INPUTS = ((0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0))
GATES = {
    "and": (0, 0, 0, 1),
    "or": (0, 1, 1, 1),
}


def truth_table(name: str) -> DatasetSplits:
    """One gate's four rows as train = validation = test."""
    x = torch.tensor(INPUTS, dtype=torch.float32)
    y = torch.tensor(GATES[name], dtype=torch.int64)
    rows = TensorDataset(x, y)
    info = DataInfo(name, "tabular-classification", (2,), 2, ("false", "true"))
    note = f"'{name}' is a truth table: training, validation and test are the same four rows"
    return DatasetSplits(info, rows, rows, rows, notes=[note])


def load_and(options: DataOptions) -> DatasetSplits:
    """x1 AND x2: only (1, 1) is true; one line cuts it off from the rest."""
    return truth_table("and")


def load_or(options: DataOptions) -> DatasetSplits:
    """x1 OR x2: only (0, 0) is false."""
    return truth_table("or")
