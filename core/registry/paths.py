"""One path policy: which folders a path that came from outside may name.

A browser user of a shared app types paths (a dataset file, a data folder, a run
name, a merge destination), and a checkpoint from someone else may record a
dataset that is a path.  The app confines all of them to the checkpoint store,
the data folders its operator named (``[app] data_roots`` in registry.toml), and
the shipped datasets, which are names, not paths.  Anything else is refused with
a message that names the path as given and nothing that is on the disk, so a
refusal lists no folder's contents.

The policy is the host's (``Host.paths``): the app sets it; a command-line user,
who owns the machine, has none and names any path.  Torch-free.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from archzoo.errors import ArchzooError
from archzoo.registry.limits import MAX_NAME_CHARS


class PathRefused(ArchzooError, PermissionError):
    """A path from outside names a place the policy does not allow."""


@dataclass(frozen=True)
class PathPolicy:
    """The folders paths from outside may lie in: ``store`` (where runs write) and ``data_roots``."""

    store: Path
    data_roots: tuple[Path, ...] = ()

    @classmethod
    def for_app(cls, settings) -> PathPolicy:
        return cls(store=Path(settings.checkpoint_dir), data_roots=tuple(settings.data_roots))

    def readable(self, path: str | os.PathLike, what: str) -> Path:
        """``path`` if it lies in the store or a data root (links resolved), else :class:`PathRefused`."""
        resolved = _resolve(path, what)
        if any(_inside(resolved, root) for root in (self.store, *self.data_roots)):
            return Path(path).expanduser()
        hint = "choose one in the store" if what == "checkpoint" else "give a dataset by name"
        raise PathRefused(
            f"{what} '{_shown(path)}' is outside the folders this app may read (the checkpoint store and the "
            f"data folders its operator allowed): {hint}, or ask the operator to add the folder to "
            "[app] data_roots in registry.toml"
        )

    def checkpoint(self, location: str | os.PathLike) -> None:
        """A checkpoint location typed in the page (a path, or a name in the store) must be readable."""
        text = os.fspath(location)
        self.readable(text if Path(text).expanduser().is_absolute() else self.store / text, "checkpoint")

    def writable(self, path: str | os.PathLike, what: str) -> Path:
        """``path`` if it lies in the checkpoint store (links resolved), else :class:`PathRefused`."""
        resolved = _resolve(path, what)
        if _inside(resolved, self.store):
            return Path(path).expanduser()
        raise PathRefused(f"{what} '{_shown(path)}' is outside the checkpoint store: give a name inside it")


def check_path_text(text: str, what: str) -> str:
    """A path or name as typed: no NUL, no part longer than the filesystem allows (255 bytes),
    at most 4096 bytes in all.  The message shows only the start of it."""
    if "\x00" in text:
        raise PathRefused(f"{what} '{_shown(text)}' has a NUL character in it, which no file name may")
    if len(text.encode("utf-8", "surrogateescape")) > 4096 or any(
        len(part.encode("utf-8", "surrogateescape")) > 255 for part in text.split("/")
    ):
        raise PathRefused(f"{what} '{_shown(text)[:60]}...' is too long for a file name (at most 255 bytes a part)")
    return text


def _resolve(path: str | os.PathLike, what: str) -> Path:
    text = check_path_text(os.fspath(path), what)
    return Path(text).expanduser().resolve()


def _inside(path: Path, root: Path) -> bool:
    return path.is_relative_to(Path(root).expanduser().resolve())


def _shown(path: str | os.PathLike) -> str:
    text = os.fspath(path)
    return "".join(c if c.isprintable() else "?" for c in text[:MAX_NAME_CHARS])
