"""What a study is: a named set of runs, one per cell and seed, or a search.

A cell is a set of settings (``{"lr": "0.01", "optimizer": "sgd"}``), made
either as the product of a grid (``--grid lr=1e-1,1e-2``) or listed by name
(the notes' tables: "SGD+Momentum" sets optimizer, lr and momentum at once).
A search study has a space instead (``--search lr=log:1e-4:1e-1``,
:mod:`archzoo.studies.space`) and a number of trials, each sampling a point.
Every cell, and each end or value of a space, is checked with
:func:`archzoo.registry.plans.plan_run` before any trial runs, so a value a
field does not allow is refused naming the field.
Torch-free: ``archzoo study list`` stays fast.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import tomllib
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

from archzoo.errors import ArchzooError, UnknownNameError
from archzoo.registry.host import Host, get_host
from archzoo.registry.plans import plan_run
from archzoo.registry.specs import metric_direction
from archzoo.studies import space as search_space

#: The studies archzoo ships: the lecture notes' tables.
SHIPPED = Path(__file__).with_name("shipped.toml")
SAMPLERS = ("tpe", "random")


@dataclass(frozen=True)
class Cell:
    """One row of a study's table: a label and the settings it sets."""

    label: str
    settings: dict[str, str]


@dataclass
class StudySpec:
    """A study's definition; stored with the study, so a worker elsewhere runs the same one."""

    name: str
    target: str  # an architecture or preset
    cells: list[Cell]
    dataset: str | None = None
    seeds: int = 1
    base: dict[str, str] = field(default_factory=dict)  # settings every trial shares
    metric: str = "validation.accuracy"
    section: str = ""  # where in the notes the table is printed
    printed: dict[str, float] = field(default_factory=dict)  # the notes' numbers, by cell label
    about: str = ""
    # A search study: its space (setting -> spec as written) instead of cells, and how many trials.
    space: dict[str, str] = field(default_factory=dict)
    search_trials: int = 0
    sampler: str = "tpe"  # "tpe" or "random"
    sampler_seed: int = 0
    prune: bool = False  # median pruning on the validation metric, per epoch

    @property
    def is_search(self) -> bool:
        return bool(self.space)

    @property
    def planned(self) -> int:
        """How many trials the study runs in all."""
        return self.search_trials if self.is_search else len(self.trials())

    @property
    def direction(self) -> str:
        """Optuna's direction for ``metric``: the way the target's architecture declares it
        improves (``ArchSpec.metrics``, its tasks' metrics), else the way its name says."""
        try:
            declared = get_host().resolve(self.target)[0].metrics
        except ArchzooError:  # a target not installed here: the name decides
            declared = None
        return "maximize" if metric_direction(self.metric.rpartition(".")[2], declared) == "higher" else "minimize"

    def trials(self) -> list[tuple[int, Cell, int]]:
        """(index, cell, seed) of every trial, in a fixed order: the index names the trial's run folder."""
        pairs = itertools.product(range(len(self.cells)), range(self.seeds))
        return [(i * self.seeds + seed, self.cells[i], seed) for i, seed in pairs]

    def overrides(self, cell: Cell, seed: int) -> dict[str, str]:
        values = {**self.base, **cell.settings}
        if self.seeds > 1:
            values["seed"] = str(seed)
        return values

    def search_overrides(self, values: dict[str, str]) -> dict[str, str]:
        """A search trial's settings: the shared ones and the point it sampled."""
        return {**self.base, **values}

    def check(self, host: Host | None = None) -> None:
        """Plan every cell's run now: a bad value is refused before any trial, naming the cell."""
        host = host or get_host()
        if self.is_search:
            self._check_search(host)
            return
        if not self.cells:
            raise ArchzooError(f"study '{self.name}' has no cells: give --grid KEY=V1,V2 or cells")
        if self.seeds < 1:
            raise ArchzooError(f"study '{self.name}': --seeds must be at least 1, not {self.seeds}")
        for cell in self.cells:
            try:
                plan_run(self.target, dataset=self.dataset, overrides=self.overrides(cell, 0), host=host)
            except ArchzooError as exc:
                raise ArchzooError(f"study '{self.name}', cell '{cell.label}': {exc}") from exc

    def _check_search(self, host: Host) -> None:
        """The space's items each planned at both ends (a range) or with each value (a choice)."""
        where = f"study '{self.name}'"
        if self.cells:
            raise ArchzooError(f"{where}: give --grid or --search, not both")
        if self.search_trials < 1:
            raise ArchzooError(f"{where}: a search needs --trials N (1 or more), not {self.search_trials}")
        if self.seeds != 1:
            raise ArchzooError(
                f"{where}: --seeds is for grids; a search samples a new point each trial. Set one seed with "
                f"--set seed=S, then measure the best point's spread with a grid of it and --seeds"
            )
        if self.sampler not in SAMPLERS:
            raise ArchzooError(f"{where}: --sampler is one of {', '.join(SAMPLERS)}, not '{self.sampler}'")
        for param in search_space.params(self.space):
            if param.key in self.base:
                raise ArchzooError(f"{where}: '{param.key}' is both searched and --set; keep one")
            for value in param.to_check():
                try:
                    plan_run(self.target, dataset=self.dataset, overrides={**self.base, param.key: value}, host=host)
                except ArchzooError as exc:
                    item = f"{param.key}={self.space[param.key]}"
                    raise ArchzooError(f"{where}, --search '{item}' at {param.key}={value}: {exc}") from exc

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> StudySpec:
        """The stored spec; one written before a field existed takes its default."""
        data = json.loads(text)
        unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ArchzooError(
                f"study '{data.get('name')}' was made by a newer archzoo (it has {', '.join(sorted(unknown))}); "
                f"update archzoo to work on it"
            )
        data["cells"] = [Cell(c["label"], dict(c["settings"])) for c in data["cells"]]
        return cls(**data)


