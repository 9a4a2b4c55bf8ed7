"""Add to a saved checkpoint without touching its weights: a fitted
temperature, a trust report, the model card that shows them.

An amendment is all or nothing, like :func:`archzoo.checkpoints.io.write_checkpoint`:
a new folder is built beside the checkpoint (the weights and every other file
hard-linked, or copied where links are impossible; the new ``config.json``,
``README.md`` and ``evaluation/`` files written), the weights' sha256 is
checked against ``config.json`` in the new folder, and only then is it swapped
into place.  A crash leaves the old checkpoint whole; the weights are the same
bytes, so their recorded hash stays right and ``archzoo.load`` still trusts them.

Checkpoints in the Hugging Face cache (``hf://``, or any folder whose files are
symbolic links into a cache) are not amended: the cache belongs to
``huggingface_hub``.  ``archzoo pull REPO --to DIR`` gives a folder of one's own.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from archzoo.checkpoints.card import render_model_card
from archzoo.checkpoints.layout import CARD, CONFIG, EVALUATION_DIR, WEIGHTS
from archzoo.checkpoints.locate import resolve_checkpoint
from archzoo.checkpoints.meta import read_meta
from archzoo.errors import ArchzooError, CheckpointError
from archzoo.files import link_or_copy, sha256_file, staged_folder
from archzoo.registry.host import get_host


class NotAmendableError(ArchzooError):
    """The checkpoint folder cannot be changed in place (it lives in a download cache)."""


def local_folder(location: str | os.PathLike, *, host: Any = None) -> Path:
    """The checkpoint folder for ``location``, if archzoo may amend it."""
    if str(location).startswith("hf://"):
        raise NotAmendableError(
            f"{location} is a Hub checkpoint in the Hugging Face cache, which archzoo does not change; "
            "pull it into a folder of your own (archzoo pull REPO --to DIR) and use that"
        )
    host = host or get_host()
    folder = resolve_checkpoint(location, host.settings.checkpoint_dir, host.paths, token=host.hub_token)
    linked = [p.name for p in folder.iterdir() if p.is_symlink()]
    if linked:
        raise NotAmendableError(
            f"{folder} holds symbolic links ({', '.join(sorted(linked)[:3])}), as a download cache does; "
            "archzoo changes only folders of its own: copy it (or archzoo pull REPO --to DIR) and use the copy"
        )
    return folder


def amend_checkpoint(
    location: str | os.PathLike,
    *,
    meta_updates: dict[str, Any],
    evaluation_files: dict[str, bytes] | None = None,
    host: Any = None,
) -> Path:
    """Merge ``meta_updates`` into the checkpoint's ``config.json``, re-render its
    card, and (when given) replace its ``evaluation/`` folder with ``evaluation_files``
    (name -> bytes); atomically.  Returns the checkpoint folder."""
    folder = local_folder(location, host=host)
    meta = read_meta(folder)
    protected = {"format", "format_version", "architecture", "config", "dataset", "weights_sha256", "files"}
    clash = protected & set(meta_updates)
    if clash:
        raise ArchzooError(f"an amendment may not change {', '.join(sorted(clash))}: those describe the weights")
    for name in evaluation_files or {}:
        if Path(name).name != name or name.startswith("."):
            raise ArchzooError(f"evaluation file name {name!r} must be a plain file name")
    new_meta = {**meta, **meta_updates}
    with staged_folder(folder) as staging:
        for entry in folder.iterdir():
            if entry.name in (CONFIG, CARD) or (evaluation_files is not None and entry.name == EVALUATION_DIR):
                continue
            if entry.is_dir():
                shutil.copytree(entry, staging / entry.name, copy_function=link_or_copy)
            else:
                link_or_copy(entry, staging / entry.name)
        if evaluation_files is not None:
            target = staging / EVALUATION_DIR
            target.mkdir()
            for name, data in evaluation_files.items():
                (target / name).write_bytes(data)
        (staging / CONFIG).write_text(json.dumps(new_meta, indent=2) + "\n", encoding="utf-8")
        (staging / CARD).write_text(render_model_card(new_meta), encoding="utf-8")
        if sha256_file(staging / WEIGHTS) != meta["weights_sha256"]:
            raise CheckpointError(
                f"{folder / WEIGHTS} does not match the sha256 in its {CONFIG}; not amending a damaged checkpoint"
            )
    return folder
