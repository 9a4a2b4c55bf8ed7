"""Studies tab: start a study (a shipped one, or a grid over the Train form's fields),
watch its trials fill the table and its plot, stop it, continue it, open a trial as a run.

A study runs in the server's one study worker (:mod:`.study_worker`), holding the
training slot the Train tab's runs share.  What the tab shows is read from the study's
Optuna storage on every look (:mod:`.study_view`), so a reloaded page, a second
browser, and a study worked on by ``archzoo study work`` all show the same thing.
The timer refreshes it only while the tab is open (ui.app).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import gradio as gr
from optuna.trial import TrialState

from archzoo.errors import ArchzooError
from archzoo.registry import catalog
from archzoo.runs.listing import list_runs
from archzoo.studies.spec import StudySpec, shipped_studies
from archzoo.studies.work import load

from .common import AppContext, error_message, info, ok, problem, table, with_parameters
from .study_specs import checked_spec, grid_spec
from .study_view import TRIAL_HEADERS, PlotCache, cell_rows, look, stored_names
from .study_worker import StudyWorker
from .train_tab import name_choices

#: Seconds between two looks at the study while the tab is open.
REFRESH_EVERY = 2.0
#: Rows "field -> values" of a grid.
GRID_ROWS = 3
SHIPPED, GRID = "a shipped study", "a grid of my own"


# -- the form --------------------------------------------------------------------------


def shipped_text(name: str | None) -> str:
    """A shipped study's card: where in the notes, what it is about, its cells and the notes' numbers."""
    spec = shipped_studies().get(name or "")
    if spec is None:
        return "*Pick a shipped study.*"
    lines = [
        f"**{spec.name}**" + (f" · notes {spec.section}" if spec.section else ""),
        "",
        spec.about,
        "",
        f"{spec.target}" + (f" on {spec.dataset}" if spec.dataset else "") + f" · judged by `{spec.metric}` · "
        f"{len(spec.cells)} cells x {spec.seeds} seed(s) = {len(spec.trials())} trials"
        + (" · every trial: " + ", ".join(f"`{k}={v}`" for k, v in spec.base.items()) if spec.base else ""),
        "",
        "| cell | settings |" + (" notes |" if spec.printed else ""),
        "|---|---|" + ("---|" if spec.printed else ""),
    ]
    for cell in spec.cells:
        said = ", ".join(f"`{k}={v}`" for k, v in cell.settings.items())
        printed = spec.printed.get(cell.label)
        lines.append(
            f"| {cell.label} | {said} |"
            + (f" {'-' if printed is None else f'{printed:.4f}'} |" if spec.printed else "")
        )
    return "\n".join(lines)


def field_choices(ctx: AppContext, target: str | None) -> list[str]:
    """The settings a grid may vary: the target's model fields, then the training fields."""
    form = catalog.form(target or ctx.host.settings.default_architecture, ctx.host)
    return [f.name for f in form.fields if f.section == "model"] + [
        f.name for f in form.fields if f.section == "training"
    ]


def _choose_target(ctx: AppContext, target: str | None, *fields: str | None):
    """A new architecture or preset: its datasets, and the fields its grid rows offer."""
    try:
        form = catalog.form(target or ctx.host.settings.default_architecture, ctx.host)
        names = field_choices(ctx, target)
    except Exception as exc:
        return [gr.skip(), error_message(exc)] + [gr.skip()] * len(fields)
    rows = [gr.update(choices=names, value=f if f in names else None) for f in fields]
    return [gr.update(choices=list(form.datasets), value=form.dataset), ""] + rows


# -- starting, stopping, continuing --------------------------------------------------


def _spec_from_form(ctx: AppContext, mode: str, shipped: str | None, values: tuple) -> StudySpec:
    target, dataset, *rest = values
    rows = [(rest[2 * i], rest[2 * i + 1]) for i in range(GRID_ROWS)]
    seeds, shared, name = rest[2 * GRID_ROWS :]
    if mode == SHIPPED:
        spec = shipped_studies().get(shipped or "")
        if spec is None:
            raise ArchzooError(f"pick a shipped study, not {shipped!r}")
        return checked_spec(ctx.host, spec)
    return grid_spec(ctx.host, target=target, dataset=dataset, rows=rows, seeds=seeds, shared=shared, name=name)


