"""Train tab: an architecture or preset, a dataset of its task, a form made
from its typed config and the training config, and a run streamed live.

Validation is :func:`archzoo.api.plan_run`'s (through
:meth:`archzoo.training.queue.RunManager.submit`), so a bad value gets the CLI's message:
the field, the value, what is allowed.  Runs go through the one
:class:`~archzoo.runs.RunManager` of the server: one trains, the others wait
in the visible queue.
"""

from __future__ import annotations

import io
import math
import re
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd
from PIL import Image

from archzoo.checkpoints.meta import read_meta
from archzoo.errors import ArchzooError, ConfigError
from archzoo.evaluation.accuracy import chance_note
from archzoo.registry import catalog
from archzoo.registry.plans import plan_run
from archzoo.runs.progress import metrics_text
from archzoo.training.queue import Run

from .common import AppContext, curve_plot, error_message, info, ok, problem, table, with_parameters
from .live_drawing import Drawer

#: Training settings shown at once; the rest are under "More training settings".
MAIN_TRAINING = ("epochs", "batch_size", "lr", "seed")
CURVE_COLUMNS = ["epoch", "value", "series"]
QUEUE_HEADERS = ["run", "what", "state", "submitted", "detail"]
#: Seconds between two updates of the page while a run streams.
UPDATE_EVERY = 0.5
#: The live view is drawn again at most every max(this, 4 x its drawing time) seconds: drawn in
#: its own process (ui.live_drawing) it takes no interpreter lock from the run, only a CPU for 0.1-0.2 s.
LIVE_EVERY = 1.0
DRAW_SHARE = 4
SCROLL_TO_RUN = "() => document.getElementById('az-train-status')?.scrollIntoView({block: 'start'})"
#: Seconds Stop waits for the current step to end and the checkpoint to be written.
STOP_WAIT = 30.0


def name_choices(ctx: AppContext) -> list[tuple[str, str]]:
    out = []
    for name in catalog.trainable_names(ctx.host):
        if name in ctx.host.architectures:
            out.append((f"{name} ({ctx.host.architectures[name].task})", name))
        else:
            preset = ctx.host.presets[name]
            out.append((f"{name} (preset of {preset.architecture}, for {preset.dataset})", name))
    return out


def summary_text(form: catalog.Form) -> str:
    what = "preset" if form.name != form.architecture else "architecture"
    return f"**{form.name}** ({what}, task *{form.task}*): {form.summary}"


def hint_of(field: catalog.FormField) -> str:
    """A setting's help line under its box."""
    return field.help + (f" (allowed: {field.allowed})" if field.allowed else "")


def field_component(field: catalog.FormField, visible: bool = True) -> Any:
    """The widget for one typed setting: a choice, a checkbox, a number, or text."""
    shown = {"label": field.name, "info": hint_of(field), "visible": visible}
    if field.kind == "choice":
        return gr.Dropdown(list(field.choices), value=field.value, **shown)
    if field.kind == "bool":
        return gr.Checkbox(value=bool(field.value), **shown)
    if field.kind == "int":
        return gr.Number(value=field.value, precision=0, step=1, **shown)
    if field.kind == "float":
        return gr.Number(value=field.value, step=float_step(field.value), **shown)
    return gr.Textbox(value="" if field.value is None else str(field.value), **shown)


def chance_of(result: Any, best_dir: Any) -> str:
    """A word when the run's accuracy is no better than guessing (its classes read from its checkpoint)."""
    metrics = (result.test_metrics or result.val_metrics) if result is not None else {}
    if "accuracy" not in metrics or best_dir is None:
        return ""
    try:
        classes = int(read_meta(Path(best_dir))["dataset"]["info"]["num_classes"])
    except (ArchzooError, KeyError, TypeError, ValueError):
        return ""
    return chance_note(metrics["accuracy"], classes)


def float_step(value: Any) -> float:
    """The arrows' step for a float setting: a tenth of its order of magnitude
    (0.0001 for a learning rate of 0.001), not the browser's 1."""
    try:
        size = abs(float(value))
    except (TypeError, ValueError):
        return 0.01
    return 10.0 ** (math.floor(math.log10(size)) - 1) if size > 0 else 0.01


