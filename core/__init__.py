"""archzoo: a plugin-based model registry for PyTorch.

Importing ``archzoo`` is cheap (no torch): it gives plugin authors what they
need to declare architectures.  The functions that train or load models import
torch when called.

    from archzoo import hookimpl, ArchSpec, param
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from archzoo.errors import (
    ArchzooError,
    CheckpointError,
    ConfigError,
    DataError,
    DuplicateNameError,
    PluginBrokenError,
    PluginMissingError,
    UnknownNameError,
)
from archzoo.registry.config import TrainConfig, param
from archzoo.registry.hookspecs import hookimpl, hookspec
from archzoo.registry.specs import ArchSpec, DatasetSpec, SampleResult

__all__ = [
    "ArchSpec",
    "ArchzooError",
    "CheckpointError",
    "ConfigError",
    "DataError",
    "DatasetSpec",
    "DuplicateNameError",
    "PluginBrokenError",
    "PluginMissingError",
    "SampleResult",
    "TrainConfig",
    "UnknownNameError",
    "hookimpl",
    "hookspec",
    "param",
    # lazily imported (they need torch):
    "load",
    "train",
    "predict",
    "evaluate_checkpoint",
    "push_to_hub",
    "pull",
]

_LAZY = {
    "load": "archzoo.checkpoints.io",
    "train": "archzoo.api",
    "predict": "archzoo.api",
    "evaluate_checkpoint": "archzoo.api",
    "push_to_hub": "archzoo.checkpoints.hub",
    "pull": "archzoo.checkpoints.hub",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    if name == "__version__":
        from archzoo.registry.host import archzoo_version

        return archzoo_version()
    raise AttributeError(f"module 'archzoo' has no attribute {name!r}")


from archzoo import legacy as _legacy  # noqa: E402

_legacy.install()

if TYPE_CHECKING:  # pragma: no cover
    from archzoo.checkpoints.hub import pull, push_to_hub
    from archzoo.checkpoints.io import load
    from archzoo.evaluation.evaluate import evaluate_checkpoint
    from archzoo.inference.classify import predict
    from archzoo.training.launch import train
