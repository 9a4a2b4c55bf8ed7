"""The functions behind every command and every button.

The CLI and the UI both call these and nothing else, so a run started from
either behaves the same, fails with the same messages, and writes the same
checkpoints.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from . import config as config_module
from .config import TrainConfig
from .errors import ArchzooError
from .host import Host, Preset, get_host
from .specs import ArchSpec, SampleResult

#: Settings that may change when a run is resumed: when to stop, and how fast the
#: same steps run (a float32 run begun on a CPU can go on in bfloat16 on a GPU).
#: Everything else must stay as it was.
RESUMABLE_OVERRIDES = ("epochs", "patience", "max_steps", "num_workers", "eval_batch_size", "mixed_precision")


@dataclass
class RunPlan:
    """Everything a training run is decided by, before any data is loaded."""

    spec: ArchSpec
    preset: Preset | None
    dataset: str
    config: Any
    train_config: TrainConfig


def plan_run(name: str | None = None, *, dataset: str | None = None, overrides: dict[str, Any] | None = None, host: Host | None = None) -> RunPlan:
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


def train(
    name: str | None = None,
    *,
    dataset: str | None = None,
    overrides: dict[str, Any] | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    data_dir: str | Path | None = None,
    download: bool = False,
    on_event: Callable[[Any], None] | None = None,
    stop: threading.Event | None = None,
    host: Host | None = None,
):
    """Train an architecture or preset; returns the trainer's ``RunResult``."""
    from . import checkpoint as ckpt
    from .data import data_options, load_dataset
    from .trainer import Trainer

    host = host or get_host()
    store = host.settings.checkpoint_dir
    if resume:
        if out is None:
            raise ArchzooError("--resume needs --out: the run folder to continue")
        out_dir = ckpt.output_dir(out, store)
        plan = resumed_plan(out_dir, name, overrides or {}, host)
    else:
        plan = plan_run(name, dataset=dataset, overrides=overrides, host=host)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        out_dir = ckpt.output_dir(out or f"{plan.spec.name}-{Path(plan.dataset).name}-{stamp}", store)
        existing = [d for d in (out_dir, out_dir / "best", out_dir / "last") if ckpt.is_checkpoint(d)]
        if existing and not overwrite:
            raise ArchzooError(
                f"{out_dir} already holds a checkpoint; pass --overwrite to replace it, or --resume to continue it"
            )

    options = data_options(
        plan.train_config,
        data_dir=Path(data_dir).expanduser() if data_dir else None,
        download=download,
        trained_tokenizer=run_tokenizer(plan, out_dir, resume=resume, download=download, host=host),
    )
    splits = load_dataset(plan.dataset, options, host=host)
    if plan.spec.task == "image-generation" and splits.info.task != plan.spec.task:
        # A generator trained on labelled images (labels unused) still generates: record that
        # task in the checkpoint, so the CLI and the UI treat it as an image generator.
        import dataclasses

        splits.info = dataclasses.replace(splits.info, task=plan.spec.task)
    config = fill_from_data(plan.config, splits.info)
    trainer = Trainer(
        plan.spec, config, plan.train_config, splits, plan.dataset, out_dir,
        host=host, on_event=on_event, stop=stop, resume=resume,
    )
    return trainer.run()


def run_tokenizer(plan: RunPlan, out_dir: Path, *, resume: bool, download: bool = False, host: Host) -> Any:
    """The tokenizer a run reads its text with, or None for the data layer to build one.

    A model on a pretrained encoder reads text with the encoder's own
    tokenizer (the ``text_tokenizer`` hook), also when resumed: that keeps the
    encoder's length limit, which the checkpoint's tokenizer.json does not
    record.  Any other resumed text run reads with the vocabulary it started
    with, saved in its last checkpoint."""
    own = host.hooks(plan.spec).text_tokenizer(plan.config, download)
    if own is not None or not resume:
        return own
    return _saved_tokenizer(out_dir / "last")


