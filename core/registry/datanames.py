"""A dataset's settings written in its name: ``sine:points=50,noise=0.1``, ``houses.csv:task=regression``.

A dataset is named wherever a run is described (``--dataset``, the Train form, a
preset, a study, a checkpoint's ``config.json``), and its name is what brings the
same data back for ``archzoo eval`` or a view.  Settings that change the data (how
many points a toy set draws, whether a CSV's target is a class or a number) belong
with the name for that reason: a checkpoint of ``sine:points=50`` is judged on the
same 50 points without being told twice.

The part after the last ``:`` is settings only when it reads as ``key=value`` pairs
separated by commas, so a path with a colon in it stays a path.  Torch-free: the plan
of a run (:mod:`archzoo.registry.plans`) reads it before any data is loaded.
"""

from __future__ import annotations

import re

from archzoo.errors import DataError

_PAIR = re.compile(r"[a-z][a-z0-9_]*=[^,=:/\\\s]+")


def split_dataset_name(name: str) -> tuple[str, dict[str, str]]:
    """``"sine:points=50,noise=0.1"`` -> ``("sine", {"points": "50", "noise": "0.1"})``;
    a name without settings comes back as it is, with none."""
    base, colon, tail = name.rpartition(":")
    if not colon or not base:
        return name, {}
    pairs = tail.split(",")
    if not all(_PAIR.fullmatch(pair) for pair in pairs):
        return name, {}
    settings: dict[str, str] = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        if key in settings:
            raise DataError(f"dataset '{name}' sets '{key}' twice")
        settings[key] = value
    return base, settings


def dataset_name(base: str, settings: dict[str, object]) -> str:
    """The name that :func:`split_dataset_name` reads back as ``(base, settings)``."""
    if not settings:
        return base
    return base + ":" + ",".join(f"{key}={value}" for key, value in settings.items())


def check_settings(name: str, settings: dict[str, str], known: dict[str, str]) -> None:
    """Every key of ``settings`` is one the dataset reads (``known``: name -> help), or a
    :class:`DataError` that names the key and lists the known ones."""
    for key in settings:
        if key not in known:
            allowed = "; ".join(f"{k}: {h}" for k, h in known.items()) if known else "it takes none"
            raise DataError(f"dataset '{name}' has no setting '{key}' ({allowed})")
