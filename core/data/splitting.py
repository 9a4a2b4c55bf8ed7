"""How every dataset is cut into train, validation and test: one seed, one rule.

Splits are drawn from :data:`archzoo.data.types.SPLIT_SEED`, not the run's
seed, so runs with different seeds are judged on the same examples; the test
share comes off first, so a different ``val_fraction`` never moves an example
into or out of the test split.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import TensorDataset

from archzoo.data.types import SPLIT_SEED
from archzoo.errors import DataError


def check_val_fraction(val_fraction: float) -> None:
    """Reject a validation share that would leave nothing (or less) to train on."""
    if not 0.0 <= val_fraction < 1.0:
        raise DataError(f"val_fraction must be at least 0 and below 1, not {val_fraction}")


def _share(n: int, fraction: float) -> int:
    """How many of ``n`` examples a fraction takes: at least one if the fraction is not zero."""
    if fraction <= 0 or n == 0:
        return 0
    return max(1, int(n * fraction + 0.5))


def split_indices(n: int, test_fraction: float, val_fraction: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle ``range(n)`` with :data:`SPLIT_SEED` and cut it into (train, val, test) indices.

    The test share comes off first and the validation share is taken from what
    is left, so changing ``val_fraction`` never moves an example into or out of
    the test split: test scores stay comparable across runs.
    """
    check_val_fraction(val_fraction)
    order = np.random.default_rng(SPLIT_SEED).permutation(n)
    n_test = _share(n, test_fraction)
    n_val = _share(n - n_test, val_fraction)
    if n - n_test - n_val < 1:
        raise DataError(f"{n} examples are too few to split into train, validation and test sets")
    return order[n_test + n_val :], order[n_test : n_test + n_val], order[:n_test]


def tensor_dataset(x: torch.Tensor, y: torch.Tensor) -> TensorDataset | None:
    """Whole tensors as a dataset, or ``None`` for an empty split (the trainer skips those)."""
    if len(y) == 0:
        return None
    return TensorDataset(x.contiguous(), y.to(torch.int64))
