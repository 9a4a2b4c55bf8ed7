"""``config.json``: what a checkpoint says about itself, written and read back.

It records what built the weights (architecture, plugin, full config,
training settings), the data they expect (``DataInfo``), how well they did,
and the weights' sha256.  Reading it checks that it is an archzoo config with
the entries loading needs; :mod:`archzoo.checkpoints.io` checks the rest
against the weights.  Torch-free: listing a store reads only this.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archzoo.checkpoints.layout import FORMAT, FORMAT_VERSION
from archzoo.checkpoints.schema import read_config
from archzoo.data.types import DataInfo
from archzoo.registry import config as config_module
from archzoo.registry.host import Host, archzoo_version, get_host
from archzoo.registry.specs import CLASSIFICATION_TASKS, ArchSpec, task_on


def build_meta(
    *,
    spec: ArchSpec,
    config: Any,
    train_config: Any,
    info: DataInfo,
    dataset: str,
    metrics: dict[str, dict[str, float]],
    parameters: int,
    summary: str | None = None,
) -> dict[str, Any]:
    """The contents of ``config.json``, less the weights' hash. ``summary`` says what
    this model is (a preset's summary); the architecture's by default."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "archzoo_version": archzoo_version(),
        "architecture": spec.name,
        "task": task_on(spec, info.task),
        "summary": summary or spec.summary,
        "citation": spec.citation,
        "plugin": {"name": spec.plugin, "distribution": spec.distribution, "version": spec.version},
        "config": config_module.to_dict(config),
        "train": config_module.to_dict(train_config) if train_config is not None else {},
        "dataset": {"name": dataset, "info": info.to_dict()},
        "metrics": metrics,
        "parameters": parameters,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def read_meta(folder: Path) -> dict[str, Any]:
    """Read ``config.json`` and check it against its schema (:mod:`archzoo.checkpoints.schema`)."""
    return read_config(folder)


def task_of(meta: dict[str, Any], host: Host | None = None) -> str:
    """What a checkpoint does: the task of the data it was trained on (an MLP
    trained on ``moons`` is a tabular classifier), else its architecture's task.
    A generator or feature extractor does its own task, whatever data it learned
    from (``bert-features`` trained on SST-2 extracts features)."""
    data_task = ((meta.get("dataset") or {}).get("info") or {}).get("task")
    if meta.get("task") and meta["task"] not in CLASSIFICATION_TASKS:
        return str(meta["task"])
    if data_task:
        return str(data_task)
    if meta.get("task"):
        return str(meta["task"])
    host = host or get_host()
    spec = host.architectures.get(str(meta.get("architecture", "")))
    return spec.task if spec else ""


def stored_temperature(meta: dict[str, Any]) -> float | None:
    """The temperature ``archzoo report`` fitted and stored in ``config.json``, or None."""
    value = (meta.get("calibration") or {}).get("temperature")
    return float(value) if isinstance(value, (int, float)) and value > 0 else None
