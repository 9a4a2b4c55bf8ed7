"""Train tab: an architecture or preset, a dataset of its task, a form made
from its typed config and the training config, and a run streamed live.

Validation is :func:`archzoo.api.plan_run`'s (through
:meth:`archzoo.training.queue.RunManager.submit`), so a bad value gets the CLI's message:
the field, the value, what is allowed.  Runs go through the one
:class:`~archzoo.runs.RunManager` of the server: one trains, the others wait
in the visible queue.
"""

from __future__ import annotations

import re
import time
from typing import Any

import gradio as gr
import pandas as pd

from archzoo.registry import catalog
from archzoo.training.queue import Run

from .common import AppContext, error_message, info, ok, problem, table, with_parameters

#: Training settings shown at once; the rest are under "More training settings".
MAIN_TRAINING = ("epochs", "batch_size", "lr", "seed")
CURVE_COLUMNS = ["epoch", "value", "series"]
QUEUE_HEADERS = ["run", "what", "state", "submitted", "detail"]
#: Seconds between two updates of the page while a run streams.
UPDATE_EVERY = 0.3


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


def field_component(field: catalog.FormField) -> Any:
    """The widget for one typed setting: a choice, a checkbox, a number, or text."""
    hint = field.help + (f" (allowed: {field.allowed})" if field.allowed else "")
    if field.kind == "choice":
        return gr.Dropdown(list(field.choices), value=field.value, label=field.name, info=hint)
    if field.kind == "bool":
        return gr.Checkbox(value=bool(field.value), label=field.name, info=hint)
    if field.kind in ("int", "float"):
        return gr.Number(value=field.value, label=field.name, info=hint)
    return gr.Textbox(value="" if field.value is None else str(field.value), label=field.name, info=hint)


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


def queue_table(ctx: AppContext) -> pd.DataFrame:
    return table([[r.id, r.label, r.state, r.submitted, r.detail] for r in ctx.runs.rows()], QUEUE_HEADERS)


def status_html(ctx: AppContext, run: Run) -> str:
    if run.state == "queued":
        position = ctx.runs.position(run)
        ahead = max(position - 1, 0)
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
            score = "test " + ", ".join(f"{k} {v:.4f}" for k, v in result.test_metrics.items()) + ". "
        elif result is not None and result.val_metrics:
            score = "validation " + ", ".join(f"{k} {v:.4f}" for k, v in result.val_metrics.items()) + ". "
        early = " (stopped early: no better validation result)" if run.state == "stopped-early" else ""
        return ok(
            f"Finished{early} in {result.seconds:.1f}s: {score}Best checkpoint: {p.best_dir}. "
            "Try it in the Inference tab, or measure it in Evaluate."
        )
    if run.state == "cancelled":
        if p.last_dir is None:
            return info("Cancelled before it started; nothing was written.")
        return ok(
            f"Stopped. A resumable checkpoint is in {p.last_dir}: press Resume to continue it "
            f"(or run: archzoo train --out {run.out_dir} --resume)."
        )
    return problem(run.error or "the run failed")


def log_text(run: Run | None, limit: int = 300) -> str:
    if run is None:
        return ""
    return "\n".join(run.progress.log[-limit:])


def _identifier(text: str) -> str:
    return re.sub(r"\W", "_", text)


