"""External trackers: the run's metrics sent through Accelerate's tracker integration.

The run record is archzoo's own account of a run; ``log_with`` also sends the
same numbers to TensorBoard, Trackio, MLflow or Weights & Biases, for people
who already look there.  Each is an optional extra, never required; the files
go to ``RUN/trackers`` (Trackio and W&B keep their own folders; both work
offline, W&B with ``WANDB_MODE=offline``).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

from archzoo.errors import ArchzooError
from archzoo.runs import events

#: The folder inside a run where trackers that write files put them.
TRACKERS_FOLDER = "trackers"
#: ``log_with`` value -> the module it needs, which is also the name of archzoo's extra.
NEEDS = {"tensorboard": "tensorboard", "trackio": "trackio", "mlflow": "mlflow", "wandb": "wandb"}


def check_installed(log_with: str) -> None:
    """Refuse, before anything is built, a tracker whose package is missing, naming the extra to install."""
    module = NEEDS.get(log_with)
    if module is not None and importlib.util.find_spec(module) is None:
        raise ArchzooError(
            f"log_with={log_with} needs the '{module}' package, which is not installed: "
            f"pip install 'archzoo[{log_with}]'"
        )


def accelerator_options(log_with: str, out_dir: Path) -> dict[str, Any]:
    """What :class:`accelerate.Accelerator` is given for ``log_with``: nothing when it is 'none'."""
    if log_with == "none":
        return {}
    check_installed(log_with)
    return {"log_with": log_with, "project_dir": str(out_dir / TRACKERS_FOLDER)}


class TrackerFeed:
    """Turns a run's events into tracker calls: the settings when it starts; the
    thinned step losses the record keeps, at their global step; each epoch's train
    and validation metrics (and the epoch) at its last step; the test metrics at
    the end.  One step axis for all, rising, as W&B and Trackio require; a resumed
    run continues it."""

    def __init__(self, accelerator: Any, run_name: str, settings: dict[str, Any]) -> None:
        self.accelerator = accelerator
        self.run_name = run_name
        self.settings = flat_settings(settings)
        self.started = False
        self.step = 0

    def add(self, event: Any) -> None:
        if isinstance(event, events.RunStarted) and not self.started:
            self.accelerator.init_trackers(self.run_name, config=self.settings)
            self.started, self.step = True, event.resumed_from_step
        elif isinstance(event, events.EpochEnded) and self.started:
            for step, loss in event.step_losses:
                self.accelerator.log({"train/step_loss": loss}, step=step)
            values = {"epoch": event.epoch}
            values |= {f"train/{k}": v for k, v in event.train_metrics.items()}
            values |= {f"validation/{k}": v for k, v in event.val_metrics.items()}
            self.step = event.global_step or self.step
            self.accelerator.log(values, step=self.step)
        elif isinstance(event, events.RunEnded) and self.started:
            if event.test_metrics:
                self.accelerator.log({f"test/{k}": v for k, v in event.test_metrics.items()}, step=self.step)
            self.close()

    def close(self) -> None:
        if self.started:
            self.accelerator.end_training()
            self.started = False


def flat_settings(settings: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"model": {"hidden": [256]}}`` -> ``{"model.hidden": "[256]"}``: trackers take
    hyperparameters as flat scalars (TensorBoard's hparams refuse lists)."""
    flat: dict[str, Any] = {}
    for key, value in settings.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat |= flat_settings(value, f"{name}.")
        elif isinstance(value, bool | int | float | str) or value is None:
            flat[name] = "" if value is None else value
        else:
            flat[name] = json.dumps(value, default=str)
    return flat
