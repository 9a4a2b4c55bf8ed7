"""Models tab: every installed architecture (built-in and third-party), presets,
datasets, and plugins that failed to load, with their error; and a page per
architecture or preset (its settings, presets and datasets) with a button that
opens it in the Train tab."""

from __future__ import annotations

import gradio as gr
import pandas as pd

from archzoo.api import planned_parameters
from archzoo.errors import ArchzooError
from archzoo.registry import catalog
from archzoo.registry.catalog import count_text
from archzoo.registry.specs import task_on

from .common import AppContext, table

ARCH_HEADERS = ["architecture", "does", "trains on", "parameters", "plugin", "summary"]
ARCH_WIDTHS = ["11%", "14%", "14%", "9%", "9%", "43%"]


def architectures_table(ctx: AppContext) -> pd.DataFrame:
    data = catalog.installed(ctx.host)
    rows = []
    for a in data["architectures"]:
        spec = ctx.host.architectures[a["name"]]
        try:
            size = None if a["broken"] else planned_parameters(spec.name, ctx.host)
        except ArchzooError as exc:  # its model module fails to import: said below, in the broken plugins
            size, a["broken"] = None, str(exc)
        rows.append(
            [
                a["name"],
                spec.task,
                trains_on(spec.tasks),
                count_text(size),
                f"{a['distribution']} {a['version']}",
                f"BROKEN (see the plugins that failed, below): {a['summary']}" if a["broken"] else a["summary"],
            ]
        )
    return table(rows, ARCH_HEADERS)


def trains_on(tasks: tuple[str, ...]) -> str:
    """``("image-generation", "image-classification")`` -> "image data": the kinds of data, not task names twice."""
    kinds = dict.fromkeys(task.split("-")[0] for task in tasks if task != "feature-extraction")  # of text
    return ", ".join(f"{kind} data" for kind in kinds)


def model_page(ctx: AppContext, name: str | None) -> str:
    """One architecture or preset as a page: what it is, what it trains on, its presets and settings."""
    if not name:
        return "Choose an architecture or a preset."
    try:
        form = catalog.form(name, ctx.host)
    except ArchzooError as exc:
        return f"**{exc}**"
    spec = ctx.host.architectures[form.architecture]
    preset = ctx.host.presets.get(name)
    lines = [f"### {name}" + (f" (a preset of `{spec.name}`)" if preset else ""), "", form.summary, ""]
    does = task_on(spec, getattr(ctx.host.datasets.get(form.dataset), "task", None))
    datasets = ", ".join(form.datasets)
    lines.append(f"- **Does**: {does} on `{form.dataset}`; **trains on**: {trains_on(spec.tasks)} ({datasets})")
    lines.append(f"- **Parameters**: {count_text(planned_parameters(name, ctx.host))} on `{form.dataset}`")
    lines.append(f"- **Plugin**: `{spec.plugin}` from `{spec.distribution}` {spec.version}")
    if spec.citation:
        lines.append(f"- **Recipe**: {spec.citation}")
    presets = [p for p in ctx.host.presets.values() if p.architecture == spec.name]
    if presets and not preset:
        lines += ["", "**Presets** (named recipes):", ""]
        lines += [f"- `{p.name}`: {p.summary}" for p in presets]
    lines += ["", "**Model settings** (the Train form's model fields; `--set NAME=VALUE` in the CLI):", ""]
    lines += ["| setting | value | allowed | what it does |", "|---|---|---|---|"]
    for field in form.fields:
        if field.section == "model":
            value = "yes" if field.value is True else "no" if field.value is False else field.value
            lines.append(f"| `{field.name}` | {_cell(value)} | {_cell(field.allowed)} | {_cell(field.help)} |")
    return "\n".join(lines)


def _cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def presets_table(ctx: AppContext) -> pd.DataFrame:
    data = catalog.installed(ctx.host)
    return table(
        [[p["name"], p["architecture"], p["dataset"], p["summary"]] for p in data["presets"]],
        ["preset", "architecture", "dataset", "summary"],
    )


def datasets_table(ctx: AppContext) -> pd.DataFrame:
    data = catalog.installed(ctx.host)
    return table([[d["name"], d["task"], d["summary"]] for d in data["datasets"]], ["dataset", "task", "summary"])


def broken_table(ctx: AppContext) -> pd.DataFrame:
    data = catalog.installed(ctx.host)
    return table(
        [[b["name"], b["distribution"], b["error"]] for b in data["broken"]], ["plugin", "distribution", "error"]
    )


def broken_text(ctx: AppContext) -> str:
    broken = catalog.installed(ctx.host)["broken"]
    if not broken:
        return "Every installed plugin loaded."
    return (
        f"**{len(broken)} plugin(s) failed to load** and are left out; everything else works. "
        "Fix or uninstall them (`pip uninstall DISTRIBUTION`), or disable them in `registry.toml`."
    )


def build(ctx: AppContext) -> dict:
    gr.Markdown(
        "Every architecture archzoo can train: the built-in ones and any installed with `pip install` "
        "(a distribution that declares an `archzoo` entry point). **Parameters** is the size of the default "
        "model on its default dataset. Train one in the **Train** tab."
    )
    archs = gr.Dataframe(
        value=architectures_table(ctx),
        label="Architectures",
        interactive=False,
        wrap=True,
        column_widths=ARCH_WIDTHS,
        max_height=2000,
        elem_id="az-models-table",
    )
    names = sorted(ctx.host.architectures) + sorted(ctx.host.presets)
    with gr.Row(equal_height=True):
        chosen = gr.Dropdown(
            names,
            value=ctx.host.settings.default_architecture,
            label="Look closer: an architecture or a preset",
            elem_id="az-model-pick",
            scale=4,
        )
        train_it = gr.Button("Train it", variant="primary", scale=1, elem_id="az-model-train")
    page = gr.Markdown(model_page(ctx, ctx.host.settings.default_architecture), elem_id="az-model-page")
    chosen.change(lambda name: model_page(ctx, name), chosen, page, api_name="model_page")
    with gr.Accordion("Presets: named recipes from registry.toml", open=False):
        presets = gr.Dataframe(value=presets_table(ctx), label="Presets", interactive=False, wrap=True)
    with gr.Accordion("Datasets", open=False):
        datasets = gr.Dataframe(value=datasets_table(ctx), label="Datasets", interactive=False, wrap=True)
    broken_note = gr.Markdown(broken_text(ctx), elem_id="az-broken-note")
    broken = gr.Dataframe(
        value=broken_table(ctx),
        label="Plugins that failed to load",
        interactive=False,
        wrap=True,
        visible=bool(catalog.installed(ctx.host)["broken"]),
    )
    refresh = gr.Button("Refresh", size="sm")

    def models():
        return architectures_table(ctx), presets_table(ctx), datasets_table(ctx), broken_text(ctx), broken_table(ctx)

    refresh.click(models, None, [archs, presets, datasets, broken_note, broken], api_name="models")
    return {"architectures": archs, "chosen": chosen, "train": train_it}
