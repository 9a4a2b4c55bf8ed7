"""What a study is: a named set of runs, one per cell and seed.

A cell is a set of settings (``{"lr": "0.01", "optimizer": "sgd"}``), made
either as the product of a grid (``--grid lr=1e-1,1e-2``) or listed by name
(the notes' tables: "SGD+Momentum" sets optimizer, lr and momentum at once).
Every cell is checked with :func:`archzoo.registry.plans.plan_run` before any
trial runs, so a value a field does not allow is refused naming the field.
Torch-free: ``archzoo study list`` stays fast.
"""

from __future__ import annotations

import itertools
import json
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from archzoo.errors import ArchzooError, UnknownNameError
from archzoo.registry.host import Host, get_host
from archzoo.registry.plans import plan_run
from archzoo.registry.specs import metric_direction

#: The studies archzoo ships: the lecture notes' tables.
SHIPPED = Path(__file__).with_name("shipped.toml")


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

    @property
    def direction(self) -> str:
        return "maximize" if metric_direction(self.metric.rpartition(".")[2]) == "higher" else "minimize"

    def trials(self) -> list[tuple[int, Cell, int]]:
        """(index, cell, seed) of every trial, in a fixed order: the index names the trial's run folder."""
        pairs = itertools.product(range(len(self.cells)), range(self.seeds))
        return [(i * self.seeds + seed, self.cells[i], seed) for i, seed in pairs]

    def overrides(self, cell: Cell, seed: int) -> dict[str, str]:
        values = {**self.base, **cell.settings}
        if self.seeds > 1:
            values["seed"] = str(seed)
        return values

    def check(self, host: Host | None = None) -> None:
        """Plan every cell's run now: a bad value is refused before any trial, naming the cell."""
        host = host or get_host()
        if not self.cells:
            raise ArchzooError(f"study '{self.name}' has no cells: give --grid KEY=V1,V2 or cells")
        if self.seeds < 1:
            raise ArchzooError(f"study '{self.name}': --seeds must be at least 1, not {self.seeds}")
        for cell in self.cells:
            try:
                plan_run(self.target, dataset=self.dataset, overrides=self.overrides(cell, 0), host=host)
            except ArchzooError as exc:
                raise ArchzooError(f"study '{self.name}', cell '{cell.label}': {exc}") from exc

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> StudySpec:
        data = json.loads(text)
        data["cells"] = [Cell(c["label"], dict(c["settings"])) for c in data["cells"]]
        return cls(**data)


def grid_cells(grid: list[str]) -> list[Cell]:
    """``["lr=1e-1,1e-2", "optimizer=sgd,adam"]`` -> the four cells of their product."""
    axes = []
    for item in grid:
        key, sep, values = item.partition("=")
        choices = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or not key.strip() or not choices:
            raise ArchzooError(f"--grid expects KEY=V1,V2,...: got '{item}'")
        axes.append([(key.strip(), v) for v in choices])
    cells = []
    for combination in itertools.product(*axes):
        settings = dict(combination)
        cells.append(Cell(" ".join(f"{k}={v}" for k, v in settings.items()), settings))
    return cells


def shipped_studies(path: Path = SHIPPED) -> dict[str, StudySpec]:
    """The studies in ``shipped.toml``, by name."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    studies = {}
    for name, entry in data.get("studies", {}).items():
        cells = [Cell(label, {k: str(v) for k, v in settings.items()}) for label, settings in entry["cells"].items()]
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
        )
    return studies


def shipped_study(name: str) -> StudySpec:
    studies = shipped_studies()
    if name not in studies:
        raise UnknownNameError("shipped study", name, sorted(studies), hint="'archzoo study list' lists them")
    return studies[name]