def start(ctx: AppContext, plots: PlotCache, mode: str, shipped: str | None, *values: Any):
    """Start (or continue) the study the form describes; -> (answer, the view).  The last
    value is the data folder its trials read their dataset's files from ('' for the usual places)."""
    *values, data_dir = values
    try:
        spec = _spec_from_form(ctx, mode, shipped, tuple(values))
        return (_started(ctx, spec, data_dir), *view(ctx, plots, spec.name, None))
    except Exception as exc:
        return (error_message(exc), *view(ctx, plots, None, None))


def resume(ctx: AppContext, plots: PlotCache, viewed: str | None, data_dir: str | None = ""):
    """Continue the study shown: only its missing trials run (reading the form's data folder)."""
    try:
        if not viewed:
            raise ArchzooError("pick a study to continue")
        storage = ctx.studies.storage()
        _, spec = load(viewed, storage)
        checked_spec(ctx.host, spec)
        return (_started(ctx, spec, data_dir), *view(ctx, plots, viewed, None))
    except Exception as exc:
        return (error_message(exc), *view(ctx, plots, viewed, None))


def _started(ctx: AppContext, spec: StudySpec, data_dir: str | None = "") -> str:
    study = ctx.studies.start(spec, data_dir=(data_dir or "").strip() or None)
    total = len(spec.trials())
    done = sum(t.state == TrialState.COMPLETE for t in study.get_trials(deepcopy=False))
    where = f"its runs go to {spec.name}/ in the checkpoint store"
    if done:
        return ok(
            f"Continuing study {spec.name}: {done} of {total} trials are done; the missing ones run now ({where})."
        )
    return ok(f"Started study {spec.name}: {len(spec.cells)} cell(s) x {spec.seeds} seed(s) = {total} trials; {where}.")


def stop(ctx: AppContext, plots: PlotCache, viewed: str | None):
    running = ctx.studies.running()
    if running is None:
        return (info("No study is running on this server."), *view(ctx, plots, viewed, None))
    said = ctx.studies.stop()
    return (ok(f"{said}: the running trial kept a resumable checkpoint; Continue runs the missing trials."),
            *view(ctx, plots, running, None))  # fmt: skip


# -- looking -------------------------------------------------------------------------


def view(ctx: AppContext, plots: PlotCache, viewed: str | None, shown: int | None):
    """-> (study picker, status, trials, cells, plot, Continue, Stop, shown): the study
    picked (else the running one, else the newest) as its storage has it now; nothing
    is sent when the page already shows it all (``shown`` is its hash)."""
    studies = ctx.studies
    running = studies.running()
    try:
        names = stored_names(studies.storage(create_file=False))
    except Exception as exc:
        return (gr.skip(), error_message(exc), *[gr.skip()] * 5, shown)
    if viewed not in names:
        viewed = running if running in names else (names[0] if names else None)
    if viewed is None:
        state = (names, None, "*No study yet: start one above.*", [], [], None, False, running is not None)
        return _sent(state, shown, empty=True)
    try:
        seen = look(studies.storage(), viewed, ctx.host)
    except Exception as exc:
        return (gr.update(choices=names, value=viewed), error_message(exc), *[gr.skip()] * 5, shown)
    rows, headers = cell_rows(seen)
    status = _status(ctx, seen, running)
    can_continue = running is None and seen.missing > 0
    state = (names, viewed, status, seen.trials, (rows, headers), seen, can_continue, running is not None)
    return _sent(state, shown, plots=plots, missing=seen.missing)


def _sent(state: tuple, shown: int | None, *, plots: PlotCache | None = None, missing: int = 0, empty: bool = False):
    names, viewed, status, trials, cells, seen, can_continue, can_stop = state
    listing = hash(repr((names, viewed, status, trials, cells if empty else cells[0], can_continue, can_stop)))
    if listing == shown:
        return (*[gr.skip()] * 7, shown)
    metric = "value" if empty else seen.spec.metric
    trial_frame = table(trials, [*TRIAL_HEADERS[:4], metric, TRIAL_HEADERS[5]])
    cell_frame = table([], ["cell", "settings", "value"]) if empty else table(*cells)
    return (
        gr.update(choices=names, value=viewed),
        status,
        trial_frame,
        cell_frame,
        None if empty else plots.picture(seen),
        gr.update(
            value=f"Continue: run the {missing} missing trial(s)" if can_continue else "Continue",
            interactive=can_continue,
        ),
        gr.update(interactive=can_stop),
        listing,
    )


