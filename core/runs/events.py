"""The events a training run emits, in order: one ``RunStarted``, a
``StepEnded`` per optimisation step, an ``EpochEnded`` (and ``CheckpointSaved``,
and a ``ViewSaved`` where the model has a live view) per epoch, ``Message``s along the way, and one ``RunEnded``.

The CLI turns them into a progress bar; the UI streams them to the browser;
the run's record (:mod:`archzoo.runs.record`) keeps them, per-step events
aside, as JSON lines.  They are plain data, safe to send between threads.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: How many (step, loss) points an EpochEnded carries at most.
STEP_LOSSES = 200


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
    #: (step, training loss) through the epoch, at most :data:`STEP_LOSSES` points (neighbours
    #: averaged): the loss curve of a run whose per-step events nobody heard.
    step_losses: tuple[tuple[int, float], ...] = ()
    global_step: int = 0


@dataclass(frozen=True)
class CheckpointSaved:
    path: Path
    which: str  # "best" or "last"


@dataclass(frozen=True)
class ViewSaved:
    """A live view's numbers for one epoch, written into the run's ``views/`` folder
    (:mod:`archzoo.inference.views.live` draws them)."""

    view: str  # "boundary" or "samples"
    epoch: int
    path: Path


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


KINDS = {
    cls.__name__: cls for cls in (RunStarted, StepEnded, EpochEnded, CheckpointSaved, ViewSaved, Message, RunEnded)
}
_PATHS = ("out_dir", "path", "best_dir", "last_dir")


def to_json(event: Any) -> dict[str, Any]:
    """An event as a JSON object: ``{"event": "EpochEnded", ...its fields}``."""
    data: dict[str, Any] = {"event": type(event).__name__}
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        data[f.name] = str(value) if isinstance(value, Path) else value
    return data


def from_json(data: dict[str, Any]) -> Any:
    """The event :func:`to_json` wrote; ``ValueError`` for anything else."""
    if not isinstance(data, dict) or data.get("event") not in KINDS:
        raise ValueError(f"not an archzoo run event: {str(data)[:80]}")
    cls = KINDS[data["event"]]
    names = {f.name for f in dataclasses.fields(cls)}
    values = {k: v for k, v in data.items() if k in names}
    for key in _PATHS:
        if values.get(key) is not None:
            values[key] = Path(values[key])
    if "step_losses" in values:
        values["step_losses"] = tuple((int(s), float(v)) for s, v in values["step_losses"])
    try:
        return cls(**values)
    except TypeError as exc:
        raise ValueError(f"a {cls.__name__} event with the wrong fields: {exc}") from None


def thinned(points: list[tuple[int, float]], limit: int = STEP_LOSSES) -> tuple[tuple[int, float], ...]:
    """At most ``limit`` points: each the last step of a run of neighbours and their mean value."""
    if len(points) <= limit:
        return tuple(points)
    size = -(-len(points) // limit)
    chunks = (points[i : i + size] for i in range(0, len(points), size))
    return tuple((chunk[-1][0], sum(v for _, v in chunk) / len(chunk)) for chunk in chunks)
