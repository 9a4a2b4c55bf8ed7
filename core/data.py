"""Datasets as the trainer sees them: splits of (input, label) pairs plus what
the model needs to know about them.

A dataset is registered as a :class:`archzoo.DatasetSpec` whose loader returns
:class:`DatasetSplits`.  Inputs are float tensors already scaled and
normalised; :class:`DataInfo` records how (``mean``, ``std``), so that
``predict`` can prepare a user's own image the same way from a checkpoint.
"""

from __future__ import annotations

import importlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import DataError

#: Splits are always drawn with this seed, so runs with different training
#: seeds are judged on the same validation and test examples.
SPLIT_SEED = 20240521


@dataclass(frozen=True)
class DataOptions:
    """How to find and split a dataset."""

    data_dir: Path | None = None
    val_fraction: float = 0.1
    download: bool = False
    image_size: int | None = None


@dataclass(frozen=True)
class DataInfo:
    """What a model must know about its data; saved in every checkpoint's config.json."""

    name: str
    task: str
    input_shape: tuple[int, ...]
    num_classes: int
    class_names: tuple[str, ...]
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "DataInfo":
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


@dataclass
class DatasetSplits:
    """Train, validation and test splits (``torch.utils.data.Dataset`` objects).

    ``notes`` are things the user should be told (a split that is missing, a
    conversion that was made); the CLI prints them and the UI shows them.
    """

    info: DataInfo
    train: Any
    val: Any
    test: Any
    notes: list[str] = field(default_factory=list)
    #: How to make a batch from examples (text needs padding, a graph is one
    #: batch); ``None`` means PyTorch's default collation.
    collate: Any = None


def load_dataset(name_or_path: str, options: DataOptions | None = None, host: Any = None) -> DatasetSplits:
    """Load a registered dataset by name, or an image folder by path."""
    from .host import get_host

    options = options or DataOptions()
    host = host or get_host()
    if name_or_path not in host.datasets and _looks_like_path(name_or_path):
        path = Path(name_or_path).expanduser()
        if not path.is_dir():
            raise DataError(f"dataset directory {path} does not exist")
        from .datasets import load_image_folder

        return load_image_folder(path, options)
    spec = host.dataset(name_or_path)
    module_name, _, function_name = spec.loader.partition(":")
    loader = getattr(importlib.import_module(module_name), function_name)
    return loader(options)


def _looks_like_path(name: str) -> bool:
    return "/" in name or name.startswith(".") or name.startswith("~") or Path(name).is_dir()