def _status(ctx: AppContext, seen, running: str | None) -> str:
    name = seen.spec.name
    if running == name:
        now = f"; training {', '.join(seen.running)}" if seen.running else ""
        return info(
            f"Study {name} is running on this server: {seen.progress}{now}. Stop ends it after the current step."
        )
    outcome = ctx.studies.outcome
    said = f"Study {name}: {seen.progress}"
    if outcome is not None and outcome.name == name:
        said += f"; {outcome.text}"
        if outcome.failed:
            return problem(said)
    elif seen.missing:
        said += f"; {seen.missing} trial(s) missing: Continue runs them"
    if running is not None:
        said += f". Study {running} is running on this server."
    return ok(said) if not seen.missing else info(said)


def open_trial(ctx: AppContext, row: list[Any] | None):
    """A trial's row, clicked: its run's page in the Runs tab."""
    run = str(row[-1]) if row else ""
    if not run:
        return info("That trial has no run yet: it has not started."), *[gr.skip()] * 4
    names = [e.name for e in list_runs(ctx.host.settings.checkpoint_dir) if not e.error]
    return (
        ok(f"Opened {run} in the Runs tab."),
        gr.update(choices=names, value=run),
        gr.Tabs(selected="runs"),
        gr.Timer(active=True),  # the Runs tab refreshes, the Studies tab no longer
        gr.Timer(active=False),
    )


# -- the tab ---------------------------------------------------------------------------


