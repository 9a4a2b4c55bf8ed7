"""What the Studies tab's form asks for, made into a :class:`~archzoo.studies.spec.StudySpec`.

A grid typed in the page multiplies training runs, so it is bounded before any cell
is built: at most :data:`~archzoo.registry.limits.MAX_STUDY_TRIALS` cells x seeds,
values no longer than a name, and a study name that is a plain folder name inside
the checkpoint store (its trials' runs are written in ``STORE/NAME/NNN``).  The
cells' values are then checked by :meth:`StudySpec.check`, as ``archzoo study run``
checks them.  A grid's cells are labelled as ``--grid`` labels them, so the same grid
given to the CLI under the same name is the same study.  Trials train outside the
Train tab's queue, so a dataset path is confined here as the queue confines a run's.
"""

from __future__ import annotations

import itertools
import math
import re

from archzoo.errors import ArchzooError
from archzoo.registry.config import parse_assignments
from archzoo.registry.host import Host
from archzoo.registry.limits import MAX_NAME_CHARS, MAX_STUDY_TRIALS, check_count
from archzoo.runs.record import RECORD
from archzoo.studies.spec import Cell, StudySpec
from archzoo.training.queue import RunRequest, confine_request

#: A study name is one folder name: letters, digits, '.', '_' and '-', not starting with a dot.
STUDY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def grid_axes(rows: list[tuple[str | None, str | None]]) -> list[tuple[str, list[str]]]:
    """The form's rows "field -> values" as (field, values); rows without values are left out.
    Values are separated by commas, or by ';' when one value is itself a list (``256,128; 512``)."""
    axes: list[tuple[str, list[str]]] = []
    for field, text in rows:
        field, text = (field or "").strip(), (text or "").strip()
        if not text:  # a row without values is not part of the grid
            continue
        if not field:
            raise ArchzooError(f"the values '{text[:40]}' have no field: choose the setting they are for")
        if any(field == known for known, _ in axes):
            raise ArchzooError(f"field '{field}' is given twice: write all its values in one row")
        separator = ";" if ";" in text else ","
        values = [v.strip() for v in text.split(separator) if v.strip()]
        for value in values:
            check_count(f"a value of '{field}' (characters)", len(value), MAX_NAME_CHARS)
        if len(set(values)) < len(values):
            raise ArchzooError(f"field '{field}': a value is given twice ({text[:60]})")
        axes.append((field, values))
    if not axes:
        raise ArchzooError("choose at least one field and give its values, separated by commas")
    return axes


def check_size(cells: int, seeds: int) -> None:
    """Cells x seeds within :data:`MAX_STUDY_TRIALS`, said with the bound's name and number."""
    check_count(
        f"the study's trials (cells x seeds = {cells:,} x {seeds:,})",
        cells * seeds,
        MAX_STUDY_TRIALS,
        hint="a study started from the app runs at most that many trials; choose fewer values or seeds",
    )


def seeds_of(value: object) -> int:
    """The form's seeds box: a whole number, at least 1 (empty: 1)."""
    if value is None or value == "":
        return 1
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = 0.5
    if isinstance(value, bool) or not number.is_integer() or number < 1:
        raise ArchzooError(f"seeds: a whole number, at least 1, not {value!r}")
    return int(number)


def grid_spec(
    host: Host,
    *,
    target: str,
    dataset: str | None,
    rows: list[tuple[str | None, str | None]],
    seeds: object,
    shared: str | None,
    name: str | None,
) -> StudySpec:
    """An ad-hoc study from the form, bounded and checked (a bad value names its field)."""
    if not target:
        raise ArchzooError("choose an architecture or preset")
    axes = grid_axes(rows)
    count = seeds_of(seeds)
    check_size(math.prod(len(values) for _, values in axes), count)
    cells = [
        Cell(" ".join(f"{k}={v}" for k, v in combination), dict(combination))
        for combination in itertools.product(*[[(field, v) for v in values] for field, values in axes])
    ]
    base = {k: str(v) for k, v in parse_assignments((shared or "").split()).items()}
    overlap = sorted(set(base) & {field for field, _ in axes})
    if overlap:
        raise ArchzooError(f"'{overlap[0]}' is both a grid field and a shared setting: give it in one place")
    name = (name or "").strip() or f"{target}-" + "-".join(field for field, _ in axes)
    spec = StudySpec(name=name, target=target, cells=cells, dataset=dataset or None)
    spec.seeds, spec.base = count, base
    return checked_spec(host, spec)


def checked_spec(host: Host, spec: StudySpec) -> StudySpec:
    """A study about to start from the app (shipped, typed or stored): its name and size bounded,
    a dataset path confined as a Train run's is, every cell checked."""
    study_name(host, spec.name)
    check_size(len(spec.cells), spec.seeds)
    if host.paths is not None:
        confine_request(RunRequest(name=spec.target, dataset=spec.dataset), host)
    spec.check(host)
    return spec


def study_name(host: Host, name: str) -> str:
    """``name`` if it can name a study's folder in the store, else an ArchzooError saying why."""
    check_count("the study name (characters)", len(name), MAX_NAME_CHARS)
    if not STUDY_NAME.fullmatch(name):
        raise ArchzooError(
            f"study name '{name[:60]}': use letters, digits, '.', '_' and '-' "
            "(it names the folder of the study's runs in the checkpoint store)"
        )
    folder = host.settings.checkpoint_dir / name
    if (folder / RECORD).is_file():
        raise ArchzooError(f"a run named '{name}' is in the checkpoint store: choose another name for the study")
    if host.paths is not None:
        host.paths.writable(folder, "study name")
    return name
