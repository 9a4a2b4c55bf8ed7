"""Runs tab: every run in the store (the CLI's too), refreshed while runs train;
several runs' curves overlaid with the settings that differ and their best
metrics; one run's page; tags, a note, a new name, deletion.

Everything shown comes from the runs' records (:mod:`archzoo.runs`), the same
that ``archzoo runs`` and ``archzoo compare`` read.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import gradio as gr
import pandas as pd

from archzoo.errors import ArchzooError
from archzoo.inference.views import live
from archzoo.registry.config import parse_assignments
from archzoo.runs.compare import compare
from archzoo.runs.listing import find_run, list_runs
from archzoo.runs.manage import delete, note, rename, tag
from archzoo.runs.progress import RunProgress, metrics_text
from archzoo.runs.record import RunEntry, read_events

from .common import AppContext, curve_plot, error_message, info, ok, table

HEADERS = ["run", "status", "architecture", "dataset", "epoch", "best", "tags", "created"]
#: Seconds between two refreshes of the list while the tab is open.
REFRESH_EVERY = 2.0


def runs_table(ctx: AppContext, entries: list[RunEntry] | None = None) -> pd.DataFrame:
    return table(_rows(entries if entries is not None else list_runs(ctx.host.settings.checkpoint_dir)), HEADERS)


def _rows(entries: list[RunEntry]) -> list[list[str]]:
    rows = []
    for entry in entries:
        if entry.error:
            rows.append([entry.name, "unreadable", "", "", "", entry.error[:80], "", ""])
            continue
        r, progress = entry.record, entry.record.get("progress") or {}
        rows.append(
            [
                entry.name,
                r["status"],
                r["architecture"] + (f" ({r['preset']})" if r.get("preset") else ""),
                r["dataset"],
                f"{progress.get('epoch', 0)}/{progress.get('epochs', 0)}",
                entry.headline,
                ", ".join(r.get("tags") or []),
                str(r.get("created") or "")[:16].replace("T", " "),
            ]
        )
    return rows


def run_names(ctx: AppContext) -> list[str]:
    return [e.name for e in list_runs(ctx.host.settings.checkpoint_dir) if not e.error]


def refresh(ctx: AppContext, chosen: list[str] | None, one: str | None, shown: int | None):
    """The table and the choices of the two pickers (keeping what is still there),
    read from the store once; nothing is sent when the page already shows it all
    (``shown`` is the page's last listing, as a hash)."""
    entries = list_runs(ctx.host.settings.checkpoint_dir)
    rows = _rows(entries)
    listing = hash(tuple(map(tuple, rows)))
    if listing == shown:
        return gr.skip(), gr.skip(), gr.skip(), shown
    names = [e.name for e in entries if not e.error]
    kept = [n for n in (chosen or []) if n in names]
    return (
        table(rows, HEADERS),
        gr.update(choices=names, value=kept),
        gr.update(choices=names, value=one if one in names else None),
        listing,
    )


def kept_picture(folder: Any) -> Any:
    """The last picture a run kept of its model while it trained (a PIL image), or None."""
    try:
        return live.draw(folder).image() if live.kept(folder) else None
    except Exception:  # a run's half-written or foreign views folder shows no picture, not an error page
        return None


def compare_runs(ctx: AppContext, chosen: list[str] | None):
    """-> (message, loss curves, metric curves, differing settings, best metrics, the runs' pictures)."""
    empty = (None, None, table([], ["setting"]), table([], ["metric"]), None)
    chosen = list(chosen or [])
    if len(chosen) < 2:
        return (info("Pick two or more runs to compare their curves and settings."), *empty)
    try:
        comparison = compare(chosen, ctx.host.settings.checkpoint_dir)
    except Exception as exc:
        return (error_message(exc), *empty)
    loss_rows, metric_rows = [], []
    for name, progress in comparison.progress.items():
        for r in progress.epoch_rows:
            for key, value in r["validation"].items():
                (loss_rows if key == "loss" else metric_rows).append(
                    (float(r["epoch"]), float(value), f"{name}: {key}")
                )
    names = comparison.names
    settings = table([[k, *(_shown(v) for v in values)] for k, values in comparison.differing], ["setting", *names])
    best = table(
        [
            [metric, *("" if v is None else round(v, 4) for v in values), direction]
            for metric, values, direction in comparison.best
        ],
        ["metric", *names, "better"],
    )
    text = (
        ok(f"{len(names)} runs; {len(comparison.differing)} setting(s) differ.")
        if comparison.differing
        else info("These runs have the same settings: they differ only by chance (or by code).")
    )
    pictures = [(p, name) for name in names if (p := kept_picture(comparison.folders[name])) is not None]
    return text, _frame(loss_rows), _frame(metric_rows), settings, best, pictures or None


def run_page(ctx: AppContext, name: str | None):
    """-> (summary, loss curve, metric curve, log, config JSON, card, the last picture it kept)."""
    if not name:
        return info("Pick a run to see its page."), None, None, "", "", "", None
    try:
        entry = find_run(name, ctx.host.settings.checkpoint_dir)
        if entry.error:
            raise ArchzooError(entry.error)
    except Exception as exc:
        return error_message(exc), None, None, "", "", "", None
    r = entry.record
    progress = RunProgress.of(read_events(entry.folder))
    env = r.get("environment") or {}
    lines = [
        f"**{entry.name}** · {r['status']}" + (f": {r['error']}" if r.get("error") else ""),
        f"{r['architecture']}" + (f" (preset {r['preset']})" if r.get("preset") else "") + f" on {r['dataset']} · "
        f"epoch {r['progress'].get('epoch', 0)}/{r['progress'].get('epochs', 0)} · "
        f"{float(r.get('seconds') or 0):.1f}s · "
        f"{env.get('device') or '?'}, {env.get('processes') or '?'} process(es) · id {r['id']}",
    ]
    best = r["metrics"].get("best") or {}
    for split in ("validation", "test"):
        if best.get(split):
            lines.append(f"best {split}: {metrics_text(best[split])}")
    if r.get("overrides"):
        lines.append("settings given: " + ", ".join(f"`{k}={v}`" for k, v in r["overrides"].items()))
    lines.append(
        "checkpoints: "
        + (
            ", ".join(f"`{entry.folder / c}`" for c in ("best", "last") if (entry.folder / c / "config.json").is_file())
            or "none"
        )
    )
    lines += [f"lineage: {line}" for line in entry.lineage]
    if entry.resumable:
        lines.append("resumable: choose **resume** below and Apply to continue it from its last checkpoint")
    if r.get("tags"):
        lines.append("tags: " + ", ".join(r["tags"]))
    if r.get("note"):
        lines.append(f"note: {r['note']}")
    card_path = entry.folder / "best" / "README.md"
    card = card_path.read_text(encoding="utf-8") if card_path.is_file() else "*No best checkpoint yet.*"
    config = json.dumps({"model": r["config"], "training": r["train"]}, indent=1)
    loss = _frame([(x, y, s) for x, y, s in progress.loss_curve()] + progress.epoch_loss_curve())
    picture = kept_picture(entry.folder)
    log = "\n".join(progress.log[-300:])
    return "\n\n".join(lines), loss, _frame(progress.metric_curve()), log, config, card, picture


def change(ctx: AppContext, action: str, name: str | None, value: str, confirmed: bool):
    """Tag, untag, note, rename, resume or delete the picked run; -> (message, table)."""
    store = ctx.host.settings.checkpoint_dir
    try:
        if not name:
            raise ArchzooError("pick a run first")
        value = (value or "").strip()
        if action == "add tag":
            tag(name, value.split(), store=store)
            text = f"{name}: tagged {value}"
        elif action == "remove tag":
            tag(name, value.split(), remove=True, store=store)
            text = f"{name}: untagged {value}"
        elif action == "set note":
            note(name, value, store=store)
            text = f"{name}: note saved"
        elif action == "rename":
            text = f"renamed to {rename(name, value, store=store).name}"
        elif action == "resume":
            entry = find_run(name, store)
            queued = ctx.runs.submit(out=str(entry.folder), resume=True, overrides=parse_assignments(value.split()))
            text = f"{name}: {queued.label} is {queued.state}; its epochs appear here and in the Train tab"
        elif action == "delete":
            if not confirmed:
                raise ArchzooError("tick 'yes, delete it' first: deleting removes the run and its checkpoints")
            text = f"deleted {delete(name, store=store)}"
        else:
            raise ArchzooError(f"unknown action {action!r}")
    except Exception as exc:
        return error_message(exc), runs_table(ctx)
    return ok(text), runs_table(ctx)


def build(ctx: AppContext) -> dict:
    gr.Markdown(
        "Every run in the checkpoint store, from this app and from `archzoo train` alike, updated while runs train. "
        "Pick runs to overlay their curves; pick one to see its page."
    )
    listing = gr.Dataframe(runs_table(ctx), label="Runs", interactive=False, elem_id="az-runs-table")
    timer = gr.Timer(REFRESH_EVERY, active=False)  # ticks only while the tab is open (ui.app)
    with gr.Row():
        chosen = gr.Dropdown(
            run_names(ctx),
            value=[],
            multiselect=True,
            label="Compare runs",
            info="two or more",
            elem_id="az-runs-compare",
            scale=3,
        )
        compare_button = gr.Button("Compare", scale=0, elem_id="az-runs-compare-button")
    comparison_note = gr.HTML()
    with gr.Row():
        loss_plot = curve_plot("Validation loss, each epoch", "loss", "az-runs-loss")
        metric_plot = curve_plot("Validation metrics, each epoch", "value", "az-runs-metrics")
    pictures = gr.Gallery(
        None,
        label="What each run learned: the last picture it kept while it trained",
        columns=2,
        height="auto",
        object_fit="contain",
        format="png",
        elem_id="az-runs-pictures",
    )
    with gr.Row():
        settings = gr.Dataframe(table([], ["setting"]), label="Settings that differ", interactive=False, wrap=True)
        best = gr.Dataframe(table([], ["metric"]), label="Best of each metric", interactive=False, wrap=True)

    gr.Markdown("### One run")
    one = gr.Dropdown(run_names(ctx), value=None, label="Run", elem_id="az-runs-one")
    summary = gr.Markdown(elem_id="az-run-summary")
    with gr.Row():
        run_loss = curve_plot("Loss", "loss")
        run_metrics = curve_plot("Metrics", "value")
    picture = gr.Image(
        None, label="What it learned (the last epoch it kept)", interactive=False, format="png",
        elem_id="az-run-picture", height=420,
    )  # fmt: skip
    with gr.Accordion("Log, configuration and model card", open=False):
        log = gr.Textbox(label="Log", lines=10, max_lines=20, interactive=False, elem_id="az-run-log")
        config = gr.Code(label="Configuration", language="json")
        card = gr.Markdown()
    with gr.Row():
        action = gr.Dropdown(
            elem_id="az-runs-action",
            choices=["add tag", "remove tag", "set note", "rename", "resume", "delete"],
            value="add tag",
            label="Change the run",
            scale=1,
        )
        value = gr.Textbox(
            label="tag(s), note, new name, or for resume: settings such as epochs=20", scale=2, elem_id="az-runs-value"
        )
        confirmed = gr.Checkbox(False, label="yes, delete it", scale=0)
        apply = gr.Button("Apply", scale=0, elem_id="az-runs-apply")
    changed = gr.HTML(elem_id="az-runs-changed")

    shown = gr.State(None)
    timer.tick(
        partial(refresh, ctx),
        [chosen, one, shown],
        [listing, chosen, one, shown],
        api_visibility="undocumented",
        show_progress="hidden",
    )
    compare_button.click(
        partial(compare_runs, ctx),
        chosen,
        [comparison_note, loss_plot, metric_plot, settings, best, pictures],
        api_name="compare_runs",
        show_progress="hidden",
    )
    one.change(
        partial(run_page, ctx),
        one,
        [summary, run_loss, run_metrics, log, config, card, picture],
        api_name="run_page",
        show_progress="hidden",
    )
    apply.click(
        partial(change, ctx),
        [action, one, value, confirmed],
        [changed, listing],
        api_name="change_run",
        show_progress="hidden",
    )
    return {
        "refresh": (partial(refresh, ctx), [chosen, one, shown], [listing, chosen, one, shown]),
        "timer": timer,
        "one": one,  # the Studies tab opens a trial's run here
    }


def _frame(rows: list[tuple[float, float, str]]) -> pd.DataFrame | None:
    if not rows:
        return None
    return table(rows, ["epoch", "value", "series"]).astype(
        {"epoch": "float64", "value": "float64", "series": "object"}
    )


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
