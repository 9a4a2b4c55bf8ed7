"""The events a training run emits, in order: one ``RunStarted``, a
``StepEnded`` per optimisation step, an ``EpochEnded`` (and ``CheckpointSaved``)
per epoch, ``Message``s along the way, and one ``RunEnded``.

The CLI turns them into a progress bar; the UI streams them to the browser.
They are plain data, safe to send between threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class RunStarted:
    architecture: str
    dataset: str
    epochs: int
    steps_per_epoch: int
    total_steps: int
    parameters: int
    trainable_parameters: int
    device: str
    num_processes: int
    out_dir: Path
    resumed_from_step: int = 0


@dataclass(frozen=True)
class StepEnded:
    epoch: int
    step: int
    total_steps: int
    metrics: dict[str, float]
    examples_per_second: float
    lr: float


@dataclass(frozen=True)
class EpochEnded:
    epoch: int
    train_metrics: dict[str, float]
    val_metrics: dict[str, float]
    is_best: bool
    seconds: float


@dataclass(frozen=True)
class CheckpointSaved:
    path: Path
    which: str  # "best" or "last"


@dataclass(frozen=True)
class Message:
    text: str


@dataclass(frozen=True)
class RunEnded:
    status: str  # "finished", "stopped-early", "cancelled", "interrupted"
    best_dir: Path | None
    last_dir: Path | None
    val_metrics: dict[str, float] = field(default_factory=dict)
    test_metrics: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
