"""Step metrics kept where they were computed, read only when someone looks.

Turning a GPU tensor into a Python number (``.item()``, ``float()``) waits for
every queued kernel, so a step that reports its loss that way stops the device
each step.  A step may instead return 0-d tensors: the tally adds them up on
the device and reads them in one transfer, at the run's ``log_every`` and at
the end of an epoch.  Python numbers are accepted as well and cost nothing.
Sums are kept in float64, as Python's floats are, so the means are the same
numbers that reading each step would give.
"""

from __future__ import annotations

from typing import Any

import torch


def wide(value: torch.Tensor) -> torch.Tensor:
    """A 0-d metric tensor in float64 (float32 where the device has no float64)."""
    return value.detach().reshape(()).to(torch.float32 if value.device.type == "mps" else torch.float64)


def read(values: dict[str, Any]) -> dict[str, float]:
    """Metrics as Python floats, every tensor among them read in one transfer."""
    tensors = {k: wide(v) for k, v in values.items() if isinstance(v, torch.Tensor)}
    numbers = {k: float(v) for k, v in values.items() if k not in tensors}
    if tensors:
        device = next(iter(tensors.values())).device
        numbers.update(zip(tensors, torch.stack([t.to(device) for t in tensors.values()]).tolist()))
    return {k: numbers[k] for k in values}


class StepTally:
    """One epoch's step metrics: their running sums, and each step's loss."""

    def __init__(self) -> None:
        self.sums: dict[str, Any] = {}
        self.count = 0
        self.losses: list[tuple[int, Any]] = []  # (global step, loss), the loss possibly a device tensor

    def add(self, step: int, metrics: dict[str, Any]) -> None:
        self.count += 1
        for key, value in metrics.items():
            if isinstance(value, torch.Tensor):
                # On the CPU reading a number waits for nothing, and a Python float adds in a
                # fraction of a tensor operation's time: the same float64 sums either way.
                value = value.item() if value.device.type == "cpu" else wide(value)
            self.sums[key] = self.sums.get(key, 0.0) + value
        if "loss" in metrics:
            self.losses.append((step, metrics["loss"]))

    def means(self) -> dict[str, float]:
        """The mean of each metric over the epoch's steps."""
        return {k: v / max(self.count, 1) for k, v in read(self.sums).items()}

    def step_losses(self) -> list[tuple[int, float]]:
        """Each step's loss as a number (tensors read in one transfer)."""
        numbers = read(dict(enumerate(loss for _, loss in self.losses)))
        return [(step, numbers[i]) for i, (step, _) in enumerate(self.losses)]