def progress_html(run: Run | None) -> str:
    if run is None:
        return _bar(0.0, "no run yet: press Start")
    p = run.progress
    if run.state == "queued":
        return _bar(0.0, "waiting in the queue")
    if not p.total_steps:
        return _bar(0.0, "loading the data and building the model…" if not run.done else run.state)
    text = f"step {p.step:,} / {p.total_steps:,} · epoch {max(p.epoch, 1)} / {p.epochs}"
    if run.done:
        text += f" · {run.state}"
    return _bar(p.fraction, text)


def _bar(fraction: float, text: str) -> str:
    percent = max(0.0, min(fraction, 1.0)) * 100
    return (
        f'<div class="az-progress" role="progressbar" aria-valuenow="{percent:.0f}" aria-valuemin="0" '
        'aria-valuemax="100">'
        f'<div class="az-progress-fill" style="width:{percent:.1f}%"></div>'
        f'<div class="az-progress-text">{percent:.0f}% · {text}</div></div>'
    )


def curve_frame(rows: list[tuple[float, float, str]]) -> pd.DataFrame | None:
    """Rows of (epoch, value, series) as the frame a line plot takes; ``None``
    while there are none (Gradio 6 draws no lines in a plot that was first
    given an empty frame, so an empty plot is left without a value)."""
    if not rows:
        return None
    return table(rows, CURVE_COLUMNS).astype({"epoch": "float64", "value": "float64", "series": "object"})


def curves(run: Run | None) -> tuple[pd.DataFrame | None, pd.DataFrame | None, pd.DataFrame | None]:
    """The three plots: loss at every step, loss per epoch, other metrics per epoch.

    Each plot's series all start together (Gradio 6 fixes a plot's legend when
    its first data arrive, so a series added later would not be drawn)."""
    if run is None:
        return None, None, None
    p = run.progress
    return curve_frame(p.loss_curve()), curve_frame(p.epoch_loss_curve()), curve_frame(p.metric_curve())


def metrics_label(run: Run) -> str:
    """The metrics chart's title; it says so when the model reports nothing but its loss (the DDPM), not
    an empty chart that looks broken."""
    if run.progress.epoch_rows and not run.progress.metric_curve(max_epochs=1):
        return "Metrics, each epoch: this model reports only its loss (left)"
    return "Metrics, each epoch"


def queue_table(ctx: AppContext) -> pd.DataFrame:
    return table([[r.id, r.label, r.state, r.submitted, r.detail] for r in ctx.runs.rows()], QUEUE_HEADERS)


def status_html(ctx: AppContext, run: Run) -> str:
    if run.state == "queued":
        position = ctx.runs.position(run)
        ahead = max(position - 1, 0)
        holder = ctx.runs.holder()
        if holder is not None:
            return info(
                f"Waiting in the queue (position {position}): {holder.label} is training on this server "
                "(see the Studies tab), and one training runs at a time. Your run starts when the study ends "
                "or is stopped; Stop takes it out of the queue."
            )
        return info(
            f"Waiting in the queue (position {position}): one run trains at a time and "
            f"{ahead + 1} run(s) are ahead of yours. It starts by itself; Stop takes it out of the queue."
        )
    if run.state == "running":
        where = f" into {run.out_dir}" if run.out_dir else ""
        return info(
            f"Training {run.label}{where}. Stop ends it after the current step and keeps a resumable checkpoint."
        )
    p = run.progress
    if run.state in ("finished", "stopped-early"):
        result = run.result
        score = ""
        if result is not None and result.test_metrics:
            score = "test " + metrics_text(result.test_metrics) + ". "
        elif result is not None and result.val_metrics:
            score = "validation " + metrics_text(result.val_metrics) + ". "
        early = " (stopped early: no better validation result)" if run.state == "stopped-early" else ""
        done = (
            f"Finished{early} in {result.seconds:.1f}s: {score}Best checkpoint: {p.best_dir}. "
            "Try it in the Inference tab, or measure it in Evaluate."
        )
        guessing = chance_of(result, p.best_dir)
        return info(f"{done} {guessing}") if guessing else ok(done)
    if run.state == "cancelled":
        if p.last_dir is None:
            return info("Cancelled before it started; nothing was written.")
        return ok(
            f"Stopped. A resumable checkpoint is in {p.last_dir}: press Resume to continue it "
            f"(or run: archzoo train --out {run.out_dir} --resume)."
        )
    return problem(run.error or "the run failed")