def build(ctx: AppContext) -> dict:
    if ctx.studies is None:  # a context made without build_app (tests)
        ctx.studies = StudyWorker(ctx.host, ctx.runs)
    plots = PlotCache(ctx.temp_dir)
    gr.Markdown(
        "A **study** trains one run per cell and seed, then shows each cell's mean ± spread over its seeds "
        "(beside the numbers the notes print). Its trials run one after another on this server and share the "
        "Train tab's queue; they appear in the Runs tab too. Same as `archzoo study run`."
    )
    mode = gr.Radio([SHIPPED, GRID], value=SHIPPED, label="Start", elem_id="az-study-mode")
    shipped = shipped_studies()
    with gr.Column(visible=True) as shipped_group:
        chosen = gr.Dropdown(
            list(shipped),
            value="digits-lr-quick" if "digits-lr-quick" in shipped else next(iter(shipped), None),
            label="Shipped study",
            info="the lecture notes' tables, and a one-minute study to try",
            elem_id="az-study-shipped",
        )
        card = gr.Markdown(shipped_text(chosen.value), elem_id="az-study-card")
    default = ctx.host.settings.default_architecture
    first = catalog.form(default, ctx.host)
    names = field_choices(ctx, default)
    with gr.Column(visible=False) as grid_group:
        with gr.Row():
            target = gr.Dropdown(
                name_choices(ctx), value=default, label="Architecture or preset", elem_id="az-study-target"
            )
            dataset = gr.Dropdown(
                list(first.datasets), value=first.dataset, label="Dataset", elem_id="az-study-dataset"
            )
        target_note = gr.HTML()
        fields, values = [], []
        for i in range(GRID_ROWS):
            with gr.Row():
                fields.append(
                    gr.Dropdown(
                        names,
                        value="lr" if i == 0 and "lr" in names else None,
                        label=f"field {i + 1}",
                        elem_id=f"az-study-field-{i}",
                        scale=1,
                    )
                )
                values.append(
                    gr.Textbox(
                        "0.01, 0.001" if i == 0 else "",
                        label=f"values {i + 1}",
                        info="separated by commas; for a list setting such as hidden, by ';' (256,128; 512)",
                        elem_id=f"az-study-values-{i}",
                        scale=2,
                    )
                )
        with gr.Row():
            seeds = gr.Number(1, label="seeds", info="runs per cell: seeds 0..N-1", precision=0, minimum=1,
                              elem_id="az-study-seeds")  # fmt: skip
            shared_settings = gr.Textbox(
                "", label="every trial also sets", info="KEY=VALUE, separated by spaces (epochs=3 batch_size=64)",
                elem_id="az-study-shared",
            )  # fmt: skip
            name = gr.Textbox("", label="study name", info="empty: ARCH-FIELDS; its runs go to NAME/ in the store",
                              elem_id="az-study-name")  # fmt: skip
    data_folder = gr.Textbox(
        "",
        label="data folder",
        info="where the dataset's files are on this server, if not in the usual places (as in the Train tab)",
        elem_id="az-study-data-dir",
    )
    with gr.Row():
        start_button = gr.Button("Start", variant="primary", elem_id="az-study-start")
        stop_button = gr.Button("Stop", variant="stop", interactive=False, elem_id="az-study-stop")
        continue_button = gr.Button("Continue", interactive=False, elem_id="az-study-continue")
    answer = gr.HTML(elem_id="az-study-answer")

    gr.Markdown("### The study")
    viewed = gr.Dropdown([], value=None, label="Study in the store", elem_id="az-study-viewed")
    status = gr.HTML(elem_id="az-study-status")
    with gr.Row():
        trials = gr.Dataframe(
            table([], TRIAL_HEADERS),
            label="Trials (click one to open its run)",
            interactive=False,
            wrap=True,
            elem_id="az-study-trials",
            scale=3,
        )
        cells = gr.Dataframe(
            table([], ["cell", "settings", "value"]),
            label="Each cell: mean ± std over its seeds",
            interactive=False,
            wrap=True,
            elem_id="az-study-cells",
            scale=2,
        )
    picture = gr.Image(None, label="The study's plot", type="filepath", interactive=False, elem_id="az-study-plot")
    timer = gr.Timer(REFRESH_EVERY, active=False)  # ticks only while the tab is open (ui.app)
    shown = gr.State(None)

    look_outputs = [viewed, status, trials, cells, picture, continue_button, stop_button, shown]
    looking = partial(view, ctx, plots)
    quiet = {"show_progress": "hidden"}
    mode.change(
        lambda m: (gr.update(visible=m == SHIPPED), gr.update(visible=m == GRID)),
        mode,
        [shipped_group, grid_group],
        api_visibility="undocumented",
        **quiet,
    )
    chosen.change(shipped_text, chosen, card, api_visibility="undocumented", **quiet)
    target.change(
        partial(_choose_target, ctx), [target, *fields], [dataset, target_note, *fields],
        api_visibility="undocumented", **quiet,
    )  # fmt: skip
    form = [target, dataset, *[x for pair in zip(fields, values, strict=True) for x in pair], seeds,
            shared_settings, name]  # fmt: skip
    parameters = ["mode", "shipped", "target", "dataset"]
    parameters += [f"{kind}_{i + 1}" for i in range(GRID_ROWS) for kind in ("field", "values")]
    starting = with_parameters(partial(start, ctx, plots), [*parameters, "seeds", "shared", "name", "data_dir"])
    start_button.click(
        starting, [mode, chosen, *form, data_folder], [answer, *look_outputs], api_name="start_study", **quiet
    )
    stop_button.click(partial(stop, ctx, plots), viewed, [answer, *look_outputs], api_name="stop_study", **quiet)
    continue_button.click(
        partial(resume, ctx, plots), [viewed, data_folder], [answer, *look_outputs], api_name="continue_study", **quiet
    )
    viewed.input(lambda v: looking(v, None), viewed, look_outputs, api_visibility="undocumented", **quiet)
    timer.tick(looking, [viewed, shown], look_outputs, api_visibility="undocumented", **quiet)
    return {
        "refresh": (looking, [viewed, shown], look_outputs),
        "timer": timer,
        "trials": trials,
        "answer": answer,
        "connect": partial(_connect, ctx, trials, answer, timer),
    }


def _connect(ctx: AppContext, trials, answer, timer, run_picker, tabs, runs_timer) -> None:
    """A trial's row opens its run in the Runs tab (``run_picker`` is that tab's run drop-down)."""

    def opened(evt: gr.SelectData):
        return open_trial(ctx, evt.row_value)

    trials.select(opened, None, [answer, run_picker, tabs, runs_timer, timer], api_visibility="undocumented",
                  show_progress="hidden")  # fmt: skip
