"""A run's plan: the architecture or preset, its dataset and its validated configs,
decided before any data is loaded or torch imported.

``archzoo train``, ``archzoo info``, the Train form, the run queue and studies
all start here, so a bad setting is refused the same way everywhere, at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from archzoo.errors import ArchzooError, ConfigError
from archzoo.registry import config as config_module
from archzoo.registry.config import TrainConfig
from archzoo.registry.datanames import check_settings, dataset_name, split_dataset_name
from archzoo.registry.host import Host, Preset, get_host
from archzoo.registry.specs import ArchSpec, task_on


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
    base, settings = split_dataset_name(chosen) if chosen not in host.datasets else (chosen, {})
    if base in host.datasets:
        check_settings(base, settings, host.datasets[base].settings)
        if host.datasets[base].task not in spec.tasks:
            raise ArchzooError(
                f"architecture '{spec.name}' ({', '.join(spec.tasks)}) cannot train on dataset '{chosen}' "
                f"({host.datasets[base].task}); datasets it can use: "
                + ", ".join(sorted(d.name for d in host.datasets.values() if d.task in spec.tasks))
            )
    elif base.lower().endswith(".csv") and "task" not in settings and is_regressor(spec):
        chosen = dataset_name(base, {**settings, "task": "regression"})  # its target column is a number to predict
    data_task = host.datasets[base].task if base in host.datasets else None
    refuse_unread_settings(train_config, spec, task_on(spec, data_task), chosen, data_kinds(base, host))
    return RunPlan(spec=spec, preset=preset, dataset=chosen, config=config, train_config=train_config)


def refuse_unread_settings(
    train_config: TrainConfig, spec: ArchSpec, task: str, dataset: str, kinds: frozenset[str] | None
) -> None:
    """A training setting changed from its default that this run would ignore (label smoothing
    for a generator, augmentation of points) is a :class:`ConfigError` naming it, not a no-op."""
    values, defaults = config_module.to_dict(train_config), config_module.to_dict(TrainConfig())
    for field in config_module.fields(TrainConfig):
        value = values[field.name]
        if value == defaults[field.name]:
            continue
        if field.tasks and task not in field.tasks:
            raise ConfigError(
                field.name,
                value,
                f"read only by {', '.join(field.tasks)} runs, and {spec.name} on '{dataset}' is {task}",
                owner="training",
            )
        if kinds is not None and field.applies_to and not kinds & set(field.applies_to):
            raise ConfigError(
                field.name,
                value,
                f"read only for {' or '.join(config_module.KIND_WORDS[k] for k in field.applies_to)}, and "
                f"'{dataset}' holds " + " or ".join(config_module.KIND_WORDS[k] for k in sorted(kinds)),
                owner="training",
            )


def is_regressor(spec: ArchSpec) -> bool:
    """Does ``spec`` read a table's target as a number and not as a class (it regresses,
    and cannot classify tables)?  Such an architecture given a CSV reads it as regression data."""
    return "tabular-regression" in spec.tasks and "tabular-classification" not in spec.tasks


def fill_from_data(config: Any, info: Any) -> Any:
    """Set the config fields marked ``from_data`` (input shape, classes) from the dataset."""
    values = {f.name: getattr(info, f.from_data) for f in config_module.fields(type(config)) if f.from_data}
    return config_module.replace(config, values) if values else config


def data_kinds(dataset: str | None, host: Host | None = None) -> frozenset[str] | None:
    """The kinds of data (``config.DATA_KINDS``) a dataset name or path holds, as far as
    its name tells: the catalogue's entry, or a path's suffix (no file is looked at, so a
    form asking this learns nothing about the disk); None for an empty name."""
    from pathlib import PurePath

    host = host or get_host()
    text = (dataset or "").strip()
    spec = host.datasets.get(text)
    if spec is not None:
        if spec.task.startswith("text-"):
            return frozenset({"text"})
        if spec.task == "node-classification":
            return frozenset({"graph"})
        if spec.task == "sequence-to-sequence":
            return frozenset({"sequences"})
        return frozenset({"images" if len(spec.input_shape) == 3 else "points"})
    if not text:
        return None
    suffix = PurePath(text).suffix.lower()
    if suffix == ".csv":
        return frozenset({"file", "text", "points"})  # texts and labels, or numbers and labels
    if suffix in TEXT_FILE_SUFFIXES:
        return frozenset({"file", "text"})  # a TSV, or a corpus
    if suffix:
        return None  # 'scans.v2' may be a folder of images or a corpus: the name does not say
    return frozenset({"images"})  # a folder of class folders


#: Names ending so are text files (a table of texts and labels, or a corpus to learn from).
TEXT_FILE_SUFFIXES = (".tsv", ".tab", ".txt", ".text", ".md")