def study_running(label: str) -> str:
    return info(
        f"{label} is training on this server (see the Studies tab): one training runs at a time, "
        "so a run started here waits in the queue until the study ends or is stopped."
    )


def log_text(run: Run | None, limit: int = 300) -> str:
    if run is None:
        return ""
    return "\n".join(run.progress.log[-limit:])


def _identifier(text: str) -> str:
    return re.sub(r"\W", "_", text)


@dataclass
class TrainForm:
    """The settings half of the tab: what to train, on what, and every typed setting.

    Each architecture has its own group of model settings (shown when it is
    chosen); ``model_keys`` says which (architecture, field) each model widget is."""

    name: Any
    dataset: Any
    summary: Any
    groups: dict[str, Any]
    model_keys: list[tuple[str, str]]
    model_components: list[Any]
    train_components: dict[str, Any]
    #: The setting each of :meth:`settings` is, in that order.
    fields: list[catalog.FormField]
    data_dir: Any
    download: Any
    run_name: Any

    def owners(self) -> list[str | None]:
        """Whose each of :meth:`settings` is: its architecture, or None for a training setting."""
        return [arch for arch, _ in self.model_keys] + [None] * len(self.train_components)

    def settings(self) -> list[Any]:
        """Every setting's widget: each architecture's model settings, then the training settings."""
        return [*self.model_components, *self.train_components.values()]

    def inputs(self) -> list[Any]:
        return [
            self.name,
            self.dataset,
            self.data_dir,
            self.download,
            self.run_name,
            *self.model_components,
            *self.train_components.values(),
        ]

    def parameter_names(self) -> list[str]:
        """The API names of :meth:`inputs`, so gradio_client users pass settings by name."""
        names = ["name", "dataset", "data_dir", "download", "run_name"]
        names += [_identifier(f"{arch}_{field}") for arch, field in self.model_keys]
        return names + [_identifier(k) for k in self.train_components]

    def overrides(self, ctx: AppContext, chosen: str, values: tuple) -> dict[str, Any]:
        """The settings the chosen architecture's widgets and the training widgets hold,
        less those equal to what the architecture or preset already sets."""
        spec, _ = ctx.host.resolve(chosen)
        model_values, train_values = values[: len(self.model_keys)], values[len(self.model_keys) :]
        chosen_values = {f: _blank(v) for (arch, f), v in zip(self.model_keys, model_values) if arch == spec.name}
        chosen_values.update({k: _blank(v) for k, v in zip(self.train_components, train_values)})
        return catalog.overrides_from_form(chosen_values, chosen, ctx.host)


@dataclass
class RunView:
    """The run half of the tab: the buttons, and what a run shows while it trains."""

    start: Any
    stop: Any
    resume: Any
    status: Any
    progress: Any
    loss_plot: Any
    epoch_plot: Any
    metric_plot: Any
    live: Any
    log: Any
    queue: Any
    refresh: Any
    run_id: Any
    #: This page's ``{"run": id}``: the one run its streams show (a State is one object per page).
    following: Any

    def outputs(self) -> list[Any]:
        return [
            self.status,
            self.progress,
            self.loss_plot,
            self.epoch_plot,
            self.metric_plot,
            self.live,
            self.log,
            self.queue,
            self.run_id,
        ]


def build(ctx: AppContext) -> dict:
    """Build the tab; its run buttons are wired by the returned ``connect``
    once the other tabs exist (their checkpoint drop-downs follow each run)."""
    gr.Markdown(
        "Pick what to train and press **Start**. The defaults train a small multilayer perceptron on "
        "scikit-learn's 8x8 handwritten digits in seconds. Every setting is checked the way "
        "`archzoo train --set KEY=VALUE` checks it."
    )
    form = _settings_form(ctx)
    view = _run_view(ctx)
    form.name.change(
        partial(_choose, ctx, form),
        form.name,
        [form.dataset, form.summary, *form.groups.values(), *form.settings()],
        api_visibility="undocumented",
    ).then(partial(fit_to_data, ctx, form), [form.name, form.dataset], form.settings(), api_visibility="undocumented")
    form.dataset.change(
        partial(fit_to_data, ctx, form), [form.name, form.dataset], form.settings(), api_visibility="undocumented"
    )
    view.start.click(
        partial(mark_bad_setting, ctx, form), form.inputs(), form.settings(), api_visibility="undocumented"
    )
    return {
        "name": form.name,
        "dataset": form.dataset,
        "start": view.start,
        "status": view.status,
        "connect": partial(_connect, ctx, form, view),
    }


