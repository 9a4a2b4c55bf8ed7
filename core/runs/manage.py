"""Looking after runs: tags, a note, a new name, deletion.

Each works on the record in the store only.  Deleting is refused for a run
that is still being written and for anything that is not an archzoo run
folder inside the store; a rename keeps the run inside the store too.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from archzoo.errors import ArchzooError
from archzoo.runs.listing import find_run, store_root
from archzoo.runs.lock import RunLock, is_locked
from archzoo.runs.record import RunEntry, update_record

#: What a run name may be: a folder name in the store, nothing that climbs or hides.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
TAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+-]{0,63}")
MAX_NOTE = 10_000


def tag(location: str | Path, tags: list[str], *, remove: bool = False, store: str | Path | None = None) -> RunEntry:
    """Add (or, with ``remove``, take away) tags; each is checked first."""
    for t in tags:
        if not TAG.fullmatch(t):
            raise ArchzooError(f"tag {t!r} is not allowed: letters, digits and . _ : + -, up to 64 characters")
    entry = _readable(location, store)
    current = list(entry.get("tags") or [])
    changed = [t for t in current if t not in tags] if remove else current + [t for t in tags if t not in current]
    _update(entry, tags=changed)
    return find_run(entry.folder, store)


def note(location: str | Path, text: str, *, store: str | Path | None = None) -> RunEntry:
    """Replace the run's note (empty text clears it)."""
    if len(text) > MAX_NOTE:
        raise ArchzooError(f"a note holds at most {MAX_NOTE:,} characters, not {len(text):,}")
    entry = _readable(location, store)
    _update(entry, note=text)
    return find_run(entry.folder, store)


def rename(location: str | Path, new: str, *, store: str | Path | None = None) -> RunEntry:
    """Give a finished run a new folder name in the store."""
    root = store_root(store)
    entry = _readable(location, store)
    if not NAME.fullmatch(new):
        raise ArchzooError(f"run name {new!r} is not allowed: letters, digits and . _ -, up to 100 characters")
    _own_folder(entry, root)
    target = root / new
    if target.exists():
        raise ArchzooError(f"{target} already exists; choose another name")
    with RunLock(entry.folder):
        entry.folder.rename(target)
    _update(find_run(target, root), name=new)
    return find_run(target, root)


def delete(location: str | Path, *, store: str | Path | None = None) -> Path:
    """Delete a run folder (its checkpoints and record) from the store; returns what was deleted."""
    root = store_root(store)
    entry = find_run(location, store)
    _own_folder(entry, root)
    lock = RunLock(entry.folder).acquire()  # refuses a run still being written
    try:
        shutil.rmtree(entry.folder)
    finally:
        lock.release()
    return entry.folder


def _readable(location: str | Path, store: str | Path | None) -> RunEntry:
    entry = find_run(location, store)
    if entry.error:
        raise ArchzooError(f"{entry.name}: {entry.error}")
    return entry


def _own_folder(entry: RunEntry, root: Path) -> None:
    """The run is a folder of the store's own (not a link, not outside it, not a pulled checkpoint's copy)."""
    folder = entry.folder
    if folder.is_symlink() or not folder.resolve().is_relative_to(root.resolve()) or folder.resolve() == root.resolve():
        raise ArchzooError(f"{folder} is not a run folder inside the checkpoint store {root}; archzoo leaves it alone")
    if is_locked(folder):
        raise ArchzooError(f"{entry.name} is running; stop it first")


def _update(entry: RunEntry, **changes: Any) -> None:
    update_record(entry.folder, lambda data: data.update(changes))
