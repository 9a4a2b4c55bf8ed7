"""Typed configuration: one dataclass per architecture, validated everywhere.

An architecture's config is a dataclass whose fields are made with
:func:`param`, which records the help text and what values are allowed.  The
CLI's ``--set key=value``, ``registry.toml`` presets, checkpoints' ``config.json``
and the UI's forms all go through :func:`build_config`, so a bad value gives the
same message wherever it comes from: the field, the value, what is allowed.

Supported field types: ``int``, ``float``, ``bool``, ``str``, ``tuple[int, ...]``
(written ``256,128`` on the command line), ``tuple[int, ...] | None`` and
``Literal[...]`` choices.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal

from archzoo.errors import ConfigError
from archzoo.registry.specs import CLASSIFICATION_TASKS

_MISSING = dataclasses.MISSING

#: The kinds of data a setting may be read for (``param(applies_to=...)``): images, vectors
#: of numbers (the 2-D sets, tables), texts, graphs, ``file``, a dataset given by a file's path, and
#: ``sequences``, rows of symbols to map to rows of symbols (sequence-to-sequence).
DATA_KINDS = ("images", "points", "text", "graph", "file", "sequences")

#: Each kind as a message names it.
KIND_WORDS = {
    "images": "images",
    "points": "points (rows of numbers)",
    "text": "texts",
    "graph": "graphs",
    "file": "datasets given by a file's path",
    "sequences": "sequences of symbols",
}


def param(
    default: Any,
    help: str,
    *,
    min: float | None = None,
    max: float | None = None,
    choices: tuple | None = None,
    from_data: str | None = None,
    applies_to: tuple[str, ...] = (),
    tasks: tuple[str, ...] = (),
) -> Any:
    """A config field with help text and bounds.

    ``from_data`` names a dataset property (``input_shape``, ``num_classes``)
    that the host fills in from the dataset before building the model, so one
    config serves any dataset of the right task.  ``applies_to`` names the kinds
    of data the setting is read for (:data:`DATA_KINDS`; empty: every kind), so a
    form can leave out what a dataset would ignore; ``tasks``, likewise, the tasks
    whose runs read it (empty: every task), so a run that sets it for another task
    is refused by name (:func:`archzoo.registry.plans.plan_run`).
    """
    unknown = set(applies_to) - set(DATA_KINDS)
    if unknown:
        raise TypeError(f"applies_to: unknown data kinds {sorted(unknown)}; kinds are {', '.join(DATA_KINDS)}")
    metadata = {
        "help": help,
        "min": min,
        "max": max,
        "choices": choices,
        "from_data": from_data,
        "applies_to": tuple(applies_to),
        "tasks": tuple(tasks),
    }
    if isinstance(default, (list, dict, set)):
        raise TypeError("use a tuple, not a mutable default, for config fields")
    return dataclasses.field(default=default, metadata=metadata)


@dataclass(frozen=True)
class FieldInfo:
    """A config field as the CLI, the UI and the docs describe it."""

    name: str
    type_name: str
    default: Any
    help: str
    allowed: str
    from_data: str | None
    applies_to: tuple[str, ...] = ()
    tasks: tuple[str, ...] = ()


def fields(config_class: type) -> list[FieldInfo]:
    """Describe every field of a config class."""
    hints = typing.get_type_hints(config_class)
    described = []
    for f in dataclasses.fields(config_class):
        kind = hints[f.name]
        described.append(
            FieldInfo(
                name=f.name,
                type_name=_type_name(kind),
                default=f.default,
                help=f.metadata.get("help", ""),
                allowed=_allowed(kind, f.metadata),
                from_data=f.metadata.get("from_data"),
                applies_to=f.metadata.get("applies_to", ()),
                tasks=f.metadata.get("tasks", ()),
            )
        )
    return described


def build_config(config_class: type, values: dict[str, Any] | None = None, *, owner: str = "") -> Any:
    """Make a config from a dict of values (typed or strings); validate every field.

    Unknown keys are an error that lists the known ones.
    """
    values = dict(values or {})
    hints = typing.get_type_hints(config_class)
    known = {f.name: f for f in dataclasses.fields(config_class)}
    for key in values:
        if key not in known:
            raise ConfigError(key, values[key], f"no such field; fields are {', '.join(known)}", owner=owner)
    kwargs = {}
    for name, f in known.items():
        raw = values.get(name, f.default)
        if raw is _MISSING:
            raise ConfigError(name, None, "a value is required", owner=owner)
        kwargs[name] = coerce(name, raw, hints[name], f.metadata, owner=owner)
    return config_class(**kwargs)


def replace(config: Any, values: dict[str, Any], *, owner: str = "") -> Any:
    """A copy of ``config`` with ``values`` applied and validated."""
    return build_config(type(config), {**to_dict(config), **values}, owner=owner)


def to_dict(config: Any) -> dict[str, Any]:
    """Plain JSON-friendly values (tuples become lists)."""
    out = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        out[f.name] = list(value) if isinstance(value, tuple) else value
    return out


def coerce(name: str, raw: Any, kind: Any, metadata: dict, *, owner: str = "") -> Any:
    """Turn ``raw`` (a typed value or a command-line string) into ``kind``, checking bounds."""
    value = _convert(name, raw, kind, owner)
    _check_bounds(name, value, metadata, owner, shown=raw)
    return value


def _convert(name: str, raw: Any, kind: Any, owner: str) -> Any:
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        non_none = [a for a in args if a is not type(None)]
        if raw is None or (isinstance(raw, str) and raw.strip().lower() in ("none", "")):
            return None
        return _convert(name, raw, non_none[0], owner)
    if origin is Literal:
        choices = args
        text = raw if not isinstance(raw, str) else raw.strip()
        for choice in choices:
            if text == choice or (isinstance(text, str) and str(choice) == text):
                return choice
        raise ConfigError(name, raw, f"one of {', '.join(repr(c) for c in choices)}", owner=owner)
    if origin is tuple:
        item = args[0]
        if isinstance(raw, str):
            parts = [p for p in raw.replace("[", "").replace("]", "").split(",") if p.strip()]
        elif isinstance(raw, (list, tuple)):
            parts = list(raw)
        else:
            raise ConfigError(name, raw, f"a comma-separated list of {item.__name__}", owner=owner)
        try:
            return tuple(_convert(name, p, item, owner) for p in parts)
        except ConfigError:
            raise ConfigError(name, raw, f"a comma-separated list of {item.__name__}", owner=owner) from None
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in ("true", "yes", "1", "on"):
            return True
        if isinstance(raw, str) and raw.strip().lower() in ("false", "no", "0", "off"):
            return False
        raise ConfigError(name, raw, "true or false", owner=owner)
    if kind is int:
        if isinstance(raw, bool):
            raise ConfigError(name, raw, "an integer", owner=owner)
        if isinstance(raw, int):
            return raw
        if isinstance(raw, float) and raw.is_integer():
            return int(raw)
        try:
            return int(str(raw).strip())
        except ValueError:
            raise ConfigError(name, raw, "an integer", owner=owner) from None
    if kind is float:
        if isinstance(raw, bool):
            raise ConfigError(name, raw, "a number", owner=owner)
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise ConfigError(name, raw, "a number", owner=owner) from None
        if value != value or value in (float("inf"), float("-inf")):
            raise ConfigError(name, raw, "a finite number", owner=owner)
        return value
    if kind is str:
        if not isinstance(raw, str):
            raise ConfigError(name, raw, "a string", owner=owner)
        return raw
    raise TypeError(f"config field '{name}' has unsupported type {kind!r}")


def _check_bounds(name: str, value: Any, metadata: dict, owner: str, shown: Any) -> None:
    """Check choices and min/max; the error quotes the value as the user wrote it (``shown``)."""
    if value is None:
        return
    items = value if isinstance(value, tuple) else (value,)
    low, high, choices = metadata.get("min"), metadata.get("max"), metadata.get("choices")
    for item in items:
        if choices is not None and item not in choices:
            raise ConfigError(name, shown, f"one of {', '.join(repr(c) for c in choices)}", owner=owner)
        if isinstance(item, (int, float)) and not isinstance(item, bool):
            if (low is not None and item < low) or (high is not None and item > high):
                raise ConfigError(name, shown, _range_text(low, high, isinstance(value, tuple)), owner=owner)


def _range_text(low: float | None, high: float | None, each: bool) -> str:
    prefix = "each value " if each else ""
    if low is not None and high is not None:
        return f"{prefix}between {low} and {high}"
    if low is not None:
        return f"{prefix}at least {low}"
    return f"{prefix}at most {high}"


def _type_name(kind: Any) -> str:
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in args)
    if origin is Literal:
        return "choice"
    if origin is tuple:
        return f"list[{args[0].__name__}]"
    return getattr(kind, "__name__", str(kind))


def _allowed(kind: Any, metadata: dict) -> str:
    if typing.get_origin(kind) is Literal:
        return ", ".join(str(c) for c in typing.get_args(kind))
    if metadata.get("choices"):
        return ", ".join(str(c) for c in metadata["choices"])
    low, high = metadata.get("min"), metadata.get("max")
    if low is None and high is None:
        return ""
    return _range_text(low, high, typing.get_origin(kind) is tuple)


@dataclass
class TrainConfig:
    """How to train, shared by every architecture; presets and ``--set`` override it."""

    epochs: int = param(5, "passes over the training set", min=1, max=100000)
    batch_size: int = param(64, "examples per optimisation step (per process)", min=1, max=65536)
    optimizer: Literal["adamw", "adam", "sgd", "rmsprop", "adagrad"] = param(
        "adamw",
        "the default optimizer, unless the plugin supplies its own: the notes' 2.4 (SGD with momentum, RMSProp, "
        "Adam, AdamW) and AdaGrad (explainers)",
    )
    lr: float = param(1e-3, "peak learning rate", min=0.0, max=10.0)
    weight_decay: float = param(
        0.01, "decoupled weight decay (AdamW) or L2 (Adam, SGD, RMSProp, AdaGrad)", min=0.0, max=1.0
    )
    momentum: float = param(
        0.9, "SGD momentum mu (notes 2.4.1); RMSProp's momentum when above 0 there", min=0.0, max=1.0
    )
    adam_beta1: float = param(
        0.9, "Adam and AdamW: decay of the first moment, beta_1 (notes 2.4.3)", min=0.0, max=0.9999
    )
    adam_beta2: float = param(
        0.999, "Adam and AdamW: decay of the second moment, beta_2 (notes 2.4.3)", min=0.0, max=0.999999
    )
    rms_decay: float = param(
        0.99, "RMSProp: decay of the running average of squared gradients, beta (notes 2.4.2)", min=0.0, max=0.9999
    )
    schedule: Literal["cosine", "step", "onecycle", "constant", "warmup-cosine"] = param(
        "cosine",
        "learning-rate schedule over the run's updates (notes 2.5): cosine decay to eta_min, step decay by step_gamma "
        "every step_epochs, PyTorch's OneCycle, or constant; warmup-cosine is cosine's earlier name",
    )
    warmup_fraction: float = param(
        0.05,
        "share of the updates spent warming up linearly from 0 to lr before the schedule (cosine, step; onecycle's "
        "rise); constant has none",
        min=0.0,
        max=0.5,
    )
    eta_min: float = param(0.0, "cosine: the learning rate it decays to, eta_min (notes 2.5.2)", min=0.0, max=10.0)
    step_epochs: int = param(
        30, "step: multiply the learning rate by step_gamma every this many epochs, T (notes 2.5.1)", min=1, max=100000
    )
    step_gamma: float = param(0.1, "step: the factor gamma of each decay (notes 2.5.1)", min=0.0, max=1.0)
    grad_clip: float = param(1.0, "clip the gradient norm to this; 0 turns clipping off", min=0.0, max=1e6)
    grad_accumulation: int = param(
        1,
        "add up the gradients of this many batches before each update (notes 3.3.4): the update of a batch "
        "batch_size x N large in the memory of one batch; max_steps and log_every count batches",
        min=1,
        max=1024,
    )
    l1: float = param(
        0.0,
        "L1 penalty lambda_1 * sum |w| on weights (not biases or norms), its gradient added at each update "
        "(explainers 3.2); with weight_decay as well, the elastic net; reported losses leave it out",
        min=0.0,
        max=1.0,
    )
    label_smoothing: float = param(
        0.0,
        "classifiers: train on targets 1 - eps + eps/K for the true class and eps/K for the others (notes 3.10 uses "
        "0.1); evaluation losses stay plain cross-entropy",
        min=0.0,
        max=0.99,
        tasks=CLASSIFICATION_TASKS,
    )
    augment_rotation: float = param(
        0.0,
        "images: rotate each training image by up to this many degrees either way (notes 3.10: 10)",
        min=0.0,
        max=180.0,
        applies_to=("images",),
    )
    augment_translate: float = param(
        0.0,
        "images: shift each training image by up to this share of its width and height (notes 3.10: 0.1)",
        min=0.0,
        max=0.5,
        applies_to=("images",),
    )
    augment_crop_padding: int = param(
        0,
        "images: pad each training image by this many pixels and crop it back at a random place (notes 4.6: 4)",
        min=0,
        max=64,
        applies_to=("images",),
    )
    augment_flip: bool = param(
        False, "images: mirror each training image left-right with probability 1/2 (notes 4.6)", applies_to=("images",)
    )
    augment_jitter: float = param(
        0.0,
        "images: scale each training image's brightness and contrast by a random factor within 1 +- this (notes 4.6: "
        "0.2)",
        min=0.0,
        max=1.0,
        applies_to=("images",),
    )
    mixup: float = param(
        0.0,
        "image classifiers: blend each training batch with itself shifted by one, images and labels, with a weight "
        "drawn from Beta(alpha, alpha), this alpha (notes 3.12; 0.2 is usual); 0 turns it off",
        min=0.0,
        max=10.0,
        applies_to=("images",),
        tasks=CLASSIFICATION_TASKS,
    )
    cutmix: float = param(
        0.0,
        "image classifiers: paste a box of one training image into another, labels in proportion to its area, the "
        "area drawn from Beta(alpha, alpha), this alpha (notes 3.12; 1.0 is usual); with mixup too, one of the two "
        "per batch",
        min=0.0,
        max=10.0,
        applies_to=("images",),
        tasks=CLASSIFICATION_TASKS,
    )
    seed: int = param(
        0, "seeds the weights and the data order (splits use a fixed seed of their own)", min=0, max=2**32 - 1
    )
    val_fraction: float = param(0.1, "share of the training data held out for validation", min=0.0, max=0.5)
    patience: int = param(
        0, "stop after this many epochs without a better validation metric; 0 never stops early", min=0, max=1000
    )
    eval_batch_size: int = param(512, "examples per evaluation batch", min=1, max=65536)
    num_workers: int = param(0, "data-loading worker processes", min=0, max=64)
    max_steps: int = param(0, "stop after this many steps in all; 0 means no limit", min=0, max=10**9)
    mixed_precision: Literal["no", "bf16"] = param(
        "no",
        "run the training steps' forward passes in bfloat16 (autocast; CPUs with bf16 instructions and recent GPUs "
        "are about twice as fast); weights, evaluation and checkpoints stay float32",
    )
    eval_mixed_precision: bool = param(
        False,
        "evaluate under the run's mixed precision too (faster on GPUs); off: evaluation in float32",
    )
    compile: bool = param(
        False,
        "torch.compile the model's forward pass (GPUs: faster steps after a slower first one); where it is "
        "unavailable or fails, the run goes on uncompiled and says so",
    )
    channels_last: bool = param(
        False, "convolutional models: keep weights and image batches in channels-last memory (faster on GPUs)"
    )
    device_data_budget: float = param(
        4.0,
        "GiB of accelerator memory a dataset held in memory may take; one that fits is put on the device once, "
        "a larger one is copied batch by batch from pinned memory; 0 keeps data off the device",
        min=0.0,
        max=1e6,
    )
    log_every: int = param(
        10,
        "read the step metrics and report progress every this many steps (and at every epoch's end); reading "
        "them makes a GPU wait, so not every step",
        min=1,
        max=10**9,
    )
    log_with: Literal["none", "tensorboard", "trackio", "mlflow", "wandb"] = param(
        "none",
        "also send the run's metrics to this tracker through Accelerate (files in RUN/trackers; each needs its "
        "extra, e.g. pip install 'archzoo[tensorboard]')",
    )
    # How text datasets and files are read (archzoo.data.text, archzoo.data.tables); other datasets ignore these.
    text_column: str = param(
        "",
        "text datasets given by path (CSV/TSV): the column holding the text; empty: 'text', 'sentence', 'content', ...",
        applies_to=("file",),
    )
    label_column: str = param(
        "",
        "datasets given by path (CSV/TSV): the column holding the label; empty: 'label' (a CSV of numbers without "
        "one: its last column)",
        applies_to=("file",),
    )
    tokenizer: Literal["auto", "char", "word", "bpe"] = param(
        "auto",
        "text datasets: the tokenizer trained on the training split and saved in the checkpoint; auto: the dataset's "
        "own choice",
        applies_to=("text",),
    )
    tokenizer_vocab: int = param(
        0,
        "text datasets: vocabulary size of a trained word or BPE tokenizer; 0: the dataset's default (10,000 words "
        "for sst2)",
        min=0,
        max=1_000_000,
        applies_to=("text",),
    )
    bucket_batches: bool = param(
        True,
        "text datasets: batch sequences of similar length together (less padding, faster epochs); false: plain "
        "shuffled batches",
        applies_to=("text",),
    )


TRAIN_FIELDS = tuple(f.name for f in dataclasses.fields(TrainConfig))


def split_overrides(values: dict[str, Any], config_class: type, *, owner: str = "") -> tuple[dict, dict]:
    """Split flat ``key=value`` overrides into (model config, training config) parts.

    Architecture configs must not reuse training field names (the contract
    suite checks), so every key belongs to exactly one of them.
    """
    model_names = {f.name for f in dataclasses.fields(config_class)}
    model_values, train_values = {}, {}
    for key, value in values.items():
        if key in model_names:
            model_values[key] = value
        elif key in TRAIN_FIELDS:
            train_values[key] = value
        else:
            allowed = ", ".join(sorted(model_names)) + "; training: " + ", ".join(TRAIN_FIELDS)
            raise ConfigError(key, value, f"no such setting; model settings are {allowed}", owner=owner)
    return model_values, train_values


def parse_assignments(items: list[str]) -> dict[str, str]:
    """``["a=1", "b=2,3"]`` -> ``{"a": "1", "b": "2,3"}``, with a clear error for a missing '='."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(item, item, "write settings as key=value")
        out[key.strip()] = value.strip()
    return out
