"""The local checkpoint store as a list: every checkpoint in it, with what it
is, how well it did, and its model card.

The store is ``get_host().settings.checkpoint_dir`` (``./checkpoints``, or
``ARCHZOO_CHECKPOINTS``).  A training run writes ``RUN/best`` and
``RUN/last``; a pulled or copied checkpoint may sit directly in ``NAME/`` or
deeper (``hub/user/repo``).  Folders whose names start with a dot (atomic
writes in progress, retired copies) are skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from archzoo.checkpoints.layout import CARD, STATE_JSON, is_checkpoint
from archzoo.checkpoints.locate import resolve_checkpoint
from archzoo.checkpoints.meta import read_meta, task_of
from archzoo.errors import ArchzooError, PluginMissingError
from archzoo.files import name_in
from archzoo.registry.host import Host, get_host

#: How deep below the store to look for checkpoint folders.
MAX_DEPTH = 4


@dataclass(frozen=True)
class CheckpointEntry:
    """One checkpoint folder and what its ``config.json`` says."""

    name: str  # path relative to the store ("run/best"), or the absolute path outside it
    path: Path
    architecture: str = ""
    task: str = ""
    dataset: str = ""
    parameters: int | None = None
    created: str = ""
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    distribution: str = ""
    plugin_version: str = ""
    installed: bool = True
    resumable: bool = False
    error: str = ""  # set when config.json cannot be read; the other fields are then empty

    @property
    def headline(self) -> str:
        """The most telling number: test, else validation, first metric (``"test accuracy 0.953"``)."""
        for split in ("test", "validation"):
            values = self.metrics.get(split) or {}
            if values:
                key = next(iter(values))
                return f"{split} {key} {values[key]:.4f}"
        return "not evaluated"

    @property
    def problem(self) -> str:
        """Why this checkpoint cannot be used here, or ''."""
        if self.error:
            return self.error
        if not self.installed:
            meta = {"architecture": self.architecture, "plugin": {"distribution": self.distribution}}
            return str(PluginMissingError.for_checkpoint(meta))
        return ""

    @property
    def label(self) -> str:
        """A one-line description for a drop-down."""
        if self.error:
            return f"{self.name} (unreadable)"
        extra = "" if self.installed else ", plugin missing"
        return f"{self.name} · {self.architecture} on {self.dataset} · {self.headline}{extra}"


def list_checkpoints(store: str | Path | None = None, *, host: Host | None = None) -> list[CheckpointEntry]:
    """Every checkpoint under ``store`` (default: the host's store), newest first."""
    host = host or get_host()
    root = Path(store) if store is not None else host.settings.checkpoint_dir
    if not root.is_dir():
        return []
    entries = [describe(folder, host=host, store=root) for folder in _checkpoint_folders(root)]
    # Newest first; of one run, its best checkpoint before its last.
    return sorted(entries, key=lambda e: (e.created, e.path.name != "last", e.name), reverse=True)


def describe(location: str | Path, *, host: Host | None = None, store: Path | None = None) -> CheckpointEntry:
    """Describe one checkpoint folder (a path, or a name in the store) without loading its weights."""
    host = host or get_host()
    root = store if store is not None else host.settings.checkpoint_dir
    folder = resolve_checkpoint(location, root)
    name = name_in(folder, root)
    try:
        meta = read_meta(folder)
    except ArchzooError as exc:
        return CheckpointEntry(name=name, path=folder, error=str(exc))
    plugin = meta.get("plugin") or {}
    arch = str(meta.get("architecture", ""))
    metrics = meta.get("metrics") if isinstance(meta.get("metrics"), dict) else {}
    return CheckpointEntry(
        name=name,
        path=folder,
        architecture=arch,
        task=task_of(meta, host),
        dataset=str((meta.get("dataset") or {}).get("name", "")),
        parameters=meta.get("parameters"),
        created=str(meta.get("created", "")),
        metrics={str(k): dict(v) for k, v in metrics.items() if isinstance(v, dict)},
        distribution=str(plugin.get("distribution", "")),
        plugin_version=str(plugin.get("version", "")),
        installed=arch in host.architectures,
        resumable=(folder / STATE_JSON).is_file(),
    )


def read_card(location: str | Path, *, host: Host | None = None) -> str:
    """The model card (``README.md``) of a checkpoint, as Markdown."""
    host = host or get_host()
    folder = resolve_checkpoint(location, host.settings.checkpoint_dir, host.paths, token=host.hub_token)
    card = folder / CARD
    if not card.is_file():
        return f"*{folder} has no model card ({CARD}).*"
    return card.read_text(encoding="utf-8")


def card_body(card: str) -> str:
    """A model card without its YAML front matter (for showing it as a page)."""
    if card.startswith("---"):
        end = card.find("\n---", 3)
        if end != -1:
            return card[end + 4 :].lstrip("\n")
    return card


def entries_as_json(entries: list[CheckpointEntry]) -> str:
    """Machine-readable listing (what ``archzoo checkpoints --json`` would print)."""
    return json.dumps(
        [
            {
                "name": e.name,
                "path": str(e.path),
                "architecture": e.architecture,
                "task": e.task,
                "dataset": e.dataset,
                "parameters": e.parameters,
                "created": e.created,
                "metrics": e.metrics,
                "distribution": e.distribution,
                "plugin_version": e.plugin_version,
                "installed": e.installed,
                "resumable": e.resumable,
                "error": e.error,
            }
            for e in entries
        ],
        indent=2,
    )


def _checkpoint_folders(root: Path) -> list[Path]:
    found: list[Path] = []
    pending = [(root, 0)]
    while pending:
        folder, depth = pending.pop()
        try:
            children = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
        except OSError:
            continue
        for child in children:
            if is_checkpoint(child):
                found.append(child)
            elif depth + 1 < MAX_DEPTH:
                pending.append((child, depth + 1))
    return found
