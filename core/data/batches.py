"""Whole batches from data held in memory: one gather per batch, not one Python call per example.

A DataLoader over a map-style dataset fetches a batch example by example and
stacks them: about 860 us for 128 Fashion-MNIST images against 220 us for one
index of the tensors.  A dataset that can take a batch of indices at once (a
``TensorDataset``, or any dataset with a ``take(indices)`` method, as text's
token datasets have) is served here by the same sampler cut into batches, so
the batches, their order and their values are those of the per-example path.
Image folders whose examples are read one by one, and datasets with a custom
``collate`` and no ``take``, keep the per-example path.

On an accelerator, data that fits :func:`placement`'s budget is moved to the
device once, so a batch never crosses the bus; the rest is pinned and copied
without blocking.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, Sampler, TensorDataset

from archzoo.errors import DataError

GIB = 2**30


def batch_taker(dataset: Any, collate: Any) -> Callable[[torch.Tensor], Any] | None:
    """How to take a whole batch of ``dataset`` by a tensor of indices, or None
    when its examples must be fetched one by one."""
    take = getattr(dataset, "take", None)
    if callable(take):
        return take
    if isinstance(dataset, TensorDataset) and collate is None:
        return lambda indices: tuple(tensor[indices] for tensor in dataset.tensors)
    return None


class WholeBatches(Dataset):
    """A dataset that answers a batch of indices with the whole batch: PyTorch's
    DataLoader asks ``__getitems__`` for a batch when a dataset has it."""

    def __init__(self, dataset: Any, take: Callable[[torch.Tensor], Any], device: torch.device | None = None) -> None:
        self.dataset, self.take, self.device = dataset, take, device

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[index]

    def __getitems__(self, indices: list[int]) -> Any:
        return self.take(torch.as_tensor(indices, dtype=torch.int64, device=self.device))


def as_taken(batch: Any) -> Any:
    """The collate of whole batches: the batch is made already."""
    return batch


class IndexBatches:
    """Whole batches cut straight from the sampler's order of indices, for a loader nobody
    wraps (one CPU process): no DataLoader machinery per batch, and the indices never
    become a Python list.  The same batches, in the same order, as the DataLoader path."""

    def __init__(self, take: Callable[[torch.Tensor], Any], sampler: Sampler[int] | None, size: int, batch_size: int):
        self.take, self.sampler, self.size, self.batch_size = take, sampler, size, batch_size

    def __len__(self) -> int:
        return -(-self.size // self.batch_size)

    def __iter__(self):
        return self.batches()

    def batches(self, skip: int = 0):
        """The epoch's batches, the first ``skip`` left out (a run resumed inside an epoch)."""
        if self.sampler is None:
            order = torch.arange(self.size)
        elif hasattr(self.sampler, "order"):
            order = self.sampler.order()
        else:
            order = torch.as_tensor(list(self.sampler), dtype=torch.int64)
        for indices in order.split(self.batch_size)[skip:]:
            yield self.take(indices)


def batch_loader(
    dataset: Any,
    sampler: Sampler[int] | None,
    batch_size: int,
    collate: Any = None,
    *,
    num_workers: int = 0,
    device: torch.device | None = None,
    budget_gib: float = 0.0,
    note: Callable[[str], None] | None = None,
    direct: bool = False,
) -> DataLoader | IndexBatches:
    """A DataLoader of ``batch_size`` batches in ``sampler``'s order (sequential without one),
    taken whole when the dataset allows it; the per-example DataLoader otherwise.  ``direct``:
    the loader is iterated as it is, in this process, on the CPU (Accelerate does not wrap
    it), so data in memory is served by :class:`IndexBatches` instead of a DataLoader."""
    take = batch_taker(dataset, collate)
    if take is not None and direct and num_workers == 0 and (device is None or device.type == "cpu"):
        return IndexBatches(take, sampler, len(dataset), batch_size)
    if take is None:
        return DataLoader(
            dataset,
            batch_size=batch_size,
            sampler=sampler,
            num_workers=num_workers,
            collate_fn=collate,
        )
    order = sampler if sampler is not None else range(len(dataset))
    where = placement(data_bytes(dataset), budget_gib, device, note)
    if where == "device":
        dataset = on_device(dataset, device)
        take = batch_taker(dataset, collate)
    return DataLoader(
        WholeBatches(dataset, take, device if where == "device" else None),
        batch_sampler=BatchSampler(order, batch_size, drop_last=False),
        collate_fn=as_taken,
        num_workers=0 if where == "device" else num_workers,
        pin_memory=where == "pinned",
    )


def data_bytes(dataset: Any) -> int:
    """The bytes of the tensors a dataset holds (0 when it does not say)."""
    return sum(t.numel() * t.element_size() for t in getattr(dataset, "tensors", ()))


def placement(nbytes: int, budget_gib: float, device: torch.device | None, note: Callable | None = None) -> str:
    """Where whole batches are taken from: ``"host"`` on the CPU, ``"device"`` when
    the data fits the budget on an accelerator, ``"pinned"`` host memory otherwise."""
    if device is None or device.type == "cpu":
        return "host"
    total = device_memory(device)
    if total and budget_gib * GIB > total:
        raise DataError(
            f"device_data_budget {budget_gib:g} GiB is more than the {device} has ({total / GIB:.1f} GiB); "
            "set it at most to that, or 0 to keep data off the device"
        )
    if 0 < nbytes <= budget_gib * GIB:
        return "device"
    if nbytes and note is not None:
        note(
            f"the data ({nbytes / GIB:.2f} GiB) is over device_data_budget ({budget_gib:g} GiB): "
            "batches are copied from pinned memory instead"
        )
    return "pinned"


def device_memory(device: torch.device) -> int:
    """An accelerator's memory in bytes, 0 when PyTorch cannot tell."""
    try:
        return int(torch.get_device_module(device.type).get_device_properties(device).total_memory)
    except (AttributeError, RuntimeError, AssertionError):
        return 0


def on_device(dataset: Any, device: torch.device) -> Any:
    """The dataset with its tensors moved to ``device``."""
    if isinstance(dataset, TensorDataset):
        return TensorDataset(*(t.to(device) for t in dataset.tensors))
    if hasattr(dataset, "to"):
        return dataset.to(device)
    raise DataError(f"{type(dataset).__name__} cannot be moved to {device}")
