"""What is installed, described for people: architectures with their task,
size and plugin; presets; datasets; broken plugins; and the settings form of
an architecture or preset.

``archzoo list`` and ``archzoo info`` print this; the UI's Models and Train
tabs show it.  Nothing here imports torch (a size that must be built is
:func:`archzoo.toolkit.models.planned_parameters`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from archzoo.errors import ArchzooError
from archzoo.registry import config as config_module
from archzoo.registry.host import Host, get_host
from archzoo.registry.plans import data_kinds, plan_run  # noqa: F401  (data_kinds: the Train form asks it here)
from archzoo.registry.specs import task_on


@dataclass(frozen=True)
class FormField:
    """One setting as a form shows it: its description and current value.

    ``section`` is ``"model"`` or ``"training"``; ``value`` is the value the
    chosen architecture or preset starts from, as the CLI's ``--set`` would
    write it (``"256,128"`` for lists)."""

    section: str
    name: str
    type_name: str
    kind: str  # "int", "float", "bool", "choice", "list", "str"
    value: Any
    default: Any
    help: str
    allowed: str
    choices: tuple[str, ...] = ()
    #: The kinds of data it is read for (``config.DATA_KINDS``); empty: every kind.
    applies_to: tuple[str, ...] = ()
    #: The tasks whose runs read it; empty: every task.
    tasks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Form:
    name: str
    architecture: str
    task: str
    dataset: str
    datasets: tuple[str, ...]
    summary: str
    fields: tuple[FormField, ...]


def installed(host: Host | None = None) -> dict[str, list[dict[str, Any]]]:
    """Architectures, presets, datasets and broken plugins (the ``archzoo list --json`` shape)."""
    host = host or get_host()
    archs = sorted(host.architectures.values(), key=lambda s: s.name)
    problems = {s.name: host.implementation_problem(s) for s in archs}
    broken = [{"name": b.name, "distribution": b.distribution, "error": b.error} for b in host.broken]
    for spec in archs:  # a model module that cannot be imported breaks its plugin as a failed entry point does
        error = problems[spec.name]
        if error and not any(b["name"] == spec.plugin and spec.implementation in b["error"] for b in broken):
            broken.append(
                {"name": spec.plugin, "distribution": spec.distribution, "error": f"{spec.implementation}: {error}"}
            )
    return {
        "architectures": [
            {
                "name": s.name,
                "task": s.task,
                "tasks": list(s.tasks),
                "parameters": s.parameters,
                "plugin": s.plugin,
                "distribution": s.distribution,
                "version": s.version,
                "summary": s.summary,
                "default_dataset": s.default_dataset,
                "citation": s.citation,
                "broken": problems[s.name] or "",
            }
            for s in archs
        ],
        "presets": [
            {
                "name": p.name,
                "architecture": p.architecture,
                "dataset": p.dataset,
                "summary": p.summary,
                "source": p.source,
            }
            for p in sorted(host.presets.values(), key=lambda p: p.name)
        ],
        "datasets": [
            {"name": d.name, "task": d.task, "summary": d.summary}
            for d in sorted(host.datasets.values(), key=lambda d: d.name)
        ],
        "broken": broken,
    }


def count_text(n: int | None) -> str:
    """``1,234,567``, or ``?`` for a size that cannot be known here: how counts are shown everywhere."""
    return "?" if n is None else f"{n:,}"


def trainable_names(host: Host | None = None) -> list[str]:
    """Architectures, then presets: what a training form offers."""
    host = host or get_host()
    return sorted(host.architectures) + sorted(p for p in host.presets if p not in host.architectures)


def datasets_for(name: str, host: Host | None = None) -> list[str]:
    """Datasets an architecture or preset can train on (matched by task), its own first."""
    host = host or get_host()
    spec, preset = host.resolve(name)
    own = (preset.dataset if preset and preset.dataset else None) or spec.default_dataset
    matching = sorted(d.name for d in host.datasets.values() if d.task in spec.tasks)
    return ([own] if own else []) + [d for d in matching if d != own]


def form(name: str | None = None, host: Host | None = None) -> Form:
    """The settings form of an architecture or preset: every model and training
    field with the value the preset (or the defaults) gives it.  Fields filled
    from the dataset (input shape, class count) are left out."""
    host = host or get_host()
    plan = plan_run(name or host.settings.default_architecture, host=host)
    fields: list[FormField] = []
    sections = (("model", plan.spec.config, plan.config), ("training", config_module.TrainConfig, plan.train_config))
    for section, cls, current in sections:
        values = config_module.to_dict(current)
        for f in config_module.fields(cls):
            if f.from_data:
                continue
            kind = _kind(f.type_name)
            choices = tuple(c.strip() for c in f.allowed.split(",")) if kind == "choice" else ()
            fields.append(
                FormField(
                    section=section,
                    name=f.name,
                    type_name=f.type_name,
                    kind=kind,
                    value=_shown(values[f.name]),
                    default=_shown(f.default),
                    help=f.help,
                    allowed=f.allowed,
                    choices=choices,
                    applies_to=f.applies_to,
                    tasks=f.tasks,
                )
            )
    return Form(
        name=name or plan.spec.name,
        architecture=plan.spec.name,
        task=plan.spec.task,
        dataset=plan.dataset,
        datasets=tuple(datasets_for(name or plan.spec.name, host)),
        summary=(plan.preset.summary if plan.preset else plan.spec.summary),
        fields=tuple(fields),
    )


def applies(field: FormField, kinds: frozenset[str] | None, task: str | None = None) -> bool:
    """Is ``field`` read for data of these kinds, by a run of this ``task``?  Every field is,
    when the kinds (or the task) are unknown."""
    if task is not None and field.tasks and task not in field.tasks:
        return False
    return kinds is None or not field.applies_to or bool(kinds & set(field.applies_to))


def run_task(name: str | None, dataset: str | None, host: Host | None = None) -> str | None:
    """The task a run of ``name`` on ``dataset`` does (an MLP on moons classifies tables, a
    DDPM on them generates); None when the name is not known."""
    host = host or get_host()
    try:
        spec, _ = host.resolve(name or host.settings.default_architecture)
    except ArchzooError:
        return None
    data = host.datasets.get((dataset or "").strip())
    return task_on(spec, data.task if data else None)


def overrides_from_form(values: dict[str, Any], name: str | None = None, host: Host | None = None) -> dict[str, Any]:
    """Form values -> the ``overrides`` dict ``plan_run`` validates, keeping only
    values that differ from what the architecture or preset already sets (so a
    preset's own values stay the preset's)."""
    start = {f.name: f.value for f in form(name, host).fields}
    out = {}
    for key, value in values.items():
        if isinstance(value, str):
            value = value.strip()
        if key not in start or _same(value, start[key]):
            continue
        out[key] = value
    return out


def _same(value: Any, start: Any) -> bool:
    if value == start:
        return True
    try:
        return isinstance(start, (int, float)) and not isinstance(start, bool) and float(value) == float(start)
    except (TypeError, ValueError):
        return False


def _kind(type_name: str) -> str:
    if type_name == "choice":
        return "choice"
    if type_name.startswith("list[") or "list[" in type_name:
        return "list"
    return type_name if type_name in ("int", "float", "bool", "str") else "str"


def _shown(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return value
