"""The errors archzoo raises for things a user can fix.

Every user-facing failure is an :class:`ArchzooError` whose message says what
is wrong and what to do.  The CLI prints the message (no traceback) and exits
non-zero; the UI shows it in the page.  Anything else that escapes is a bug.
"""

from __future__ import annotations

import difflib
import re

_DISTRIBUTION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,100}")  # what a package name looks like


class ArchzooError(Exception):
    """Base class: a problem with the user's input, data or environment."""


class ConfigError(ArchzooError, ValueError):
    """A configuration value is wrong: names the field, the value and what is allowed."""

    def __init__(self, field: str, value: object, allowed: str, *, owner: str = "") -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        where = f"{owner}: " if owner else ""
        super().__init__(f"{where}invalid value {value!r} for '{field}': {allowed}")


class UnknownNameError(ArchzooError, LookupError):
    """An architecture, preset or dataset name that is not registered."""

    def __init__(self, kind: str, name: str, known: list[str], hint: str = "") -> None:
        self.kind = kind
        self.name = name
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        message = f"unknown {kind} '{name}'"
        if close:
            message += f"; did you mean {', '.join(repr(c) for c in close)}?"
        elif known:
            message += f"; known: {', '.join(sorted(known))}"
        if hint:
            message += f"; {hint}"
        super().__init__(message)


class DuplicateNameError(ArchzooError):
    """Two plugins registered the same architecture or dataset name."""


class PluginMissingError(ArchzooError):
    """A checkpoint needs an architecture whose plugin is not installed."""

    @classmethod
    def for_checkpoint(cls, meta: dict) -> PluginMissingError:
        """The error for a checkpoint's ``config.json``, naming what to install.

        The distribution name comes from a file that may have been downloaded,
        so it is shown only if it looks like a package name: a repository
        cannot put a shell command in front of the user."""
        plugin = meta.get("plugin")
        dist = str(plugin.get("distribution") or "") if isinstance(plugin, dict) else ""
        name = meta.get("architecture")
        if _DISTRIBUTION.fullmatch(dist) and _installed(dist):
            return cls(
                f"architecture '{name}' is not available, though {dist} is installed: its plugin failed to load, "
                "is disabled in registry.toml, or no longer provides it; 'archzoo list' shows broken plugins"
            )
        if _DISTRIBUTION.fullmatch(dist):
            return cls(f"architecture '{name}' is not installed: install {dist} (pip install {dist}) and try again")
        return cls(f"architecture '{name}' is not installed, and the checkpoint does not name a valid distribution")


class PluginBrokenError(ArchzooError):
    """An architecture is registered but its plugin's model module cannot be imported."""


def _installed(distribution: str) -> bool:
    """Is a distribution of this name installed here?"""
    from importlib import metadata

    try:
        metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return False
    return True


class CheckpointError(ArchzooError):
    """A checkpoint folder is missing, incomplete, corrupt or does not match its config."""


class DataError(ArchzooError):
    """A dataset cannot be found or read."""


class EncoderError(ArchzooError):
    """A pretrained encoder cannot be found or used: not a folder or cached Hub id, not a
    BERT-family model, no safetensors weights, or a text it cannot read."""
