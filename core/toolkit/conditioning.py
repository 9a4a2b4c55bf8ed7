"""What a class-conditional generator reads from a ``sample`` request: the class to
draw and, for a diffusion model trained with label dropout, the guidance weight.

- ``class``: a class name of the checkpoint's data (``"Sandal"``, any case) or its
  index; without it image i is drawn from class i mod K, so one grid shows every class;
- ``guidance``: the classifier-free guidance weight w >= 0 of the lecture notes'
  eq. 10.22, eps = (1 + w) eps(x, c) - w eps(x, null); 0 (the default) is the
  conditional prediction alone.

The cGAN and the DDPM both call these, so a request means the same to either.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from archzoo.toolkit.generative import SampleError

#: The largest guidance weight a request may ask for (the notes' table goes to 7).
MAX_GUIDANCE = 100.0


def class_index(value: Any, class_names: tuple[str, ...] | list[str], *, owner: str = "") -> int:
    """The index of a class given by name (any case) or index; an unknown one is a
    :class:`SampleError` that lists the classes the checkpoint knows."""
    who = f"{owner}: " if owner else ""
    names = list(class_names)
    if isinstance(value, str):
        folded = [name.casefold() for name in names]
        if value.strip().casefold() in folded:
            return folded.index(value.strip().casefold())
        if value.strip().isdigit() and int(value) < len(names):
            return int(value)
    elif isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(names):
        return value
    raise SampleError(f"{who}no class {value!r} in this checkpoint; its classes are {', '.join(names)}")


def class_labels(request: dict[str, Any], n: int, class_names: tuple[str, ...], *, owner: str = "") -> torch.Tensor:
    """The class of each of the ``n`` images: ``request["class"]`` for all of them,
    or 0, 1, ..., K-1, 0, ... in turn when the request names none."""
    wanted = request.get("class")
    if wanted is None or wanted == "":
        return torch.arange(n) % len(class_names)
    return torch.full((n,), class_index(wanted, class_names, owner=owner), dtype=torch.long)


def guidance_weight(request: dict[str, Any], *, owner: str = "") -> float:
    """``request["guidance"]`` as a number from 0 to :data:`MAX_GUIDANCE` (absent: 0)."""
    who = f"{owner}: " if owner else ""
    value = request.get("guidance")
    if value is None:
        return 0.0
    try:
        weight = float(value)
    except (TypeError, ValueError):
        raise SampleError(f"{who}guidance must be a number from 0 to {MAX_GUIDANCE:g}, not {value!r}") from None
    if isinstance(value, bool) or math.isnan(weight) or not 0.0 <= weight <= MAX_GUIDANCE:
        raise SampleError(f"{who}guidance must be a number from 0 to {MAX_GUIDANCE:g}, not {value!r}")
    return weight