def build(ctx: AppContext) -> dict:
    """Build the tab; its run buttons are wired by the returned ``connect``
    once the other tabs exist (their checkpoint drop-downs follow each run)."""
    host = ctx.host
    default = host.settings.default_architecture
    first = catalog.form(default, host)

    gr.Markdown(
        "Pick what to train and press **Start**. The defaults train a small multilayer perceptron on "
        "scikit-learn's 8x8 handwritten digits in seconds. Every setting is checked the way "
        "`archzoo train --set KEY=VALUE` checks it."
    )
    with gr.Row():
        name = gr.Dropdown(
            name_choices(ctx),
            value=default,
            label="Architecture or preset",
            info="a preset is a named recipe: an architecture with settings and a dataset",
            elem_id="az-train-name",
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

    model_keys: list[tuple[str, str]] = []
    model_components: list[Any] = []
    groups: dict[str, Any] = {}
    with gr.Accordion("Model settings", open=True):
        for arch in sorted(host.architectures):
            try:
                arch_form = catalog.form(arch, host)
            except Exception as exc:  # a third-party config whose defaults do not validate
                gr.Markdown(f"*{arch}: its settings cannot be shown ({exc})*", visible=arch == first.architecture)
                continue
            with gr.Column(visible=arch == first.architecture) as group:
                fields = [f for f in arch_form.fields if f.section == "model"]
                if not fields:
                    gr.Markdown(f"*{arch} has no settings of its own.*")
                for row in range(0, len(fields), 3):
                    with gr.Row():
                        for field in fields[row : row + 3]:
                            model_keys.append((arch, field.name))
                            model_components.append(field_component(field))
            groups[arch] = group

    train_fields = [f for f in first.fields if f.section == "training"]
    train_components: dict[str, Any] = {}
    with gr.Accordion("Training settings", open=True):
        with gr.Row():
            for field in train_fields:
                if field.name in MAIN_TRAINING:
                    train_components[field.name] = field_component(field)
        with gr.Accordion("More training settings", open=False):
            for field in train_fields:
                if field.name not in MAIN_TRAINING:
                    train_components[field.name] = field_component(field)
    train_keys = list(train_components)
    with gr.Accordion("Data and output", open=False):
        with gr.Row():
            data_dir = gr.Textbox(
                "", label="data folder", info="where the dataset's files are, if not in the usual places"
            )
            download = gr.Checkbox(
                False, label="allow downloading the dataset", info="nothing is downloaded unless this is ticked"
            )
            run_name = gr.Textbox(
                "", label="run name", info="a folder in the checkpoint store; empty for ARCH-DATASET-DATE-TIME"
            )

    with gr.Row():
        start = gr.Button("Start", variant="primary", elem_id="az-train-start")
        stop = gr.Button("Stop", variant="stop", elem_id="az-train-stop")
        resume = gr.Button("Resume", elem_id="az-train-resume")
    status = gr.HTML(elem_id="az-train-status")
    progress = gr.HTML(progress_html(None), elem_id="az-train-progress")
    with gr.Row():
        loss_plot = gr.LinePlot(
            None,
            x="epoch",
            y="value",
            color="series",
            label="Training loss, every step",
            y_title="loss",
            x_title="epoch",
            elem_id="az-loss-plot",
        )
        epoch_plot = gr.LinePlot(
            None,
            x="epoch",
            y="value",
            color="series",
            label="Loss, each epoch",
            y_title="loss",
            x_title="epoch",
            elem_id="az-epoch-plot",
        )
        metric_plot = gr.LinePlot(
            None,
            x="epoch",
            y="value",
            color="series",
            label="Metrics, each epoch",
            y_title="value",
            x_title="epoch",
            elem_id="az-metric-plot",
        )
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
        refresh_queue = gr.Button("Refresh", size="sm", scale=0)
    run_id = gr.State(None)

    # -- events ------------------------------------------------------------------------

    arch_names = list(groups)

    def choose(chosen: str):
        try:
            f = catalog.form(chosen, host)
        except Exception as exc:
            return [gr.skip(), error_message(exc)] + [
                gr.skip() for _ in range(len(arch_names) + len(model_components) + len(train_keys))
            ]
        values = {x.name: x.value for x in f.fields}
        out: list[Any] = [gr.update(choices=list(f.datasets), value=f.dataset), summary_text(f)]
        out += [gr.update(visible=a == f.architecture) for a in arch_names]
        out += [
            gr.update(value=values[field]) if a == f.architecture and field in values else gr.skip()
            for a, field in model_keys
        ]
        out += [gr.update(value=values[k]) if k in values else gr.skip() for k in train_keys]
        return out

    name.change(
        choose,
        name,
        [dataset, summary, *[groups[a] for a in arch_names], *model_components, *train_components.values()],
        api_visibility="undocumented",
    )

    def connect(followers: list[Any]) -> None:
        """Wire Start, Stop, Resume; ``followers`` are checkpoint drop-downs
        of other tabs, pointed at a run's best checkpoint when it ends."""

        def message_only(text: str) -> list[Any]:
            """Outputs that show ``text`` and the queue, leaving the rest of the page as it is."""
            return (
                [text] + [gr.skip() for _ in range(5)] + [queue_table(ctx), gr.skip()] + [gr.skip() for _ in followers]
            )

        def view(run: Run):
            loss, epoch_loss, metric = curves(run)
            base = [
                status_html(ctx, run),
                progress_html(run),
                loss,
                epoch_loss,
                metric,
                log_text(run),
                queue_table(ctx),
                run.id,
            ]
            return base + _follow_updates(ctx, run, len(followers))

        def follow(run: Run):
            seen, last = 0, 0.0
            while True:
                new = run.events_since(seen, timeout=0.5)
                seen += len(new)
                done = run.done
                now = time.monotonic()
                if done or now - last >= UPDATE_EVERY:
                    yield view(run)
                    last = now
                if done:
                    return

        def start_run(*values):
            chosen, data, folder, allow_download, out = values[:5]
            rest = values[5:]
            try:
                spec, _ = host.resolve(chosen or default)
                form_values = {field: _blank(v) for (arch, field), v in zip(model_keys, rest) if arch == spec.name}
                form_values.update({k: _blank(v) for k, v in zip(train_keys, rest[len(model_keys) :])})
                overrides = catalog.overrides_from_form(form_values, chosen or default, host)
                run = ctx.runs.submit(
                    chosen or default,
                    dataset=data,
                    overrides=overrides,
                    out=(out or "").strip() or None,
                    data_dir=(folder or "").strip() or None,
                    download=bool(allow_download),
                )
            except Exception as exc:
                yield message_only(error_message(exc))
                return
            yield from follow(run)

        parameter_names = ["name", "dataset", "data_dir", "download", "run_name"]
        parameter_names += [_identifier(f"{arch}_{field}") for arch, field in model_keys] + [
            _identifier(k) for k in train_keys
        ]
        outputs = [status, progress, loss_plot, epoch_plot, metric_plot, log, queue, run_id, *followers]
        start.click(
            with_parameters(start_run, parameter_names),
            [name, dataset, data_dir, download, run_name, *model_components, *train_components.values()],
            outputs,
            api_name="train",
            concurrency_limit=None,
            show_progress="hidden",
        )

        def stop_run(current: str | None):
            if not current:
                return info("Nothing to stop: this page has not started a run."), queue_table(ctx)
            return info(ctx.runs.stop(current)), queue_table(ctx)

        stop.click(stop_run, run_id, [status, queue], api_name="stop", show_progress="hidden")

        def resume_run(current: str | None):
            run = ctx.runs.get(current) if current else None
            if run is None or run.state != "cancelled" or run.out_dir is None or run.progress.last_dir is None:
                yield message_only(info("Nothing to resume: Resume continues a run this page stopped."))
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
                yield message_only(error_message(exc))
                return
            yield from follow(again)

        resume.click(resume_run, run_id, outputs, api_name="resume", concurrency_limit=None, show_progress="hidden")
        refresh_queue.click(lambda: queue_table(ctx), None, queue, api_name="runs", show_progress="hidden")

    return {"name": name, "dataset": dataset, "start": start, "status": status, "connect": connect}


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
