"""Models tab: every installed architecture (built-in and third-party), presets,
datasets, and plugins that failed to load, with their error."""

from __future__ import annotations

import gradio as gr
import pandas as pd

from archzoo.api import planned_parameters
from archzoo.registry import catalog
from archzoo.registry.catalog import count_text

from .common import AppContext, table

ARCH_HEADERS = ["architecture", "task", "parameters", "plugin", "version", "summary"]


def architectures_table(ctx: AppContext) -> pd.DataFrame:
    data = catalog.installed(ctx.host)
    rows = []
    for a in data["architectures"]:
        spec = ctx.host.architectures[a["name"]]
        tasks = ", ".join(a["tasks"])
        rows.append(
            [
                a["name"],
                tasks,
                count_text(planned_parameters(spec.name, ctx.host)),
                a["distribution"],
                a["version"],
                a["summary"],
            ]
        )
    return table(rows, ARCH_HEADERS)


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
    broken = ctx.host.broken
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
        value=architectures_table(ctx), label="Architectures", interactive=False, wrap=True, elem_id="az-models-table"
    )
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
        visible=bool(ctx.host.broken),
    )
    refresh = gr.Button("Refresh", size="sm")

    def models():
        return architectures_table(ctx), presets_table(ctx), datasets_table(ctx), broken_text(ctx), broken_table(ctx)

    refresh.click(models, None, [archs, presets, datasets, broken_note, broken], api_name="models")
    return {"architectures": archs}
