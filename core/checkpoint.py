"""Checkpoint folders: write them atomically, find them, load them safely.

A checkpoint is a folder holding ``model.safetensors`` (weights; never pickle),
``config.json`` (what built them and how well they did) and ``README.md`` (the
model card); a model trained on text also holds its ``tokenizer.json``.  A training run's ``last`` checkpoint also holds
``training_state.safetensors`` + ``training_state.json`` so it can be resumed.

Loading checks, in order: the folder and its files exist, the config is valid
JSON of the right format, the architecture's plugin is installed (else: which
distribution to install), the weights' sha256 matches the config (else: the
file was truncated or edited), and every tensor has the shape the model
expects.  Each failure is a :class:`CheckpointError` saying which.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from . import config as config_module
from .card import render_model_card
from .data import DataInfo
from .errors import ArchzooError, CheckpointError, PluginMissingError
from .host import Host, archzoo_version, get_host
from .specs import CLASSIFICATION_TASKS, ArchSpec

FORMAT = "archzoo-checkpoint"
FORMAT_VERSION = 1
WEIGHTS = "model.safetensors"
CONFIG = "config.json"
CARD = "README.md"
STATE_TENSORS = "training_state.safetensors"
STATE_JSON = "training_state.json"
TOKENIZER = "tokenizer.json"  # the same name as archzoo.tokenization.TOKENIZER_FILE


@dataclass
class LoadedCheckpoint:
    """A model ready for use, and everything recorded about it."""

    model: torch.nn.Module
    spec: ArchSpec
    config: Any
    info: DataInfo
    meta: dict[str, Any]
    path: Path
    #: The tokenizer saved with a text model (archzoo.tokenization), else None.
    tokenizer: Any = None


# -- writing ---------------------------------------------------------------------


def parameter_count(model: torch.nn.Module) -> tuple[int, int]:
    """(all parameters, trainable parameters)."""
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return total, trainable


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build_meta(
    *,
    spec: ArchSpec,
    config: Any,
    train_config: Any,
    info: DataInfo,
    dataset: str,
    metrics: dict[str, dict[str, float]],
    parameters: int,
) -> dict[str, Any]:
    """The contents of ``config.json``, less the weights' hash."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "archzoo_version": archzoo_version(),
        "architecture": spec.name,
        # What it does: a classifier does the task of its data (an MLP on points is tabular); a
        # generator or feature extractor does its own, whatever data it learned from.
        "task": info.task if info.task in spec.tasks and spec.task in CLASSIFICATION_TASKS else spec.task,
        "summary": spec.summary,
        "citation": spec.citation,
        "plugin": {"name": spec.plugin, "distribution": spec.distribution, "version": spec.version},
        "config": config_module.to_dict(config),
        "train": config_module.to_dict(train_config) if train_config is not None else {},
        "dataset": {"name": dataset, "info": info.to_dict()},
        "metrics": metrics,
        "parameters": parameters,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def write_checkpoint(
    dest: Path,
    model: torch.nn.Module,
    meta: dict[str, Any],
    *,
    training_state: tuple[dict[str, torch.Tensor], dict[str, Any]] | None = None,
    extra_files: dict[str, str | bytes] | None = None,
) -> Path:
    """Write a checkpoint folder atomically: build it under a temporary name
    beside ``dest``, then swap it in, so a crash never leaves half a checkpoint
    where a whole one was.

    ``extra_files`` (name -> text, or bytes for a binary file) are written beside
    the weights, their sha256 recorded in ``config.json`` under ``files``: a text
    model's ``tokenizer.json`` (``DatasetSplits.checkpoint_files()``).  A model may
    add files of its own with a ``checkpoint_files()`` method returning the same
    kind of dict: a LoRA model's ``adapter_config.json`` and
    ``adapter_model.safetensors`` in PEFT's layout."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    try:
        state = {name: tensor.detach().contiguous().cpu() for name, tensor in _unwrap(model).state_dict().items()}
        save_file(state, staging / WEIGHTS, metadata={"format": "pt"})
        meta = {**meta, "weights_sha256": sha256_file(staging / WEIGHTS)}
        files = dict(extra_files or {})
        model_files = getattr(_unwrap(model), "checkpoint_files", None)
        if callable(model_files):
            files.update(model_files())
        reserved = {WEIGHTS, CONFIG, CARD, STATE_TENSORS, STATE_JSON} & set(files)
        if reserved:
            raise ArchzooError(f"extra checkpoint files may not replace archzoo's own: {', '.join(sorted(reserved))}")
        if files:
            for name, content in files.items():
                if isinstance(content, bytes):
                    (staging / name).write_bytes(content)
                else:
                    (staging / name).write_text(content, encoding="utf-8")
            meta["files"] = {name: sha256_file(staging / name) for name in files}
        (staging / CONFIG).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        (staging / CARD).write_text(render_model_card(meta), encoding="utf-8")
        if training_state is not None:
            tensors, extra = training_state
            save_file({k: v.contiguous().cpu() for k, v in tensors.items()}, staging / STATE_TENSORS)
            (staging / STATE_JSON).write_text(json.dumps(extra) + "\n", encoding="utf-8")
        _swap_into_place(staging, dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return dest


def _swap_into_place(staging: Path, dest: Path) -> None:
    if not dest.exists():
        os.replace(staging, dest)
        return
    retired = dest.with_name(f".{dest.name}.old")
    shutil.rmtree(retired, ignore_errors=True)
    os.replace(dest, retired)
    os.replace(staging, dest)
    shutil.rmtree(retired, ignore_errors=True)


def _unwrap(model: torch.nn.Module) -> torch.nn.Module:
    return getattr(model, "module", model)


# -- finding ---------------------------------------------------------------------


def is_checkpoint(path: Path) -> bool:
    return (path / CONFIG).is_file()


def resolve_checkpoint(location: str | os.PathLike, store: Path | None = None) -> Path:
    """A path (or a name in the checkpoint store) -> a checkpoint folder.

    A training run's folder resolves to its ``best`` checkpoint (or ``last``
    when there is no best yet).
    """
    text = str(location)
    if text.startswith("hf://"):
        from .hub import pull  # downloads (or finds in the cache) only JSON and safetensors files

        return pull(text)
    store = store if store is not None else get_host().settings.checkpoint_dir
    candidates = [Path(text).expanduser()]
    if not Path(text).is_absolute():
        candidates.append(store / text)
    for path in candidates:
        for folder in (path, path / "best", path / "last"):
            if is_checkpoint(folder):
                return folder
        if path.is_dir() and any(path.iterdir()):
            raise CheckpointError(f"{path} is not an archzoo checkpoint: it has no {CONFIG}")
    raise CheckpointError(f"no checkpoint at '{text}' (looked in {', '.join(str(c) for c in candidates)})")


def output_dir(out: str | os.PathLike, store: Path) -> Path:
    """Where a run writes: relative names live inside the checkpoint store and
    must not climb out of it with ``..``; absolute paths are taken as given."""
    path = Path(out).expanduser()
    if path.is_absolute():
        return path
    resolved = (store / path).resolve()
    if not resolved.is_relative_to(store.resolve()):
        raise ArchzooError(f"output '{out}' would be outside the checkpoint store {store}; choose a name inside it")
    return store / path


# -- loading ---------------------------------------------------------------------


def read_meta(folder: Path) -> dict[str, Any]:
    """Read and sanity-check ``config.json``."""
    try:
        meta = json.loads((folder / CONFIG).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckpointError(f"{folder} has no {CONFIG}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{folder / CONFIG} is not valid JSON ({exc}); the checkpoint is damaged") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{folder / CONFIG} is not an archzoo checkpoint config (no \"format\": \"{FORMAT}\")")
    for key in ("architecture", "config", "dataset", "weights_sha256"):
        if key not in meta:
            raise CheckpointError(f"{folder / CONFIG} lacks the '{key}' entry; the checkpoint is damaged")
    return meta


def load(location: str | os.PathLike, *, device: str | torch.device = "cpu", host: Host | None = None) -> LoadedCheckpoint:
    """Load a checkpoint (path or store name) as a ready model in eval mode."""
    host = host or get_host()
    folder = resolve_checkpoint(location, host.settings.checkpoint_dir)
    meta = read_meta(folder)
    spec = _installed_spec(meta, host)
    info = DataInfo.from_dict(meta["dataset"]["info"])
    config = config_module.build_config(spec.config, meta["config"], owner=f"{folder / CONFIG}")

    weights = folder / WEIGHTS
    if not weights.is_file():
        raise CheckpointError(f"{folder} has no {WEIGHTS}")
    actual = sha256_file(weights)
    if actual != meta["weights_sha256"]:
        raise CheckpointError(
            f"{weights} does not match the sha256 recorded in {CONFIG} (file truncated or edited?): "
            f"expected {meta['weights_sha256'][:12]}..., found {actual[:12]}..."
        )
    try:
        state = load_file(weights)
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(f"{weights} cannot be read as safetensors: {exc}") from None

    _check_recorded_files(folder, meta)
    model = host.hooks(spec).build_model(config)
    check_state_matches(model, state, weights)
    model.load_state_dict(state, strict=True)
    model.to(device).eval()
    tokenizer = _load_tokenizer(folder, meta)
    return LoadedCheckpoint(model=model, spec=spec, config=config, info=info, meta=meta, path=folder, tokenizer=tokenizer)


def _check_recorded_files(folder: Path, meta: dict[str, Any]) -> None:
    """Every file ``config.json`` lists under ``files`` is there with its recorded sha256."""
    recorded = meta.get("files") or {}
    for name, digest in recorded.items():
        if name == TOKENIZER:
            continue  # checked, with a message of its own, where the tokenizer is read
        path = folder / name
        if not path.is_file():
            raise CheckpointError(f"{folder} has no {name}, which its {CONFIG} lists")
        if sha256_file(path) != digest:
            raise CheckpointError(f"{path} does not match the sha256 recorded in {CONFIG} (file truncated or edited?)")


def _load_tokenizer(folder: Path, meta: dict[str, Any]) -> Any:
    """The checkpoint's ``tokenizer.json``, checked against its recorded sha256; None if it has none."""
    path = folder / TOKENIZER
    recorded = meta.get("files", {}).get(TOKENIZER)
    if not path.is_file():
        if recorded:
            raise CheckpointError(f"{folder} has no {TOKENIZER}, which its {CONFIG} lists: the model cannot read text without it")
        return None
    if recorded and sha256_file(path) != recorded:
        raise CheckpointError(f"{path} does not match the sha256 recorded in {CONFIG} (file truncated or edited?)")
    from .tokenization import load_tokenizer

    try:
        return load_tokenizer(path)
    except ArchzooError as exc:
        raise CheckpointError(f"{path}: {exc}") from None


def _installed_spec(meta: dict[str, Any], host: Host) -> ArchSpec:
    name = meta["architecture"]
    if name in host.architectures:
        return host.architectures[name]
    raise PluginMissingError.for_checkpoint(meta)


def check_state_matches(model: torch.nn.Module, state: dict[str, torch.Tensor], source: Path | str) -> None:
    """Every expected tensor present with the right shape, and nothing extra."""
    expected = {k: tuple(v.shape) for k, v in _unwrap(model).state_dict().items()}
    found = {k: tuple(v.shape) for k, v in state.items()}
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    wrong = [f"{k}: expected {expected[k]}, found {found[k]}" for k in expected if k in found and expected[k] != found[k]]
    problems = []
    if missing:
        problems.append(f"missing tensors {', '.join(missing[:5])}")
    if unexpected:
        problems.append(f"unexpected tensors {', '.join(unexpected[:5])}")
    if wrong:
        problems.append("wrong shapes " + "; ".join(wrong[:5]))
    if problems:
        raise CheckpointError(f"{source} does not fit the model its config describes: " + "; ".join(problems))
