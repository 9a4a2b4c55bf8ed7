"""Synthetic 2-D classification sets: moons, spirals and xor.

They exist for the smallest architectures (an MLP, a logistic regression):
small enough to train in a second, and each needs a non-linear decision
boundary of a different shape.  The points are generated from
:data:`SPLIT_SEED`, so every run and every machine sees the same data.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
import torch

from archzoo.data.splitting import split_indices, tensor_dataset
from archzoo.data.types import SPLIT_SEED, DataInfo, DataOptions, DatasetSplits

N_POINTS = 1000
TEST_FRACTION = 0.15


def _moons() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_moons

    return make_moons(n_samples=N_POINTS, noise=0.2, random_state=SPLIT_SEED)


def _spirals() -> tuple[np.ndarray, np.ndarray]:
    """Two arms, each turning 1.5 times around the origin, the second the first rotated by half a turn."""
    rng = np.random.default_rng(SPLIT_SEED)
    per_arm = N_POINTS // 2
    points, labels = [], []
    for arm in (0, 1):
        angle = rng.uniform(0.5 * np.pi, 3.5 * np.pi, per_arm)
        radius = angle  # an Archimedean spiral: the arms stay pi apart
        xy = np.stack([radius * np.cos(angle + arm * np.pi), radius * np.sin(angle + arm * np.pi)], axis=1)
        points.append(xy + rng.normal(0.0, 0.3, xy.shape))
        labels.append(np.full(per_arm, arm))
    return np.concatenate(points), np.concatenate(labels)


def _xor() -> tuple[np.ndarray, np.ndarray]:
    """Four blobs at (+-1, +-1): class 1 where the centre's coordinates differ in sign (x XOR y)."""
    rng = np.random.default_rng(SPLIT_SEED)
    per_blob = N_POINTS // 4
    points, labels = [], []
    for cx in (-1.0, 1.0):
        for cy in (-1.0, 1.0):
            points.append(rng.normal((cx, cy), 0.35, (per_blob, 2)))
            labels.append(np.full(per_blob, int(cx * cy < 0)))
    return np.concatenate(points), np.concatenate(labels)


_GENERATORS: dict[str, tuple[Callable[[], tuple[np.ndarray, np.ndarray]], tuple[str, str]]] = {
    "moons": (_moons, ("upper moon", "lower moon")),
    "spirals": (_spirals, ("arm 0", "arm 1")),
    "xor": (_xor, ("same sign", "opposite sign")),
}


@cache
def _points(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The raw points and labels of one set, generated once per process (read-only)."""
    generate, _ = _GENERATORS[name]
    x, y = generate()
    x, y = np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.int64)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def load_toy(name: str, options: DataOptions) -> DatasetSplits:
    """Split one synthetic set 15% test, ``val_fraction`` of the rest validation, and standardise
    each feature with the training split's mean and standard deviation."""
    x, y = _points(name)
    train_idx, val_idx, test_idx = split_indices(len(y), TEST_FRACTION, options.val_fraction)
    mean = x[train_idx].mean(axis=0)
    std = x[train_idx].std(axis=0)
    std = np.where(std > 1e-6, std, 1.0).astype(np.float32)

    def part(idx: np.ndarray):
        features = torch.from_numpy((x[idx] - mean) / std)
        return tensor_dataset(features, torch.from_numpy(y[idx]))

    _, class_names = _GENERATORS[name]
    info = DataInfo(name, "tabular-classification", (2,), 2, class_names, tuple(mean.tolist()), tuple(std.tolist()))
    return DatasetSplits(info, part(train_idx), part(val_idx), part(test_idx))


def load_moons(options: DataOptions) -> DatasetSplits:
    """Two interleaving half circles (scikit-learn's make_moons, noise 0.2)."""
    return load_toy("moons", options)


def load_spirals(options: DataOptions) -> DatasetSplits:
    """Two interleaved spiral arms: hard for a linear model, easy for a small MLP."""
    return load_toy("spirals", options)


def load_xor(options: DataOptions) -> DatasetSplits:
    """Four Gaussian blobs labelled by XOR of their quadrant's signs."""
    return load_toy("xor", options)


def clear_caches() -> None:
    """Forget the generated points."""
    _points.cache_clear()