def _settings_form(ctx: AppContext) -> TrainForm:
    host = ctx.host
    default = host.settings.default_architecture
    first = catalog.form(default, host)
    with gr.Row():
        name = gr.Dropdown(
            name_choices(ctx),
            value=default,
            label="Architecture or preset",
            elem_id="az-train-name",
            info="a preset is a named recipe: an architecture with settings and a dataset",
        )
        dataset = gr.Dropdown(
            list(first.datasets),
            value=first.dataset,
            label="Dataset",
            allow_custom_value=True,
            info="datasets of this architecture's task, or type the path of an image folder",
            elem_id="az-train-dataset",
        )
    summary = gr.Markdown(summary_text(first))
    kinds = catalog.data_kinds(first.dataset, host)
    groups, model_keys, model_fields, model_components = _model_settings(ctx, first.architecture, kinds)
    train_fields = [f for f in first.fields if f.section == "training"]
    train_components = _training_settings(train_fields, kinds, catalog.run_task(first.name, first.dataset, host))
    with gr.Accordion("Data and output", open=False):
        with gr.Row():
            data_dir = gr.Textbox(
                "", label="data folder", info="where the dataset's files are, if not in the usual places"
            )
            download = gr.Checkbox(
                False, label="allow downloading the dataset", info="nothing is downloaded unless this is ticked"
            )
            run_name = gr.Textbox(
                "",
                label="run name",
                info="a folder in the checkpoint store; empty for ARCH-DATASET-DATE-TIME",
                elem_id="az-train-run-name",
            )
    return TrainForm(
        name,
        dataset,
        summary,
        groups,
        model_keys,
        model_components,
        train_components,
        [*model_fields, *({f.name: f for f in train_fields}[name] for name in train_components)],
        data_dir,
        download,
        run_name,
    )


def _model_settings(ctx: AppContext, shown: str, kinds: frozenset[str] | None) -> tuple[dict, list, list, list]:
    """One group of widgets per architecture, three to a row; only ``shown``'s is visible.
    -> (groups, (architecture, field) keys, fields, widgets)."""
    groups: dict[str, Any] = {}
    keys: list[tuple[str, str]] = []
    described: list[catalog.FormField] = []
    components: list[Any] = []
    with gr.Accordion("Model settings", open=True):
        for arch in sorted(ctx.host.architectures):
            try:
                arch_form = catalog.form(arch, ctx.host)
            except Exception as exc:  # a third-party config whose defaults do not validate
                gr.Markdown(f"*{arch}: its settings cannot be shown ({exc})*", visible=arch == shown)
                continue
            with gr.Column(visible=arch == shown) as group:
                fields = [f for f in arch_form.fields if f.section == "model"]
                if not fields:
                    gr.Markdown(f"*{arch} has no settings of its own.*")
                for row in range(0, len(fields), 3):
                    with gr.Row():
                        for field in fields[row : row + 3]:
                            keys.append((arch, field.name))
                            described.append(field)
                            components.append(field_component(field, catalog.applies(field, kinds)))
            groups[arch] = group
    return groups, keys, described, components


def _training_settings(
    fields: list[catalog.FormField], kinds: frozenset[str] | None, task: str | None
) -> dict[str, Any]:
    """The training settings: the main ones in a row, the rest folded away."""
    components: dict[str, Any] = {}
    with gr.Accordion("Training settings", open=True):
        with gr.Row():
            for field in fields:
                if field.name in MAIN_TRAINING:
                    components[field.name] = field_component(field, catalog.applies(field, kinds, task))
        with gr.Accordion("More training settings", open=False):
            for field in fields:
                if field.name not in MAIN_TRAINING:
                    components[field.name] = field_component(field, catalog.applies(field, kinds, task))
    return components


