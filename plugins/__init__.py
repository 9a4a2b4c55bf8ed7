"""Built-in architecture plugins, one package each.

Each package's ``__init__`` is the catalogue card (the architecture spec and
its typed config, no torch import); its ``model`` module is the lecture-note
figure: the model, and whichever hooks differ from the task defaults.

The host finds them by listing this package (:func:`builtin`), so adding a
plugin is adding a folder here and naming it in pyproject.toml's packages.
"""

from __future__ import annotations

import pkgutil


def builtin() -> dict[str, str]:
    """Plugin name -> module of every built-in plugin (``linear_svm`` is named ``linear-svm``)."""
    return {
        info.name.replace("_", "-"): f"{__name__}.{info.name}"
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name)
        if info.ispkg
    }
