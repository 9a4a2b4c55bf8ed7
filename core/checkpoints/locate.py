"""Where a checkpoint is: a path, a name in the store, or ``hf://user/repo@rev``.

A training run's folder stands for its ``best`` checkpoint (or ``last`` when
there is no best yet).  Torch-free.
"""

from __future__ import annotations

import os
from pathlib import Path

from archzoo.checkpoints.hub import pull
from archzoo.checkpoints.layout import find_local
from archzoo.errors import ArchzooError
from archzoo.registry.paths import PathPolicy, check_path_text


def resolve_checkpoint(
    location: str | os.PathLike,
    store: Path | None = None,
    paths: PathPolicy | None = None,
    *,
    token: str | bool | None = None,
) -> Path:
    """Any checkpoint location -> a local folder; ``hf://`` references are pulled
    (or found in the Hugging Face cache) first, JSON and safetensors files only,
    with ``token`` (the host's ``hub_token``: False in the app unless the operator lends theirs).

    Under a path policy (the app's, :mod:`archzoo.registry.paths`) a local location
    must lie in the store or a data root: a browser user cannot open any folder."""
    if str(location).startswith("hf://"):
        return pull(str(location), token=token)
    check_path_text(str(location), "checkpoint")
    if paths is not None:
        paths.checkpoint(location)
    return find_local(location, store)


def output_dir(out: str | os.PathLike, store: Path) -> Path:
    """Where a run writes: relative names live inside the checkpoint store and
    must not climb out of it with ``..``; absolute paths are taken as given."""
    check_path_text(str(out), "output")
    path = Path(out).expanduser()
    if path.is_absolute():
        return path
    resolved = (store / path).resolve()
    if not resolved.is_relative_to(store.resolve()):
        raise ArchzooError(f"output '{out}' would be outside the checkpoint store {store}; choose a name inside it")
    return store / path
