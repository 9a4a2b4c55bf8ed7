"""A search space: each searched setting and the values a trial may take.

Written ``KEY=SPEC`` after ``--search``; the SPEC says what kind of values:

* ``32,64,128``: a choice among values (split on ``|`` instead when the spec
  has one, for values that hold commas themselves: ``hidden=256,128|512``);
* ``0:0.5``: a float range, ends included (``0:0.5:0.05`` on a step of 0.05);
* ``log:1e-4:1e-1``: a float range sampled on a log scale;
* ``int:1:4``: an integer range (``int:16:256:16`` on a step);
* ``logint:16:512``: an integer range on a log scale.

A study stores each SPEC as written, so a worker elsewhere parses the same
space. Torch-free and Optuna-free: a trial is anything with Optuna's
``suggest_*`` methods.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from archzoo.errors import ArchzooError

#: The kinds of range, by the prefix that names them (no prefix: a float range).
RANGES = {"float": ("float", False), "log": ("float", True), "int": ("int", False), "logint": ("int", True)}
SYNTAX = "KEY=V1,V2,... or KEY=LOW:HIGH, log:LOW:HIGH, int:LOW:HIGH, logint:LOW:HIGH"


@dataclass(frozen=True)
class Choice:
    """A setting sampled among listed values (kept as the strings written)."""

    key: str
    values: tuple[str, ...]

    def suggest(self, trial: Any) -> str:
        return str(trial.suggest_categorical(self.key, list(self.values)))

    def to_check(self) -> tuple[str, ...]:
        return self.values


@dataclass(frozen=True)
class Range:
    """A setting sampled from LOW to HIGH, ends included: float or int, linear or log."""

    key: str
    kind: str  # "float" or "int"
    low: float
    high: float
    log: bool = False
    step: float | None = None

    def suggest(self, trial: Any) -> str:
        if self.kind == "int":
            step = int(self.step or 1)
            return str(trial.suggest_int(self.key, int(self.low), int(self.high), step=step, log=self.log))
        return repr(trial.suggest_float(self.key, self.low, self.high, step=self.step, log=self.log))

    def to_check(self) -> tuple[str, ...]:
        """Both ends: a field's bounds are intervals, so the ends settle every value between."""
        if self.kind == "int":
            return (str(int(self.low)), str(int(self.high)))
        return (repr(self.low), repr(self.high))


Param = Choice | Range


def split_choices(text: str) -> list[str]:
    """``"a,b"`` -> ``["a", "b"]``; on ``|`` when there is one (``"256,128|512"``)."""
    separator = "|" if "|" in text else ","
    return [v.strip() for v in text.split(separator) if v.strip()]


def parse_item(item: str) -> tuple[str, str]:
    """``"lr=log:1e-4:1e-1"`` -> ``("lr", "log:1e-4:1e-1")``, the spec checked."""
    key, sep, spec = item.partition("=")
    key, spec = key.strip(), spec.strip()
    if not sep or not key or not spec:
        raise ArchzooError(f"--search expects {SYNTAX}: got '{item}'")
    parse_param(key, spec)
    return key, spec


def parse_space(items: list[str]) -> dict[str, str]:
    """The ``--search`` items as a space (setting -> spec), each checked; a setting named twice is refused."""
    space: dict[str, str] = {}
    for item in items:
        key, spec = parse_item(item)
        if key in space:
            raise ArchzooError(f"--search names '{key}' twice ('{key}={space[key]}' and '{item.strip()}')")
        space[key] = spec
    return space


def parse_param(key: str, spec: str) -> Param:
    """The values ``KEY=SPEC`` allows; a bad spec is refused naming the item and what is wrong."""
    item = f"--search '{key}={spec}'"
    head, _, rest = spec.partition(":")
    if head in RANGES:
        return _range(key, RANGES[head], rest.split(":"), item)
    parts = spec.split(":")
    if len(parts) in (2, 3) and all(_number(p) is not None for p in parts):
        return _range(key, RANGES["float"], parts, item)
    values = split_choices(spec)
    if len(values) < 2:
        raise ArchzooError(f"{item}: a choice needs two values or more; set a single value with --set {key}={spec}")
    if len(set(values)) < len(values):
        raise ArchzooError(f"{item}: a value is listed twice")
    return Choice(key, tuple(values))


def _range(key: str, kind: tuple[str, bool], parts: list[str], item: str) -> Range:
    number, log = kind
    if len(parts) not in (2, 3):
        raise ArchzooError(f"{item}: a range is LOW:HIGH or LOW:HIGH:STEP")
    ends = [_number(p) for p in parts]
    if any(e is None for e in ends):
        bad = next(p for p, e in zip(parts, ends, strict=True) if e is None)
        raise ArchzooError(f"{item}: '{bad}' is not a number")
    low, high, step = ends[0], ends[1], (ends[2] if len(ends) == 3 else None)
    if number == "int" and not all(float(e).is_integer() for e in ends if e is not None):
        raise ArchzooError(f"{item}: an int range needs whole numbers")
    if not low < high:
        raise ArchzooError(f"{item}: LOW must be below HIGH")
    if log and low <= 0:
        raise ArchzooError(f"{item}: a log range needs LOW above 0")
    if step is not None and (log or step <= 0):
        raise ArchzooError(f"{item}: " + ("a log range takes no STEP" if log else "STEP must be above 0"))
    return Range(key, number, low, high, log=log, step=step)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def params(space: dict[str, str]) -> list[Param]:
    """A stored space as its parameters, in the order written."""
    return [parse_param(key, spec) for key, spec in space.items()]


def shown(value: str) -> str:
    """A sampled value as a table shows it: floats to 4 significant digits."""
    try:
        number = float(value)
    except ValueError:
        return value
    return value if number.is_integer() and "." not in value and "e" not in value.lower() else f"{number:.4g}"