def fit_to_data(ctx: AppContext, form: TrainForm, chosen: str | None, dataset: str | None) -> list[Any]:
    """Show the chosen architecture's settings that its dataset reads, hide the others
    (tokenizer settings for images, the U-Net's for 2-D points)."""
    try:
        spec, _ = ctx.host.resolve(chosen or ctx.host.settings.default_architecture)
    except ArchzooError:
        return [gr.skip() for _ in form.fields]
    kinds, task = catalog.data_kinds(dataset, ctx.host), catalog.run_task(spec.name, dataset, ctx.host)
    return [
        gr.update(visible=catalog.applies(field, kinds, task)) if owner in (None, spec.name) else gr.skip()
        for owner, field in zip(form.owners(), form.fields)
    ]


def mark_bad_setting(ctx: AppContext, form: TrainForm, *values: Any) -> list[Any]:
    """After Start: the setting the checks refuse marked, its box saying why; every other
    setting back to its help line.  The checks are ``archzoo train --set``'s (``plan_run``)."""
    chosen, dataset = values[0] or ctx.host.settings.default_architecture, values[1]
    bad = None
    try:
        spec, _ = ctx.host.resolve(chosen)
        plan_run(chosen, dataset=dataset or None, overrides=form.overrides(ctx, chosen, values[5:]), host=ctx.host)
    except ConfigError as exc:
        bad = exc
    except ArchzooError:
        return [gr.skip() for _ in form.fields]  # not a setting's fault: the status says what is wrong
    return _marked(form, spec.name, bad)


def mark_refused_by_run(ctx: AppContext, form: TrainForm, chosen: str | None, following: dict) -> list[Any]:
    """After the run Start began has ended: a setting it was refused for once it began (a
    model that cannot be built with it, e.g. heads that do not divide the width) marked
    as :func:`mark_bad_setting` marks those refused before."""
    bad = following.pop("refused", None)
    if bad is None:
        return [gr.skip() for _ in form.fields]
    try:
        spec, _ = ctx.host.resolve(chosen or ctx.host.settings.default_architecture)
    except ArchzooError:
        return [gr.skip() for _ in form.fields]
    return _marked(form, spec.name, bad)


def _marked(form: TrainForm, architecture: str, bad: ConfigError | None) -> list[Any]:
    """The form's updates: ``bad``'s field (of ``architecture`` or of training) marked, its box
    saying why; every other setting of theirs back to its help line."""
    updates = []
    for owner, field in zip(form.owners(), form.fields):
        if owner not in (None, architecture):
            updates.append(gr.skip())
        elif bad is not None and bad.field == field.name:
            updates.append(gr.update(info=f"⚠ {bad.value!r} is refused: {bad.allowed}", elem_classes=["az-bad"]))
        else:
            updates.append(gr.update(info=hint_of(field), elem_classes=[]))
    return updates


def _run_view(ctx: AppContext) -> RunView:
    with gr.Row():
        start = gr.Button("Start", variant="primary", elem_id="az-train-start")
        stop = gr.Button("Stop", variant="stop", elem_id="az-train-stop")
        resume = gr.Button("Resume", elem_id="az-train-resume")
    status = gr.HTML(elem_id="az-train-status")
    progress = gr.HTML(progress_html(None), elem_id="az-train-progress")
    live_view = gr.Image(
        None,
        label="What the model learned, each epoch",
        interactive=False,
        visible=False,
        elem_id="az-train-live",
        format="png",
        height=420,
    )
    with gr.Row():
        loss_plot = curve_plot("Training loss, every step", "loss", "az-loss-plot")
        epoch_plot = curve_plot("Loss, each epoch", "loss", "az-epoch-plot")
        metric_plot = curve_plot("Metrics, each epoch", "value", "az-metric-plot")
    log = gr.Textbox(label="Log", lines=8, max_lines=14, autoscroll=True, interactive=False, elem_id="az-train-log")
    with gr.Row():
        queue = gr.Dataframe(
            queue_table(ctx),
            label="Runs on this server: one trains at a time, the others wait here",
            interactive=False,
            wrap=True,
            elem_id="az-train-queue",
            scale=5,
        )
        refresh = gr.Button("Refresh", size="sm", scale=0)
    return RunView(
        start,
        stop,
        resume,
        status,
        progress,
        loss_plot,
        epoch_plot,
        metric_plot,
        live_view,
        log,
        queue,
        refresh,
        gr.State(None),
        gr.State(dict),
    )


