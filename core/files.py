"""Writing to disk so that a crash never leaves half a file or half a folder.

Everything archzoo writes that someone may read back (checkpoints, amended
checkpoints, merged models, feature files, downloaded data, reports) is built
under a temporary name beside its destination and renamed into place, which
is atomic on one filesystem.  This module is that one mechanism.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def sha256_file(path: str | os.PathLike) -> str:
    """The hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def staged_folder(dest: str | os.PathLike) -> Iterator[Path]:
    """A new, empty folder beside ``dest`` to fill; when the block ends without
    an error it takes ``dest``'s place (see :func:`swap_into_place`), otherwise
    it is removed and ``dest`` is left as it was."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    recover_swap(dest)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    try:
        yield staging
        swap_into_place(staging, dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def swap_into_place(staging: Path, dest: Path) -> None:
    """Rename ``staging`` to ``dest``.  An existing ``dest`` is first renamed to
    ``.NAME.old`` and removed after the swap, so at every moment one whole
    version is there under one of the two names."""
    if not dest.exists():
        os.replace(staging, dest)
        return
    retired = dest.with_name(f".{dest.name}.old")
    shutil.rmtree(retired, ignore_errors=True)
    os.replace(dest, retired)
    os.replace(staging, dest)
    shutil.rmtree(retired, ignore_errors=True)


def recover_swap(dest: str | os.PathLike, *, tidy: bool = False) -> bool:
    """Undo what a kill between the two renames of :func:`swap_into_place` left:
    no ``dest`` but a whole ``.NAME.old`` beside it, which goes back into place.
    Returns True when it did.

    With ``tidy`` (only for a caller that owns ``dest``, e.g. under its run's
    lock) it also removes a leftover ``.NAME.old`` and the ``.NAME.*.tmp``
    staging folders a killed writer left: none of them is ever whole data."""
    dest = Path(dest)
    retired = dest.with_name(f".{dest.name}.old")
    restored = False
    if retired.is_dir() and not retired.is_symlink() and not dest.exists():
        os.replace(retired, dest)
        restored = True
    if tidy:
        if retired.is_dir() and not retired.is_symlink():
            shutil.rmtree(retired, ignore_errors=True)
        for leftover in dest.parent.glob(f".{glob.escape(dest.name)}.*.tmp"):
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)
    return restored


@contextmanager
def staged_file(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path beside ``path`` to write; renamed onto ``path`` when the
    block ends without an error, deleted otherwise."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        yield partial
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def link_or_copy(source: str | os.PathLike, dest: str | os.PathLike) -> None:
    """Hard-link ``source`` to ``dest`` (the same bytes, no space used), or copy it
    where links are impossible (another filesystem)."""
    try:
        os.link(source, dest)
    except OSError:
        shutil.copy2(source, dest)


def name_in(folder: Path, root: Path) -> str:
    """``folder`` as a name below ``root`` (``mlp/best``), or its full path when it lies elsewhere."""
    try:
        return folder.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(folder)
