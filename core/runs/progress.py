"""What a run's events add up to for a person watching: progress, curves, a log.

:class:`RunProgress` folds events one at a time; :func:`describe_event` words
each event as one log line, the same words the CLI prints and the app shows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archzoo.runs import events


def describe_event(event: Any) -> str | None:
    """The log line for an event, worded as the CLI prints it (``None`` for per-step events)."""
    if isinstance(event, events.RunStarted):
        resumed = f", resuming at step {event.resumed_from_step}" if event.resumed_from_step else ""
        return (
            f"training {event.architecture} on {event.dataset}: {event.parameters:,} parameters "
            f"({event.trainable_parameters:,} trainable{_share(event)}), {event.epochs} epochs x "
            f"{event.steps_per_epoch} steps, "
            f"{event.device}, {event.num_processes} process(es){resumed}\nwriting to {event.out_dir}"
        )
    if isinstance(event, events.EpochEnded):
        line = f"epoch {event.epoch}: train {metrics_text(event.train_metrics)}"
        if event.val_metrics:
            line += f" | validation {metrics_text(event.val_metrics)}"
        return line + f" | {event.seconds:.1f}s" + (" *best*" if event.is_best else "")
    if isinstance(event, events.CheckpointSaved):
        return None
    if isinstance(event, events.Message):
        return event.text
    if isinstance(event, events.RunEnded):
        lines = [f"{event.status} in {event.seconds:.1f}s"]
        if event.val_metrics:
            lines.append("validation: " + metrics_text(event.val_metrics))
        if event.test_metrics:
            lines.append("test:       " + metrics_text(event.test_metrics))
        if event.best_dir:
            lines.append(f"best checkpoint: {event.best_dir}")
        if event.last_dir:
            lines.append(f"last checkpoint: {event.last_dir}" + (" (resumable)" if event.status == "cancelled" else ""))
        return "\n".join(lines)
    return None


def metrics_text(metrics: dict[str, float]) -> str:
    """``loss 0.3012 accuracy 0.9120``: how the CLI, the log and the app write a set of metrics."""
    return " ".join(f"{k} {v:.4f}" for k, v in metrics.items())


def _share(event: events.RunStarted) -> str:
    """ ", 0.33%" when only part of the model trains (a frozen encoder, LoRA)."""
    if event.trainable_parameters >= event.parameters or not event.parameters:
        return ""
    return f", {100.0 * event.trainable_parameters / event.parameters:.2f}%"


@dataclass
class RunProgress:
    """What a run's events add up to, updated one event at a time."""

    started: events.RunStarted | None = None
    ended: events.RunEnded | None = None
    step: int = 0
    total_steps: int = 0
    epoch: int = 0  # the epoch in progress, or the one just finished (1-based)
    epochs: int = 0
    steps_per_epoch: int = 1
    step_losses: list[tuple[float, float]] = field(default_factory=list)  # (epoch as a float, loss)
    epoch_rows: list[dict[str, Any]] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    best_dir: Path | None = None
    last_dir: Path | None = None
    #: view name -> (epoch, file) of each live view's epochs so far, in order
    views: dict[str, list[tuple[int, Path]]] = field(default_factory=dict)
    _epoch_began: int = 0  # where this epoch's step losses start in step_losses

    @classmethod
    def of(cls, history: Any) -> RunProgress:
        """The progress that a sequence of events (a record's, say) adds up to."""
        progress = cls()
        for event in history:
            progress.add(event)
        return progress

    def add(self, event: Any) -> None:
        if isinstance(event, events.RunStarted):
            self.started = event
            self.total_steps, self.epochs = event.total_steps, event.epochs
            self.steps_per_epoch = max(event.steps_per_epoch, 1)
            self.step = event.resumed_from_step
            self._epoch_began = len(self.step_losses)
        elif isinstance(event, events.StepEnded):
            self.step, self.total_steps, self.epoch = event.step, event.total_steps, event.epoch + 1
            if "loss" in event.metrics:
                self.step_losses.append((event.step / self.steps_per_epoch, float(event.metrics["loss"])))
        elif isinstance(event, events.EpochEnded):
            self.epoch = event.epoch
            self.step = max(self.step, event.global_step)
            # The epoch's own losses (every step, thinned) replace the few heard every log_every steps.
            if event.step_losses:
                del self.step_losses[self._epoch_began :]
                self.step_losses += [(s / self.steps_per_epoch, loss) for s, loss in event.step_losses]
            self._epoch_began = len(self.step_losses)
            # An epoch cut by max_steps and finished after a resume is reported again, whole.
            self.epoch_rows = [r for r in self.epoch_rows if r["epoch"] != event.epoch]
            self.epoch_rows.append(
                {"epoch": event.epoch, "train": dict(event.train_metrics), "validation": dict(event.val_metrics)}
            )
        elif isinstance(event, events.CheckpointSaved):
            if event.which == "best":
                self.best_dir = event.path
            else:
                self.last_dir = event.path
        elif isinstance(event, events.ViewSaved):
            self.views.setdefault(event.view, []).append((event.epoch, event.path))
        elif isinstance(event, events.RunEnded):
            self.ended = event
            self.best_dir, self.last_dir = event.best_dir or self.best_dir, event.last_dir or self.last_dir
        line = describe_event(event)
        if line:
            self.log.extend(line.splitlines())

    @property
    def fraction(self) -> float:
        if self.ended is not None and self.ended.status in ("finished", "stopped-early"):
            return 1.0
        return min(self.step / self.total_steps, 1.0) if self.total_steps else 0.0

    def loss_curve(self, max_points: int = 400) -> list[tuple[float, float, str]]:
        """(epoch, loss, "train") rows: the training loss of every step, at its
        fractional epoch, thinned to ``max_points`` by averaging neighbours."""
        return [(x, y, "train") for x, y in _thin(self.step_losses, max_points)]

    def epoch_loss_curve(self, max_epochs: int = 400) -> list[tuple[float, float, str]]:
        """(epoch, loss, split) rows: the mean training loss and the validation loss of each epoch."""
        return self._per_epoch(lambda key: key == "loss", "{split}", max_epochs)

    def metric_curve(self, max_epochs: int = 400) -> list[tuple[float, float, str]]:
        """(epoch, value, "split metric") rows for every metric other than the loss, per epoch."""
        return self._per_epoch(lambda key: key != "loss", "{split} {key}", max_epochs)

    def _per_epoch(self, keep: Callable[[str], bool], label: str, max_epochs: int) -> list[tuple[float, float, str]]:
        """Rows of at most ``max_epochs`` evenly spaced epochs, the last always among
        them: a plot of thousands of epochs shows the same shape and stays light."""
        stride = -(-len(self.epoch_rows) // max_epochs) if self.epoch_rows else 1
        shown = self.epoch_rows[::-1][::stride][::-1]
        rows = []
        for r in shown:
            for split in ("train", "validation"):
                for key, value in r[split].items():
                    if keep(key):
                        rows.append((float(r["epoch"]), float(value), label.format(split=split, key=key)))
        return rows


def _thin(points: list[tuple[float, float]], limit: int) -> list[tuple[float, float]]:
    if len(points) <= limit:
        return list(points)
    size = -(-len(points) // limit)
    out = []
    for i in range(0, len(points), size):
        chunk = points[i : i + size]
        out.append((chunk[-1][0], sum(p[1] for p in chunk) / len(chunk)))
    return out
