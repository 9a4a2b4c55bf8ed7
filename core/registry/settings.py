"""Reads ``registry.toml``: which plugins are off, named presets, defaults.

The file shipped inside the package is the default.  ``ARCHZOO_REGISTRY`` names
another file to use instead (a team's own presets, a CI that disables a
plugin).  ``ARCHZOO_CHECKPOINTS`` moves the local checkpoint store.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archzoo.errors import ArchzooError

#: The registry.toml inside the package (core/registry.toml).
SHIPPED = Path(__file__).resolve().parents[1] / "registry.toml"


@dataclass(frozen=True)
class Settings:
    disabled_plugins: frozenset[str] = frozenset()
    presets: dict[str, dict[str, Any]] = field(default_factory=dict)
    default_architecture: str = "mlp"
    default_dataset: str = "digits"
    checkpoint_dir: Path = Path("checkpoints")
    source: str = ""
    #: Folders of the operator's own data that the app may read datasets from, besides the store
    #: and the shipped datasets (``[app] data_roots``; see docs/security.md).
    data_roots: tuple[Path, ...] = ()
    #: Host names the app answers besides loopback and its --host (``[app] allowed_hosts``).
    allowed_hosts: tuple[str, ...] = ()
    #: Lend the operator's Hub token to browser users with an empty token field (``[app] lend_hub_token``).
    lend_hub_token: bool = False


def load_settings(path: str | os.PathLike | None = None) -> Settings:
    path = path or os.environ.get("ARCHZOO_REGISTRY")
    if path:
        source = Path(path)
        try:
            text = source.read_text(encoding="utf-8")
        except OSError as exc:
            raise ArchzooError(f"cannot read registry file {source} (from ARCHZOO_REGISTRY): {exc.strerror}") from None
    else:
        source = SHIPPED
        text = source.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ArchzooError(f"registry file {source} is not valid TOML: {exc}") from None

    plugins = data.get("plugins", {})
    defaults = data.get("defaults", {})
    store = os.environ.get("ARCHZOO_CHECKPOINTS") or defaults.get("checkpoint_dir", "checkpoints")
    app = data.get("app", {})
    return Settings(
        disabled_plugins=frozenset(plugins.get("disabled", [])),
        presets=dict(data.get("presets", {})),
        default_architecture=defaults.get("architecture", "mlp"),
        default_dataset=defaults.get("dataset", "digits"),
        checkpoint_dir=Path(store).expanduser(),
        source=str(source),
        data_roots=tuple(Path(str(root)).expanduser() for root in _strings(app, "data_roots", source)),
        allowed_hosts=tuple(_strings(app, "allowed_hosts", source)),
        lend_hub_token=app.get("lend_hub_token", False) is True,
    )


def _strings(table: dict[str, Any], key: str, source: Path) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ArchzooError(f"registry file {source}: [app] {key} must be a list of non-empty strings")
    return value
