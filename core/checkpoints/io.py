"""Checkpoint folders: write them atomically, find them, load them safely.

A checkpoint is a folder holding ``model.safetensors`` (weights; never pickle),
``config.json`` (what built them, how their inputs are prepared, how well they
did) and ``README.md`` (the model card); a model trained on text also holds its
``tokenizer.json``.  A training run's ``last`` checkpoint also holds
``training_state.safetensors`` + ``training_state.json`` so it can be resumed.

Loading checks, in order: the folder and its files exist, the config is valid
JSON of the right format, the architecture's plugin is installed (else: which
distribution to install), the weights' sha256 matches the config (else: the
file was truncated or edited), and every tensor has the shape the model
expects.  Each failure is a :class:`CheckpointError` saying which.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from archzoo.checkpoints.card import render_model_card
from archzoo.checkpoints.layout import (
    CARD,
    CONFIG,
    RESERVED,
    STATE_JSON,
    STATE_TENSORS,
    TOKENIZER,
    WEIGHTS,
)
from archzoo.checkpoints.locate import resolve_checkpoint
from archzoo.checkpoints.meta import read_meta
from archzoo.checkpoints.preprocessing import recorded as recorded_preprocessing
from archzoo.checkpoints.replace import refuse_foreign
from archzoo.data.tokenizers import load_tokenizer
from archzoo.data.types import DataInfo
from archzoo.errors import ArchzooError, CheckpointError, PluginMissingError
from archzoo.files import sha256_file, staged_folder
from archzoo.registry import config as config_module
from archzoo.registry.host import Host, get_host
from archzoo.registry.limits import check_parameters
from archzoo.registry.specs import ArchSpec
from archzoo.toolkit.models import plan_on_meta, planned_size, unwrap


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
    ``adapter_model.safetensors`` in PEFT's layout.  Tensors those files carry
    (the model's ``state_from_files(folder)`` reads them back) are not repeated in
    ``model.safetensors``.  ``config.json`` also gains the
    ``preprocessing`` its inputs need (:mod:`archzoo.checkpoints.preprocessing`)."""
    dest = Path(dest)
    refuse_foreign(dest)
    with staged_folder(dest) as staging:
        files = dict(extra_files or {})
        model_files = getattr(unwrap(model), "checkpoint_files", None)
        if callable(model_files):
            files.update(model_files())
        reserved = set(RESERVED) & set(files)
        if reserved:
            raise ArchzooError(f"extra checkpoint files may not replace archzoo's own: {', '.join(sorted(reserved))}")
        for name, content in files.items():
            if isinstance(content, bytes):
                (staging / name).write_bytes(content)
            else:
                (staging / name).write_text(content, encoding="utf-8")
        state = {name: tensor.detach().contiguous().cpu() for name, tensor in unwrap(model).state_dict().items()}
        # A tensor the model's own files already hold (a LoRA adapter's matrices) is stored there
        # only, once; one that does not read back equal stays in the weights.
        carried = state_in_files(model, staging)
        state = {k: v for k, v in state.items() if not (k in carried and _same(carried[k], v))}
        save_file(state, staging / WEIGHTS, metadata={"format": "pt"})
        meta = {**meta, "weights_sha256": sha256_file(staging / WEIGHTS)}
        if files:
            meta["files"] = {name: sha256_file(staging / name) for name in files}
        recipe = recorded_preprocessing(meta, files)
        if recipe is not None:
            meta["preprocessing"] = recipe
        (staging / CONFIG).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        (staging / CARD).write_text(render_model_card(meta), encoding="utf-8")
        if training_state is not None:
            tensors, extra = training_state
            save_file({k: v.contiguous().cpu() for k, v in tensors.items()}, staging / STATE_TENSORS)
            (staging / STATE_JSON).write_text(json.dumps(extra) + "\n", encoding="utf-8")
    return dest


def load(
    location: str | os.PathLike, *, device: str | torch.device = "cpu", host: Host | None = None
) -> LoadedCheckpoint:
    """Load a checkpoint (path or store name) as a ready model in eval mode."""
    host = host or get_host()
    folder = resolve_checkpoint(location, host.settings.checkpoint_dir, host.paths, token=host.hub_token)
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
    _check_recorded_files(folder, meta)
    # Before a byte of the model exists: its size from the config (within the budget), and
    # the config's shapes and dtypes against the weights' header (safetensors reads only that).
    hooks = host.hooks(spec)
    header = weights_header(weights)
    plan = plan_on_meta(hooks.build_model, config)
    if plan is not None:
        check_parameters(planned_size(plan), f"{folder / CONFIG}")
        check_shapes({k: shape for k, (shape, _) in plan.items()}, {k: s for k, (s, _) in header.items()}, weights)
        check_dtypes({k: dtype for k, (_, dtype) in plan.items()}, {k: d for k, (_, d) in header.items()}, weights)
    try:
        state = load_file(weights)
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(f"{weights} cannot be read as safetensors: {exc}") from None

    model = hooks.build_model(config)
    state = {**state_in_files(model, folder), **state}  # an older checkpoint holds both: its weights file wins
    check_state_matches(model, state, weights)
    model.load_state_dict(state, strict=True)
    model.to(device).eval()
    rows = getattr(config, "vocab_size", 0) or info.vocab_size
    tokenizer = _load_tokenizer(folder, meta, rows if isinstance(rows, int) else 0)
    return LoadedCheckpoint(
        model=model, spec=spec, config=config, info=info, meta=meta, path=folder, tokenizer=tokenizer
    )


