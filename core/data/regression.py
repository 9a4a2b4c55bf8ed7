"""Regression data: rows of inputs with numbers to predict, and the labs' ``sine`` set.

A regression dataset's :class:`DataInfo` has the task ``tabular-regression``; its
``num_classes`` is the number of outputs and its ``class_names`` their names (``y``,
or a CSV's target column), so a config field filled ``from_data="num_classes"`` sizes
a model's output layer for either task, and checkpoints keep the fields they always
had.  Targets are float32 tensors of shape (N, outputs), in the data's own units.

``sine`` is the explainers' and the workshop's curve: x uniform in [-1, 1] and
y = sin(pi x) + Gaussian noise.  Its size and noise are settings in its name
(``sine:points=50,noise=0.1``); the points are drawn from :data:`SPLIT_SEED`, so
every run of one name sees the same data.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import torch
from torch.utils.data import TensorDataset

from archzoo.data.splitting import split_indices
from archzoo.data.toys import TEST_FRACTION
from archzoo.data.types import SPLIT_SEED, DataInfo, DataOptions, DatasetSplits
from archzoo.errors import DataError

TASK = "tabular-regression"
SINE_POINTS = 200
SINE_NOISE = 0.3  # the workshop's sigma


def sine_points(points: int, noise: float, seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """``points`` draws of x ~ U(-1, 1), y = sin(pi x) + N(0, noise^2): arrays (points, 1) each.
    The bias-variance lab draws many such sets, one per seed."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, (points, 1))
    y = np.sin(np.pi * x) + rng.normal(0.0, noise, (points, 1))
    return x.astype(np.float32), y.astype(np.float32)


@cache
def _sine(points: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    x, y = sine_points(points, noise)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def load_sine(options: DataOptions) -> DatasetSplits:
    """The lab's noisy sine, split as the toy sets are (15% test, then ``val_fraction``).
    x is left as drawn: [-1, 1] is already the scale polynomial features want."""
    settings = dict(options.settings)
    points = _setting(settings, "points", int, SINE_POINTS, 10, 100_000)
    noise = _setting(settings, "noise", float, SINE_NOISE, 0.0, 10.0)
    x, y = _sine(points, noise)
    splits = regression_splits("sine", x, y, ("y",), options, standardise=False)
    splits.notes.append(f"sine: {points} points, y = sin(pi x) + noise of sigma {noise:g}")
    return splits


def _setting(settings: dict[str, str], name: str, kind: type, default: float, low: float, high: float):
    """One setting of a name (``points=50``) as a number within its bounds, or an error naming it."""
    if name not in settings:
        return default
    try:
        value = kind(settings[name])
    except ValueError:
        raise DataError(
            f"dataset setting {name}={settings[name]}: not {'a whole' if kind is int else 'a'} number"
        ) from None
    if not low <= value <= high:
        raise DataError(f"dataset setting {name}={settings[name]}: must be between {low:g} and {high:g}")
    return value


def regression_splits(
    name: str,
    x: np.ndarray,
    y: np.ndarray,
    target_names: tuple[str, ...],
    options: DataOptions,
    *,
    standardise: bool = True,
) -> DatasetSplits:
    """Rows of inputs ``x`` (N, D) and targets ``y`` (N, K) -> splits as the toy sets make them.
    With ``standardise`` each input column is scaled by the training split's mean and standard
    deviation (kept in DataInfo, so predictions take numbers in the data's units); targets stay
    as they are, so MSE and MAE are in the target's own units."""
    train_idx, val_idx, test_idx = split_indices(len(y), TEST_FRACTION, options.val_fraction)
    y = np.asarray(y, dtype=np.float32)
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()
    if standardise:
        mu = x[train_idx].mean(axis=0, dtype=np.float64)
        sigma = x[train_idx].std(axis=0, dtype=np.float64)
        sigma = np.where(sigma > 1e-6, sigma, 1.0)
        x = ((x - mu) / sigma).astype(np.float32)
        mean, std = tuple(mu.tolist()), tuple(sigma.tolist())

    def part(idx: np.ndarray) -> TensorDataset | None:
        if len(idx) == 0:
            return None
        return TensorDataset(
            torch.from_numpy(np.ascontiguousarray(x[idx])), torch.from_numpy(np.ascontiguousarray(y[idx]))
        )

    info = DataInfo(name, TASK, (x.shape[1],), y.shape[1], tuple(target_names), mean, std)
    return DatasetSplits(info, part(train_idx), part(val_idx), part(test_idx))


def clear_caches() -> None:
    """Forget the drawn points."""
    _sine.cache_clear()