def grid_cells(grid: list[str]) -> list[Cell]:
    """``["lr=1e-1,1e-2", "optimizer=sgd,adam"]`` -> the four cells of their product
    (values split on ``|`` where an item has one: ``hidden=256,128|512``)."""
    axes = []
    for item in grid:
        key, sep, values = item.partition("=")
        choices = search_space.split_choices(values)
        if not sep or not key.strip() or not choices:
            raise ArchzooError(f"--grid expects KEY=V1,V2,...: got '{item}'")
        axes.append([(key.strip(), v) for v in choices])
    cells = []
    for combination in itertools.product(*axes):
        settings = dict(combination)
        cells.append(Cell(" ".join(f"{k}={v}" for k, v in settings.items()), settings))
    return cells


def shipped_studies(path: Path = SHIPPED, *, host: Host | None = None, plugins: bool = True) -> dict[str, StudySpec]:
    """The studies in ``shipped.toml`` and in each plugin's studies file
    (:meth:`archzoo.registry.host.Registry.add_studies`), by name. A plugin's file that
    cannot be read is skipped with a warning; a name shipped twice is refused, naming both."""
    studies = _read_studies(path.read_text(encoding="utf-8"))
    origin = dict.fromkeys(studies, "archzoo")
    for plugin, file in (host or get_host()).study_files if plugins else ():
        try:
            found = _read_studies(file.read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            warnings.warn(f"plugin '{plugin}': its studies file {file} is skipped: {exc}", stacklevel=2)
            continue
        for name, spec in found.items():
            if name in studies:
                raise ArchzooError(f"study '{name}' is shipped twice: by {origin[name]} and by plugin '{plugin}'")
            studies[name], origin[name] = spec, f"plugin '{plugin}'"
    return studies


def _read_studies(text: str) -> dict[str, StudySpec]:
    """``[studies.NAME]`` tables: a grid's ``cells``, or a search's ``search`` and ``trials``."""
    data = tomllib.loads(text)
    studies = {}
    for name, entry in data.get("studies", {}).items():
        cells = [
            Cell(label, {k: str(v) for k, v in settings.items()}) for label, settings in entry.get("cells", {}).items()
        ]
        studies[name] = StudySpec(
            name=name,
            target=entry["target"],
            cells=cells,
            dataset=entry.get("dataset"),
            seeds=int(entry.get("seeds", 1)),
            base={k: str(v) for k, v in entry.get("base", {}).items()},
            metric=entry.get("metric", "validation.accuracy"),
            section=entry.get("section", ""),
            printed={k: float(v) for k, v in entry.get("printed", {}).items()},
            about=entry.get("about", ""),
            space={k: str(v) for k, v in entry.get("search", {}).items()},
            search_trials=int(entry.get("trials", 0)),
            sampler=entry.get("sampler", "tpe"),
            sampler_seed=int(entry.get("seed", 0)),
            prune=bool(entry.get("prune", False)),
        )
    return studies


def shipped_study(name: str) -> StudySpec:
    studies = shipped_studies()
    if name not in studies:
        raise UnknownNameError("shipped study", name, sorted(studies), hint="'archzoo study list' lists them")
    return studies[name]
