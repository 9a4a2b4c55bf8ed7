"""The module paths of archzoo 0.1, kept for one release as thin re-exports.

Until 0.2 every module sat directly in ``archzoo``; now each lives in the
layer that owns it (docs/architecture.md).  A plugin written against the old
paths (``from archzoo.tokenization import PAD_ID``) keeps working and is told,
once, where the name lives now.  Nothing inside archzoo imports these paths.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
import types
import warnings

#: old module -> the modules that now hold its names, searched in order.
MOVED: dict[str, tuple[str, ...]] = {
    "accuracy": ("archzoo.evaluation.accuracy",),
    "amend": ("archzoo.checkpoints.amend",),
    "calibration": ("archzoo.evaluation.calibration",),
    "card": ("archzoo.checkpoints.card",),
    "catalog": ("archzoo.registry.catalog",),
    "checkpoint": ("archzoo.checkpoints.io",),
    "config": ("archzoo.registry.config",),
    "context": ("archzoo.training.context",),
    "datasets": ("archzoo.data.catalogue",),
    "defaults": ("archzoo.toolkit.classification",),
    "encoders": ("archzoo.toolkit.encoders",),
    "events": ("archzoo.runs.events",),
    "feature_cache": ("archzoo.toolkit.feature_cache",),
    "fid": ("archzoo.evaluation.fid",),
    "generative": ("archzoo.toolkit.generative",),
    "hookspecs": ("archzoo.registry.hookspecs",),
    "host": ("archzoo.registry.host",),
    "hub": ("archzoo.checkpoints.hub",),
    "image_datasets": ("archzoo.data.images",),
    "inputs": ("archzoo.inference.inputs",),
    "logits": ("archzoo.evaluation.logits",),
    "metrics": ("archzoo.evaluation.metrics",),
    "ood": ("archzoo.evaluation.ood",),
    "plots": ("archzoo.evaluation.plots",),
    "report": ("archzoo.evaluation.report",),
    "settings": ("archzoo.registry.settings",),
    "shift": ("archzoo.evaluation.shift",),
    "specs": ("archzoo.registry.specs",),
    "store": ("archzoo.checkpoints.store",),
    "synchronise": ("archzoo.training.synchronise",),
    "text_data": ("archzoo.data.text",),
    "tokenization": ("archzoo.data.tokenizers", "archzoo.data.types"),
    "toy_datasets": ("archzoo.data.toys",),
    "trainer": ("archzoo.training.trainer",),
    "trust": ("archzoo.evaluation.trust",),
    "verdict": ("archzoo.evaluation.verdict",),
}


class _Forwarding(types.ModuleType):
    """A module whose names are looked up in the modules that now hold them."""

    def __init__(self, name: str, targets: tuple[str, ...]) -> None:
        super().__init__(name, f"Moved: use {' or '.join(targets)}.")
        self.__targets = targets

    def __getattr__(self, attribute: str):
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        for target in self.__targets:
            module = importlib.import_module(target)
            if hasattr(module, attribute):
                return getattr(module, attribute)
        raise AttributeError(f"module {self.__name__!r} has no attribute {attribute!r}")

    def __dir__(self) -> list[str]:
        return sorted({n for t in self.__targets for n in dir(importlib.import_module(t))})


class _Finder:
    """A meta path finder and loader for the old names (plain methods: importing
    importlib.abc for its base classes would slow every start)."""

    def find_spec(self, fullname: str, path=None, target=None):
        package, _, old = fullname.rpartition(".")
        if package == "archzoo" and old in MOVED:
            return importlib.machinery.ModuleSpec(fullname, self)
        return None

    def create_module(self, spec):
        old = spec.name.rpartition(".")[2]
        targets = MOVED[old]
        warnings.warn(
            f"{spec.name} has moved to {' / '.join(targets)}; the old path is kept for one release",
            DeprecationWarning,
            stacklevel=3,
        )
        return _Forwarding(spec.name, targets)

    def exec_module(self, module) -> None:
        return None


def install() -> None:
    """Make the old paths importable (``archzoo/__init__`` calls this once)."""
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.append(_Finder())