def _choose(ctx: AppContext, form: TrainForm, chosen: str) -> list[Any]:
    """A new architecture or preset: its datasets, summary, settings group and values."""
    skipped = len(form.groups) + len(form.model_components) + len(form.train_components)
    try:
        f = catalog.form(chosen, ctx.host)
    except Exception as exc:
        return [gr.skip(), error_message(exc)] + [gr.skip() for _ in range(skipped)]
    values = {x.name: x.value for x in f.fields}
    out: list[Any] = [gr.update(choices=list(f.datasets), value=f.dataset), summary_text(f)]
    out += [gr.update(visible=a == f.architecture) for a in form.groups]
    out += [
        gr.update(value=values[field]) if a == f.architecture and field in values else gr.skip()
        for a, field in form.model_keys
    ]
    out += [gr.update(value=values[k]) if k in values else gr.skip() for k in form.train_components]
    return out


def _connect(ctx: AppContext, form: TrainForm, view: RunView, followers: list[Any], app: gr.Blocks) -> None:
    """Wire Start, Stop, Resume and Refresh; ``followers`` are checkpoint drop-downs
    of other tabs, pointed at a run's best checkpoint when it ends.  A page opened
    (or reloaded) while a run trains shows that run, whole, with a working Stop."""
    outputs = [*view.outputs(), *followers]
    # Every page follows on its own, so no limit; a page's Start or Resume takes over from it.
    app.load(
        partial(_attach, ctx, len(followers)),
        view.following,
        outputs,
        api_visibility="undocumented",
        concurrency_limit=None,
        show_progress="hidden",
    )
    start = with_parameters(partial(_start, ctx, form, len(followers)), [*form.parameter_names(), "following"])
    view.start.click(
        start,
        [*form.inputs(), view.following],
        outputs,
        api_name="train",
        concurrency_limit=None,
        show_progress="hidden",
    ).then(
        partial(mark_refused_by_run, ctx, form),
        [form.name, view.following],
        form.settings(),
        api_visibility="undocumented",
        show_progress="hidden",
    )
    # The form is long: after Start (or Resume) bring the run's status, progress and pictures into sight.
    for button in (view.start, view.resume):
        button.click(None, None, None, js=SCROLL_TO_RUN, api_visibility="undocumented")
    view.stop.click(
        partial(_stop, ctx),
        view.run_id,
        [view.status, view.queue],
        api_name="stop",
        concurrency_limit=None,
        show_progress="hidden",
    )
    view.resume.click(
        partial(_resume, ctx, len(followers)),
        [view.run_id, view.following],
        outputs,
        api_name="resume",
        concurrency_limit=None,
        show_progress="hidden",
    )
    view.refresh.click(partial(queue_table, ctx), None, view.queue, api_name="runs", show_progress="hidden")


def _attach(ctx: AppContext, followers: int, following: dict):
    """Follow the server's active run, if there is one; otherwise leave the page as it is."""
    run = ctx.runs.active()
    if run is None:
        holder = ctx.runs.holder()
        if holder is None:
            yield [gr.skip() for _ in range(9 + followers)]
        else:
            yield _message_only(ctx, study_running(holder.label), followers)
        return
    yield from _follow(ctx, run, followers, following)


def _start(ctx: AppContext, form: TrainForm, followers: int, *values: Any):
    *values, following = values
    chosen, data, folder, allow_download, out = values[:5]
    chosen = chosen or ctx.host.settings.default_architecture
    try:
        run = ctx.runs.submit(
            chosen,
            dataset=data,
            overrides=form.overrides(ctx, chosen, values[5:]),
            out=(out or "").strip() or None,
            data_dir=(folder or "").strip() or None,
            download=bool(allow_download),
        )
    except Exception as exc:
        yield _message_only(ctx, error_message(exc), followers)
        return
    yield from _follow(ctx, run, followers, following)


def _stop(ctx: AppContext, current: str | None):
    """Stop the page's run and, when it ends within :data:`STOP_WAIT` seconds, show
    how it ended: the Stop answer is then the last word, whichever stream is faster."""
    if not current:
        return info("Nothing to stop: this page has not started a run."), queue_table(ctx)
    said = ctx.runs.stop(current)
    run = ctx.runs.get(current)
    if run is not None and run.wait(STOP_WAIT):
        return status_html(ctx, run), queue_table(ctx)
    return info(said), queue_table(ctx)