def _saved_tokenizer(folder: Path) -> Any:
    from .tokenization import TOKENIZER_FILE, load_tokenizer

    path = folder / TOKENIZER_FILE
    return load_tokenizer(path) if path.is_file() else None


def resumed_plan(out_dir: Path, name: str | None, overrides: dict[str, Any], host: Host) -> RunPlan:
    """The plan of the run in ``out_dir`` continued with ``overrides``, checked:
    a resumable checkpoint is there, ``name`` (if given) is its architecture or
    one of its presets, and only :data:`RESUMABLE_OVERRIDES` change."""
    from . import checkpoint as ckpt

    last = out_dir / "last"
    if not ckpt.is_checkpoint(last):
        raise ArchzooError(f"nothing to resume in {out_dir}: it has no 'last' checkpoint")
    meta = ckpt.read_meta(last)
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
    return RunPlan(spec=spec, preset=None, dataset=meta["dataset"]["name"], config=config, train_config=train_config)


def evaluate_checkpoint(
    location: str | Path,
    *,
    dataset: str | None = None,
    split: str = "test",
    data_dir: str | Path | None = None,
    download: bool = False,
    batch_size: int = 512,
    host: Host | None = None,
) -> dict[str, float]:
    """Evaluate a checkpoint on a split of its own dataset, or of another of the same task and shape."""
    from .checkpoint import load
    from .context import EvalContext

    host = host or get_host()
    loaded = load(location, host=host)
    loader = evaluation_loader(loaded, batch_size=batch_size, dataset=dataset, split=split, data_dir=data_dir,
                               download=download, host=host)
    ctx = EvalContext(device=next(loaded.model.parameters()).device, info=loaded.info, tokenizer=loaded.tokenizer)
    return host.hooks(loaded.spec).evaluate(loaded.model, loader, ctx)


def evaluation_split(
    loaded: Any,
    *,
    dataset: str | None = None,
    split: str = "test",
    data_dir: str | Path | None = None,
    download: bool = False,
    host: Host | None = None,
) -> Any:
    """The split a loaded checkpoint is judged on: of its own dataset (split the
    way it was split for training), or of another with the same input shape."""
    return evaluation_data(loaded, dataset=dataset, split=split, data_dir=data_dir, download=download, host=host)[0]


def evaluation_loader(loaded: Any, *, batch_size: int = 512, **where: Any) -> Any:
    """A data loader over :func:`evaluation_split` (``where``: its keyword
    arguments), batching the way the dataset needs (text is padded)."""
    from torch.utils.data import DataLoader

    chosen, splits = evaluation_data(loaded, **where)
    return DataLoader(chosen, batch_size=batch_size, collate_fn=splits.collate)


def evaluation_data(
    loaded: Any,
    *,
    dataset: str | None = None,
    split: str = "test",
    data_dir: str | Path | None = None,
    download: bool = False,
    host: Host | None = None,
) -> tuple[Any, Any]:
    """(the chosen split, all the splits): :func:`evaluation_split` with the
    splits beside it, for callers that need their ``collate`` or the other
    splits (node classification rebuilds its graph from all three).  Text is
    read as in training: with the checkpoint's tokenizer, its column settings
    and its class names."""
    from .data import data_options, load_dataset

    host = host or get_host()
    name = dataset or loaded.meta["dataset"]["name"]
    options = data_options(
        loaded.meta.get("train", {}), data_dir=Path(data_dir) if data_dir else None, download=download,
        trained_tokenizer=getattr(loaded, "tokenizer", None), class_names=tuple(loaded.info.class_names) or None,
    )
    splits = load_dataset(name, options, host=host)
    if tuple(splits.info.input_shape) != tuple(loaded.info.input_shape):
        raise ArchzooError(
            f"dataset '{name}' has inputs of shape {splits.info.input_shape}, "
            f"but the checkpoint expects {loaded.info.input_shape}"
        )
    chosen = {"train": splits.train, "validation": splits.val, "val": splits.val, "test": splits.test}.get(split, "unknown")
    if chosen == "unknown":
        raise ArchzooError(f"unknown split '{split}'; choose train, validation or test")
    if chosen is None or len(chosen) == 0:
        raise ArchzooError(f"dataset '{name}' has no {split} split. {' '.join(splits.notes)}".strip())
    return chosen, splits


