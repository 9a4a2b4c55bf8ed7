"""Asking a checkpoint for an answer: the ``sample`` hook, and what a request holds per task.

Every inference path (predict, generate, embed, the app's widgets, the
views) ends in :func:`sample_checkpoint`.  :data:`REQUESTS` is the contract
between archzoo and a plugin's ``sample``: the keys a request of each task
holds and the kind of :class:`archzoo.SampleResult` that comes back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from archzoo.checkpoints.locate import resolve_checkpoint
from archzoo.checkpoints.meta import read_meta, task_of
from archzoo.data.types import DataInfo
from archzoo.errors import ArchzooError
from archzoo.registry.host import Host, get_host
from archzoo.registry.specs import SampleResult
from archzoo.training.context import EvalContext

#: What a ``sample`` request holds for each task, and what kind of result comes back.
REQUESTS: dict[str, dict[str, Any]] = {
    "image-classification": {
        "request": {"inputs": "N x C x H x W tensor, prepared like the training data"},
        "result": "class-probabilities",
    },
    "tabular-classification": {
        "request": {"inputs": "N x D tensor, normalised like the training data"},
        "result": "class-probabilities",
    },
    "tabular-regression": {
        "request": {"inputs": "N x D tensor, normalised like the training data"},
        "result": "values",
    },
    "text-classification": {"request": {"texts": "list of str"}, "result": "class-probabilities"},
    "node-classification": {
        "request": {"inputs": "a graph {x, edge_index}", "nodes": "node indices (optional)"},
        "result": "class-probabilities",
    },
    "image-generation": {
        "request": {
            "n": "int",
            "seed": "int",
            "steps": "int (sampling steps; 0 = the model's default)",
            "class": "str or int (class-conditional generators: the class to draw; absent = every class in turn)",
            "guidance": "float (a DDPM trained with label dropout: classifier-free guidance weight w; 0 = none)",
        },
        "result": "images",
    },
    "text-generation": {
        "request": {
            "prompt": "str",
            "temperature": "float",
            "max_length": "int",
            "n": "int",
            "top_k": "int (0 = all tokens)",
            "seed": "int",
        },
        "result": "text",
    },
    "feature-extraction": {"request": {"texts": "list of str"}, "result": "features"},
    "sequence-to-sequence": {
        "request": {
            "texts": "list of str (symbols separated by spaces), or inputs: N x S tensor of padded token ids",
            "max_length": "int (output tokens; 0 = the longest target of the data)",
        },
        "result": "sequences",
    },
}


def sample_checkpoint(loaded: Any, request: dict[str, Any], *, host: Host | None = None) -> SampleResult:
    """Run the architecture's ``sample`` hook on a checkpoint: a loaded one, or its location
    (a run name, a folder, ``hf://``), as :func:`archzoo.evaluation.evaluate.evaluate_checkpoint` takes."""
    host = host or get_host()
    if isinstance(loaded, (str, Path)):
        from archzoo.checkpoints.io import load

        loaded = load(loaded, host=host)
    ctx = EvalContext(
        device=next(loaded.model.parameters()).device, info=loaded.info, tokenizer=getattr(loaded, "tokenizer", None)
    )
    return host.hooks(loaded.spec).sample(loaded.model, request, ctx)


def checkpoint_meta(location: str | Path, *, host: Host | None = None) -> tuple[Path, dict[str, Any]]:
    """Resolve a checkpoint and read its ``config.json`` without loading the model."""
    host = host or get_host()
    folder = resolve_checkpoint(location, host.settings.checkpoint_dir, host.paths, token=host.hub_token)
    return folder, read_meta(folder)


def checkpoint_task(location: str | Path, *, host: Host | None = None) -> str:
    """What a checkpoint does, from its config (no model is loaded): the task
    of the data it was trained on, so an MLP trained on ``moons`` takes rows of numbers."""
    _, meta = checkpoint_meta(location, host=host)
    return task_of(meta, host)


def data_info(location: str | Path, host: Host | None):
    _, meta = checkpoint_meta(location, host=host)
    return DataInfo.from_dict(meta["dataset"]["info"])


def require_task(location: str | Path, tasks: tuple[str, ...], host: Host) -> None:
    task = checkpoint_task(location, host=host)
    if task not in tasks:
        raise ArchzooError(f"this checkpoint is a {task} model; this needs a {' or '.join(tasks)} model")


def expect(result: Any, kind: str) -> None:
    if getattr(result, "kind", None) != kind:
        raise ArchzooError(
            f"the plugin's sample hook returned {getattr(result, 'kind', type(result).__name__)!r}, expected {kind!r}"
        )


def whole(value: Any, name: str, low: int, high: int) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ArchzooError(f"{name} must be a whole number, not {value!r}") from None
    if not number.is_integer() or not (low <= number <= high):
        raise ArchzooError(f"{name} must be a whole number between {low} and {high}, not {value!r}")
    return int(number)