def _resume(ctx: AppContext, followers: int, current: str | None, following: dict):
    run = ctx.runs.get(current) if current else None
    if run is None or run.state != "cancelled" or run.out_dir is None or run.progress.last_dir is None:
        yield _message_only(ctx, info("Nothing to resume: Resume continues a run this page stopped."), followers)
        return
    try:
        again = ctx.runs.submit(
            run.request.name,
            out=str(run.out_dir),
            resume=True,
            data_dir=run.request.data_dir,
            download=run.request.download,
        )
    except Exception as exc:
        yield _message_only(ctx, error_message(exc), followers)
        return
    yield from _follow(ctx, again, followers, following)


def _follow(ctx: AppContext, run: Run, followers: int, following: dict):
    """Stream a run's view to the page, at most every :data:`UPDATE_EVERY` seconds, until
    it is over or the page starts following another run (its own Start or Resume)."""
    following["run"] = run.id
    seen, last = 0, 0.0
    shown: dict[str, Any] = {}  # the epoch of the live view on the page, and when it may be drawn again
    while following.get("run") == run.id:
        seen += len(run.events_since(seen, timeout=0.5))
        done = run.done
        now = time.monotonic()
        if done or now - last >= UPDATE_EVERY:
            yield _view(ctx, run, followers, shown)
            last = now
        if done:
            if run.refused is not None:
                following["refused"] = run.refused  # for mark_refused_by_run, when the stream ends
            return


def live_update(run: Run, shown: dict[str, Any], drawer: Drawer) -> Any:
    """The newest kept epoch of the run's live view (:mod:`archzoo.inference.views.live`), drawn
    by ``drawer`` (its own process) when there is a newer one and :data:`LIVE_EVERY` allows (the
    last always); hidden without one."""
    kept = run.progress.views
    if not kept or run.out_dir is None:
        first = "epoch" not in shown
        shown["epoch"] = None
        return gr.update(value=None, visible=False) if first else gr.skip()
    name, frames = next(iter(kept.items()))
    epoch = frames[-1][0]
    now = time.monotonic()
    if epoch == shown.get("epoch") or (now < shown.get("next", 0.0) and not run.done):
        return gr.skip()
    began = time.perf_counter()
    try:
        picture = Image.open(io.BytesIO(drawer.draw(run.out_dir, name, epoch)))
    except Exception as exc:  # a picture that cannot be drawn must not end the stream
        shown.update(epoch=epoch, next=now + LIVE_EVERY)
        return gr.update(label=f"the live view could not be drawn: {exc}")
    cost = time.perf_counter() - began
    shown.update(epoch=epoch, next=now + max(LIVE_EVERY, DRAW_SHARE * cost))
    what = "decision boundary" if name == "boundary" else "samples"
    return gr.update(value=picture, visible=True, label=f"{what} after epoch {epoch}")


def _view(ctx: AppContext, run: Run, followers: int, shown: dict[str, Any]) -> list[Any]:
    loss, epoch_loss, metric = curves(run)
    base = [
        status_html(ctx, run),
        progress_html(run),
        loss,
        epoch_loss,
        gr.update(value=metric, label=metrics_label(run)),
        live_update(run, shown, ctx.drawer),
        log_text(run),
        queue_table(ctx),
        run.id,
    ]
    return base + _follow_updates(ctx, run, followers)


def _message_only(ctx: AppContext, text: str, followers: int) -> list[Any]:
    """Outputs that show ``text`` and the queue, leaving the rest of the page as it is."""
    return [text] + [gr.skip() for _ in range(6)] + [queue_table(ctx), gr.skip()] + [gr.skip()] * followers


def _follow_updates(ctx: AppContext, run: Run, count: int) -> list[Any]:
    """Point the other tabs' checkpoint drop-downs at the run's best checkpoint once it is over."""
    if not count:
        return []
    best = run.progress.best_dir
    if not run.done or best is None:
        return [gr.skip() for _ in range(count)]
    from .common import checkpoint_choices

    options = checkpoint_choices(ctx)
    return [gr.update(choices=options, value=str(best)) for _ in range(count)]  # one dict each: Gradio consumes them


def _blank(value: Any) -> Any:
    """An emptied number box arrives as None; report it as the empty text it was."""
    return "" if value is None else value