def predict(
    location: str | Path, inputs: Sequence[Any], *, top_k: int = 3, calibrated: bool = False,
    temperature: float | None = None, host: Host | None = None,
) -> tuple[list[list[tuple[str, float]]], list[str]]:
    """Class predictions for image files / images / rows of numbers, or for
    texts (strings) when the checkpoint is a text classifier.

    ``calibrated``: divide the logits by the temperature stored in the
    checkpoint (``archzoo report`` fits it); ``temperature``: by this one.
    Either changes the probabilities, never the ranking.

    Returns (top-k (label, probability) pairs per input, notes on conversions made).
    """
    import torch

    from .checkpoint import load
    from .inputs import prepare_image, prepare_row

    if not inputs:
        raise ArchzooError("give at least one input to predict")
    host = host or get_host()
    loaded = load(location, host=host)
    if loaded.spec.task == "feature-extraction":
        raise ArchzooError(
            f"{loaded.path} is a feature extractor ({loaded.spec.name}): get its vectors with 'archzoo embed' "
            "(archzoo.inference.extract_features); 'archzoo eval' reports its head's accuracy"
        )
    scaling = _prediction_temperature(loaded, calibrated, temperature)
    if "text-classification" in (loaded.info.task, loaded.spec.task):
        # The model's own tokenizer reads the texts; empty ones are an error.
        result = sample_checkpoint(loaded, {"texts": [str(item) for item in inputs], **scaling}, host=host)
        return result.top_k(top_k), list(result.outputs.get("notes", []))
    if loaded.spec.task not in ("image-classification", "tabular-classification"):
        raise ArchzooError(f"predict takes images, rows of numbers or texts; '{loaded.spec.name}' is a {loaded.spec.task} model")
    notes: list[str] = []
    if len(loaded.info.input_shape) == 3:
        tensors = [prepare_image(item, loaded.info, notes) for item in inputs]
    else:
        tensors = [prepare_row(item, loaded.info) for item in inputs]
    batch = torch.stack(tensors)
    result = sample_checkpoint(loaded, {"inputs": batch, **scaling}, host=host)
    return result.top_k(top_k), notes


def _prediction_temperature(loaded: Any, calibrated: bool, temperature: float | None) -> dict[str, float]:
    """The ``temperature`` entry of a sample request: the stored one (``calibrated``), a given one, or none."""
    import math

    from .trust import stored_temperature

    if calibrated and temperature is not None:
        raise ArchzooError("give either --calibrated (the stored temperature) or --temperature T, not both")
    if calibrated:
        stored = stored_temperature(loaded.meta)
        if stored is None:
            raise ArchzooError(
                f"{loaded.path} has no fitted temperature: run 'archzoo report {loaded.path}' first "
                "(it fits one on the validation split and stores it), or give --temperature T"
            )
        return {"temperature": stored}
    if temperature is not None:
        try:
            value = float(temperature)
        except (TypeError, ValueError):
            raise ArchzooError(f"temperature must be a number, not {temperature!r}") from None
        if math.isnan(value) or not (0.0 < value <= 100.0):
            raise ArchzooError(f"temperature must be above 0 and at most 100, not {temperature}")
        return {"temperature": value}
    return {}


def sample_checkpoint(loaded: Any, request: dict[str, Any], *, host: Host | None = None) -> SampleResult:
    """Run the architecture's ``sample`` hook on a loaded checkpoint."""
    from .context import EvalContext

    host = host or get_host()
    ctx = EvalContext(device=next(loaded.model.parameters()).device, info=loaded.info, tokenizer=getattr(loaded, "tokenizer", None))
    return host.hooks(loaded.spec).sample(loaded.model, request, ctx)
