"""The one rule for replacing a folder: archzoo replaces only its own checkpoints, and only when asked.

A training run writes ``OUT/best`` and ``OUT/last`` (and ``OUT/run.json``), a
pull with ``--to`` writes ``DIR``; each of them may already be there.  What is
there is replaced only when it is an archzoo checkpoint (a folder whose
``config.json`` says ``"format": "archzoo-checkpoint"``) or an archzoo run
record, and only with ``--overwrite``.  Anything else (a folder of the user's
files, a transformers model, a file) is refused whatever the flags, so no
combination of options deletes what archzoo did not write.

Replacing a run also means the old run is gone as a whole: with
``--overwrite`` the old ``best`` and ``last`` are removed when the new run
starts, so an interrupted new run never leaves the old ``best`` beside its own
``last``.  Torch-free.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from archzoo.checkpoints.layout import CONFIG, FORMAT, VIEW_FILE, VIEWS_DIR
from archzoo.errors import CheckpointError
from archzoo.files import recover_swap
from archzoo.runs.record import EVENTS, RECORD
from archzoo.runs.record import FORMAT as RECORD_FORMAT

#: The checkpoints a run folder holds.
RUN_CHECKPOINTS = ("best", "last")
#: A config.json or run.json larger than this was not written by archzoo.
_MAX_JSON_BYTES = 16 * 1024 * 1024


def is_own_checkpoint(folder: Path) -> bool:
    """Is ``folder`` a real folder (not a link) holding an archzoo ``config.json``?"""
    return _json_format(Path(folder), CONFIG) == FORMAT


def _json_format(folder: Path, name: str) -> object:
    path = folder / name
    if folder.is_symlink() or not folder.is_dir() or path.is_symlink() or not path.is_file():
        return None
    try:
        if path.stat().st_size > _MAX_JSON_BYTES:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return data.get("format") if isinstance(data, dict) else None


def is_own_views(folder: Path) -> bool:
    """Is ``folder`` a real folder holding only archzoo's live views (and the
    ``.NAME.PID.part`` files a write in progress or a kill leaves)?"""
    folder = Path(folder)
    if folder.is_symlink() or not folder.is_dir():
        return False
    return all(entry.is_file() and not entry.is_symlink() and _view_name(entry.name) for entry in folder.iterdir())


def _view_name(name: str) -> bool:
    if name.startswith(".") and name.endswith(".part"):
        name = name[1:].rsplit(".", 2)[0]
    return VIEW_FILE.fullmatch(name) is not None


def _empty_folder(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink() and not any(path.iterdir())


def refuse_foreign(dest: Path) -> None:
    """Raise unless ``dest`` is absent, an empty folder, or an archzoo checkpoint."""
    dest = Path(dest)
    if not os.path.lexists(dest) or _empty_folder(dest) or is_own_checkpoint(dest):
        return
    kind = "a file" if dest.is_file() or dest.is_symlink() else "a folder that is not an archzoo checkpoint"
    raise CheckpointError(
        f"{dest} is {kind}; archzoo replaces only its own checkpoints, so it is left as it is: "
        "choose another output folder"
    )


def check_replace(dest: Path, *, overwrite: bool, flag: str = "--overwrite") -> bool:
    """May a checkpoint be written at ``dest``?  True when something is there to replace.

    Absent or empty: yes.  An archzoo checkpoint: only with ``overwrite``.
    Anything else: never."""
    dest = Path(dest)
    refuse_foreign(dest)
    if is_own_checkpoint(dest):
        if not overwrite:
            raise CheckpointError(f"{dest} already holds a checkpoint; pass {flag} to replace it")
        return True
    return False


def check_run_folder(out_dir: Path, *, overwrite: bool) -> None:
    """May a new run write into ``out_dir``?  Its ``best``/``last`` must be absent or
    archzoo's (then only with ``overwrite``), and a ``run.json`` there archzoo's."""
    out_dir = Path(out_dir)
    if os.path.lexists(out_dir) and (out_dir.is_symlink() or not out_dir.is_dir()):
        raise CheckpointError(f"{out_dir} is a file or a link, not a run folder: choose another --out")
    if is_own_checkpoint(out_dir):
        raise CheckpointError(
            f"{out_dir} is a checkpoint itself, not a run folder: choose another --out (a run writes best/ and last/)"
        )
    for name in RUN_CHECKPOINTS:
        refuse_foreign(out_dir / name)
    if os.path.lexists(out_dir / VIEWS_DIR) and not is_own_views(out_dir / VIEWS_DIR):
        raise CheckpointError(
            f"{out_dir / VIEWS_DIR} is not archzoo's live views folder (a run keeps its pictures there); "
            "choose another --out"
        )
    if os.path.lexists(out_dir / RECORD) and _json_format(out_dir, RECORD) != RECORD_FORMAT:
        raise CheckpointError(f"{out_dir / RECORD} is not an archzoo run record; choose another --out")
    if os.path.lexists(out_dir / EVENTS) and not os.path.lexists(out_dir / RECORD):
        raise CheckpointError(f"{out_dir / EVENTS} is not part of an archzoo run; choose another --out")
    if any(is_own_checkpoint(out_dir / name) for name in RUN_CHECKPOINTS) and not overwrite:
        raise CheckpointError(
            f"{out_dir} already holds a checkpoint; pass --overwrite to replace it, or --resume to continue it"
        )


def recover_run_folder(out_dir: Path) -> list[str]:
    """Put back a ``best``/``last`` an interrupted swap left under its old name, and remove
    the half-written staging folders a kill left; returns the names put back.  Only for
    the owner of ``out_dir`` (the caller holds the run's lock)."""
    return [name for name in RUN_CHECKPOINTS if recover_swap(Path(out_dir) / name, tidy=True)]


def retire_run_checkpoints(out_dir: Path) -> None:
    """Remove a replaced run's ``best``, ``last`` and ``views`` (archzoo's only), so none of
    the old run survives beside the new one.  The caller holds the run's lock."""
    for name in RUN_CHECKPOINTS:
        folder = Path(out_dir) / name
        if is_own_checkpoint(folder):
            shutil.rmtree(folder)
    if is_own_views(Path(out_dir) / VIEWS_DIR):
        shutil.rmtree(Path(out_dir) / VIEWS_DIR)