def state_in_files(model: torch.nn.Module, folder: Path) -> dict[str, torch.Tensor]:
    """The tensors of ``model``'s state that its own checkpoint files in ``folder`` carry, named as
    in its ``state_dict`` (a LoRA model reads its matrices back from PEFT's adapter file); none for
    a model without a ``state_from_files`` method."""
    read = getattr(unwrap(model), "state_from_files", None)
    return dict(read(Path(folder))) if callable(read) else {}


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b)


def read_weights(folder: Path, model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A checkpoint's whole state for ``model``: ``model.safetensors`` and what the model's own
    files carry (see :func:`state_in_files`), checked against the model's tensors."""
    weights = Path(folder) / WEIGHTS
    try:
        state = load_file(weights)
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(f"{weights} cannot be read as safetensors: {exc}") from None
    state = {**state_in_files(model, folder), **state}
    check_state_matches(model, state, weights)
    return state


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


def _load_tokenizer(folder: Path, meta: dict[str, Any], embedding_rows: int = 0) -> Any:
    """The checkpoint's ``tokenizer.json``, checked against its recorded sha256 and against the
    ``embedding_rows`` of the model that reads its ids (0: not known); None if it has none."""
    path = folder / TOKENIZER
    recorded = meta.get("files", {}).get(TOKENIZER)
    if not path.is_file():
        if recorded:
            raise CheckpointError(
                f"{folder} has no {TOKENIZER}, which its {CONFIG} lists: the model cannot read text without it"
            )
        return None
    if recorded and sha256_file(path) != recorded:
        raise CheckpointError(f"{path} does not match the sha256 recorded in {CONFIG} (file truncated or edited?)")

    try:
        tokenizer = load_tokenizer(path)
    except ArchzooError as exc:
        raise CheckpointError(str(exc) if str(path) in str(exc) else f"{path}: {exc}") from None
    rows = embedding_rows
    if rows and tokenizer.vocab_size > rows:
        raise CheckpointError(
            f"{path} gives token ids up to {tokenizer.vocab_size - 1:,}, but the model's embedding has "
            f"{rows:,} rows ('vocab_size' in {CONFIG}): the tokenizer is not this model's"
        )
    return tokenizer


def _installed_spec(meta: dict[str, Any], host: Host) -> ArchSpec:
    name = meta["architecture"]
    if name in host.architectures:
        return host.architectures[name]
    raise PluginMissingError.for_checkpoint(meta)


def weights_header(weights: Path) -> dict[str, tuple[tuple[int, ...], torch.dtype | str]]:
    """``{name: (shape, dtype)}`` of a safetensors file, read from its header alone."""
    from safetensors import safe_open

    try:
        with safe_open(weights, framework="pt") as handle:
            header = {}
            for name in handle.keys():
                piece = handle.get_slice(name)
                header[name] = (tuple(piece.get_shape()), _DTYPES.get(piece.get_dtype(), piece.get_dtype()))
            return header
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(f"{weights} cannot be read as safetensors: {exc}") from None


#: safetensors' dtype names -> torch's, for the dtypes a model's tensors may have.
_DTYPES = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "I8": torch.int8,
    "U8": torch.uint8,
    "BOOL": torch.bool,
}
#: Weights of a floating-point tensor may be stored in any of these (loading converts between them).
FLOATING = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def check_dtypes(expected: dict[str, torch.dtype], found: dict[str, torch.dtype | str], source: Path | str) -> None:
    """A floating-point tensor stored as one of :data:`FLOATING`, any other as exactly its dtype:
    int, bool, float8 or complex weights where floats belong are refused, never cast."""
    wrong = []
    for name, dtype in expected.items():
        stored = found.get(name)
        if stored is None:
            continue
        fits = stored in FLOATING if dtype in FLOATING else stored == dtype
        if not fits:
            shown = str(stored).removeprefix("torch.")
            wrong.append(f"{name}: stored as {shown}, expected {str(dtype).removeprefix('torch.')}")
    if wrong:
        raise CheckpointError(f"{source} holds tensors of the wrong type: " + "; ".join(wrong[:5]))


def check_state_matches(model: torch.nn.Module, state: dict[str, torch.Tensor], source: Path | str) -> None:
    """Every expected tensor present with the right shape, and nothing extra."""
    expected = {k: tuple(v.shape) for k, v in unwrap(model).state_dict().items()}
    check_shapes(expected, {k: tuple(v.shape) for k, v in state.items()}, source)
    check_dtypes(
        {k: v.dtype for k, v in unwrap(model).state_dict().items()}, {k: v.dtype for k, v in state.items()}, source
    )


def check_shapes(expected: dict[str, tuple[int, ...]], found: dict[str, tuple[int, ...]], source: Path | str) -> None:
    """The shapes a model has against the shapes a file holds: all there, none extra, all equal."""
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    wrong = [
        f"{k}: expected {expected[k]}, found {found[k]}" for k in expected if k in found and expected[k] != found[k]
    ]
    problems = []
    if missing:
        problems.append(f"missing tensors {', '.join(missing[:5])}")
    if unexpected:
        problems.append(f"unexpected tensors {', '.join(unexpected[:5])}")
    if wrong:
        problems.append("wrong shapes " + "; ".join(wrong[:5]))
    if problems:
        raise CheckpointError(f"{source} does not fit the model its config describes: " + "; ".join(problems))
