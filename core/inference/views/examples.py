"""What the views read: the checkpoint's own test split, one example of it, and its named layers.

Every view of a trained model is drawn from the data it was judged on
(:func:`archzoo.inference.data.evaluation_data`), so ``--index 3`` means the
same test example in the CLI, the app and Python.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import DataLoader, TensorDataset

from archzoo.inference.data import evaluation_data
from archzoo.inference.views.base import ViewError
from archzoo.registry.host import Host
from archzoo.toolkit import unwrap


def split_and_splits(loaded: Any, split: str, host: Host) -> tuple[Any, Any]:
    return evaluation_data(loaded, split=split, host=host)


def loader(loaded: Any, split: str, host: Host, batch_size: int = 512) -> DataLoader:
    chosen, splits = split_and_splits(loaded, split, host)
    return DataLoader(chosen, batch_size=batch_size, collate_fn=splits.collate)


def example(loaded: Any, index: int, host: Host, split: str = "test") -> tuple[Any, Any]:
    """(a batch of one: example ``index`` of the split, its label or None)."""
    chosen, splits = split_and_splits(loaded, split, host)
    if index >= len(chosen):
        raise ViewError(f"index {index} is past the end of the {split} split of {len(chosen)} examples")
    item = chosen[index]
    batch = splits.collate([item]) if splits.collate is not None else torch.utils.data.default_collate([item])
    if isinstance(batch, (list, tuple)) and len(batch) == 2:
        return batch[0], batch[1]
    return batch, None


def collect(loaded: Any, split: str, host: Host, limit: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``limit`` (inputs, labels) of a split, stacked."""
    chosen, splits = split_and_splits(loaded, split, host)
    return stacked(chosen, splits.collate, limit)


def stacked(dataset: Any, collate: Any, limit: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``limit`` (inputs, labels) of a dataset, stacked."""
    if isinstance(dataset, TensorDataset) and len(dataset.tensors) == 2:  # whole tensors: no batching needed
        return dataset.tensors[0][:limit], dataset.tensors[1][:limit]
    xs, ys, seen = [], [], 0
    for x, y in DataLoader(dataset, batch_size=512, collate_fn=collate):
        xs.append(x[: limit - seen])
        ys.append(y[: limit - seen])
        seen += len(xs[-1])
        if seen >= limit:
            break
    return torch.cat(xs), torch.cat(ys)


def in_data_units(info: Any, inputs: torch.Tensor) -> torch.Tensor:
    """Rows of numbers as the model reads them (standardised) back in the data's own units."""
    columns = inputs.shape[1]
    mean = torch.tensor(info.mean or (0.0,) * columns, dtype=torch.float32)
    std = torch.tensor(info.std or (1.0,) * columns, dtype=torch.float32)
    return inputs.float() * std + mean


def layers(model: Any) -> dict[str, torch.nn.Module]:
    """The model's named sub-modules (the names ``--layer`` takes), the model itself left out."""
    return {name: module for name, module in unwrap(model).named_modules() if name}


def layer(model: Any, name: str) -> torch.nn.Module:
    """The sub-module called ``name``, or an error listing the names there are."""
    named = layers(model)
    if name not in named:
        shown = ", ".join(named)
        raise ViewError(f"the model has no layer '{name}'; its layers are: {shown or 'none'}")
    return named[name]


def first_of(model: Any, kind: type) -> tuple[str, torch.nn.Module] | None:
    """The first sub-module of a kind, in the order the model declares them."""
    return next(((n, m) for n, m in layers(model).items() if isinstance(m, kind)), None)


def device_of(model: Any) -> torch.device:
    return next(iter(unwrap(model).parameters()), torch.empty(0)).device
