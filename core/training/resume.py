"""Continuing a run from its ``last`` checkpoint: what may change, and the plan it continues with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from archzoo.checkpoints.layout import is_checkpoint
from archzoo.checkpoints.meta import read_meta
from archzoo.errors import ArchzooError
from archzoo.registry import config as config_module
from archzoo.registry.config import TrainConfig
from archzoo.registry.host import Host
from archzoo.registry.plans import RunPlan
from archzoo.runs.record import RecordError, read_record

#: Settings that may change when a run is resumed: when to stop, and how fast the
#: same steps run (a float32 run begun on a CPU can go on in bfloat16 on a GPU).
#: Everything else must stay as it was.
RESUMABLE_OVERRIDES = (
    "epochs",
    "patience",
    "max_steps",
    "num_workers",
    "eval_batch_size",
    "mixed_precision",
    "eval_mixed_precision",
    "compile",
    "channels_last",
    "device_data_budget",
    "log_every",
    "log_with",
)


def resumed_plan(out_dir: Path, name: str | None, overrides: dict[str, Any], host: Host) -> RunPlan:
    """The plan of the run in ``out_dir`` continued with ``overrides``, checked:
    a resumable checkpoint is there, ``name`` (if given) is its architecture or
    one of its presets, and only :data:`RESUMABLE_OVERRIDES` change."""
    last = out_dir / "last"
    if not is_checkpoint(last):
        raise ArchzooError(f"nothing to resume in {out_dir}: it has no 'last' checkpoint")
    meta = read_meta(last)
    spec = host.architecture(meta["architecture"])
    if name and name not in (spec.name, *(p for p, v in host.presets.items() if v.architecture == spec.name)):
        raise ArchzooError(f"{out_dir} holds a '{spec.name}' run, not '{name}'")
    blocked = [k for k in overrides if k not in RESUMABLE_OVERRIDES]
    if blocked:
        raise ArchzooError(
            f"cannot change {', '.join(blocked)} when resuming; only {', '.join(RESUMABLE_OVERRIDES)} may change"
        )
    config = config_module.build_config(spec.config, meta["config"], owner=spec.name)
    train_config = config_module.build_config(TrainConfig, {**meta["train"], **overrides}, owner="training")
    preset = host.presets.get(_recorded_preset(out_dir) or "")
    preset = preset if preset is not None and preset.architecture == spec.name else None
    return RunPlan(spec=spec, preset=preset, dataset=meta["dataset"]["name"], config=config, train_config=train_config)


def _recorded_preset(out_dir: Path) -> str | None:
    """The preset the run was started from, as its record says (None without a record)."""
    try:
        return read_record(out_dir).get("preset")
    except (RecordError, OSError):
        return None
