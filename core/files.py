"""Writing to disk so that a crash never leaves half a file or half a folder.

Everything archzoo writes that someone may read back (checkpoints, amended
checkpoints, merged models, feature files, downloaded data, reports) is built
under a temporary name beside its destination and renamed into place, which
is atomic on one filesystem.  This module is that one mechanism.
"""

from __future__ import annotations

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
