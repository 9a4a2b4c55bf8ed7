"""A run's plan: the architecture or preset, its dataset and its validated configs,
decided before any data is loaded or torch imported.

``archzoo train``, ``archzoo info``, the Train form, the run queue and studies
all start here, so a bad setting is refused the same way everywhere, at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from archzoo.errors import ArchzooError
from archzoo.registry import config as config_module
from archzoo.registry.config import TrainConfig
from archzoo.registry.host import Host, Preset, get_host
from archzoo.registry.specs import ArchSpec


@dataclass
class RunPlan:
    """Everything a training run is decided by, before any data is loaded."""

    spec: ArchSpec
    preset: Preset | None
    dataset: str
    config: Any
    train_config: TrainConfig


def plan_run(
    name: str | None = None,
    *,
    dataset: str | None = None,
    overrides: dict[str, Any] | None = None,
    host: Host | None = None,
) -> RunPlan:
    """Resolve an architecture or preset, its dataset, and validated configs."""
    host = host or get_host()
    spec, preset = host.resolve(name or host.settings.default_architecture)
    model_over, train_over = config_module.split_overrides(dict(overrides or {}), spec.config, owner=spec.name)
    model_values = {**(preset.config if preset else {}), **model_over}
    train_values = {**(preset.train if preset else {}), **train_over}
    config = config_module.build_config(spec.config, model_values, owner=spec.name)
    train_config = config_module.build_config(TrainConfig, train_values, owner="training")
    chosen = dataset or (preset.dataset if preset and preset.dataset else None) or spec.default_dataset
    if chosen in host.datasets and host.datasets[chosen].task not in spec.tasks:
        raise ArchzooError(
            f"architecture '{spec.name}' ({', '.join(spec.tasks)}) cannot train on dataset '{chosen}' "
            f"({host.datasets[chosen].task}); datasets it can use: "
            + ", ".join(sorted(d.name for d in host.datasets.values() if d.task in spec.tasks))
        )
    return RunPlan(spec=spec, preset=preset, dataset=chosen, config=config, train_config=train_config)


def fill_from_data(config: Any, info: Any) -> Any:
    """Set the config fields marked ``from_data`` (input shape, classes) from the dataset."""
    values = {f.name: getattr(info, f.from_data) for f in config_module.fields(type(config)) if f.from_data}
    return config_module.replace(config, values) if values else config
