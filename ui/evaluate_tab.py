"""Evaluate tab: a checkpoint and a dataset -> its metrics (``archzoo eval``'s
numbers) and, for classifiers, a confusion matrix and per-class precision and recall.

Below them, for classifiers, "Should it ship?" runs ``archzoo report``
(:func:`archzoo.evaluation.report.write_report`): accuracy interval, calibration before
and after temperature scaling, out-of-distribution scores, rotation, noise and
translation curves, accuracy under the FGSM attack (images), and the ship /
collect more data / redesign verdict with its reasons."""

from __future__ import annotations

from typing import Any

import gradio as gr

from archzoo.api import evaluate_checkpoint
from archzoo.checkpoints.card import trust_rows
from archzoo.errors import ArchzooError
from archzoo.evaluation.metrics import ConfusionMatrix, cell_pictures, confusion_matrix
from archzoo.evaluation.report import write_report
from archzoo.inference.data import judged_on
from archzoo.inference.sampling import checkpoint_meta, checkpoint_task
from archzoo.registry.specs import CLASSIFICATION_TASKS

from .common import AppContext, bind, checkpoint_choices, error_message, in_page_words, ok, pick, table

OWN = "its own dataset"
#: The CLI's options in the words of this tab's boxes, for core's messages.
PAGE_WORDS = {
    "--ood-data-dir DIR": "the box 'Its data folder'",
    "--ood-data-dir": "the box 'Its data folder'",
    "--ood DATASET": "the box 'Out-of-distribution set'",
    "--ood": "the box 'Out-of-distribution set'",
    "--data-dir": "the data folder",
}


def dataset_choices(ctx: AppContext, location: str | None) -> tuple[list[str], str]:
    """The checkpoint's own dataset first, then others of its task with the same input shape."""
    if not location:
        return [OWN], OWN
    try:
        _, meta = checkpoint_meta(location, host=ctx.host)
    except ArchzooError:
        return [OWN], OWN
    choices = judged_on(meta, ctx.host)
    return choices, choices[0]


def evaluate(ctx: AppContext, location: str | None, dataset: str | None, split: str):
    """-> (status, metrics table, per-class table, confusion-matrix image, what the cells hold).

    The last is kept in the page's state (it is not part of the API's answer) for
    :func:`open_cell`: the checkpoint and the matrix, with each cell's example indices."""
    empty = table([], ["metric", "value"])
    per_class = table([], ["class", "support", "precision", "recall"])
    if not location:
        return (
            error_message(ArchzooError("choose a checkpoint first (train one in the Train tab)")),
            empty,
            per_class,
            None,
            None,
        )
    chosen = None if dataset in (None, "", OWN) else dataset
    try:
        metrics = evaluate_checkpoint(location, dataset=chosen, split=split or "test", host=ctx.host)
        task = checkpoint_task(location, host=ctx.host)
        rows = table([[k, round(v, 4)] for k, v in metrics.items()], ["metric", "value"])
        if task == "tabular-regression":
            status, rows, picture = regression_answer(ctx, location, chosen, split or "test", rows)
            return status, rows, per_class, picture, None
        if task not in CLASSIFICATION_TASKS:
            return (
                ok(f"Evaluated on the {split} split. (A confusion matrix is drawn for classifiers only.)"),
                rows,
                per_class,
                None,
                None,
            )
    except Exception as exc:
        return error_message(exc), empty, per_class, None, None
    try:
        matrix = confusion_matrix(location, dataset=chosen, split=split or "test", host=ctx.host)
    except Exception as exc:  # the metrics stand; say why there is no matrix
        return ok(f"Evaluated on the {split} split.") + error_message(exc), rows, per_class, None, None
    per = table(
        [[r["class"], r["support"], _fmt(r["precision"]), _fmt(r["recall"])] for r in matrix.per_class()],
        ["class", "support", "precision", "recall"],
    )
    confused = ", ".join(f"{t} taken for {p} ({n}x)" for t, p, n in matrix.most_confused(3))
    text = f"Evaluated {matrix.total:,} examples of {matrix.dataset} ({split})."
    if confused:
        text += f" Most confused: {confused}."
    return ok(text), rows, per, matrix.to_image(), {"location": location, "matrix": matrix}


def regression_answer(ctx: AppContext, location: str, dataset: str | None, split: str, rows: Any):
    """-> (status, metrics table, residuals picture) of a regression: its predictions against the truth."""
    import io

    from PIL import Image

    from archzoo.inference.regression import residuals
    from archzoo.inference.views.residuals import draw_residuals, scores_line

    found = residuals(location, dataset=dataset, split=split, host=ctx.host)
    picture = Image.open(io.BytesIO(draw_residuals(found, f"{found.dataset} ({split})")))
    text = f"Evaluated on the {split} split: {scores_line(found)}. The picture shows each residual (true - predicted)."
    return ok(text), rows, picture


#: Images of a cell shown in the gallery.
CELL_PICTURES = 32


def cell_choices(matrix: ConfusionMatrix) -> list[tuple[str, str]]:
    """The cells to look behind, as (label, "true,predicted"): the mistakes, the fullest
    first, then the classes read right."""
    names = matrix.class_names
    wrong = [(f"{names[t]} taken for {names[p]} ({n})", f"{t},{p}") for t, p, n in matrix.cells()]
    right = [(f"{names[t]} read right ({row[t]})", f"{t},{t}") for t, row in enumerate(matrix.counts) if row[t]]
    return wrong + right


def first_cell(ctx: AppContext, held: dict | None):
    """After an evaluation: the cell choices, and the fullest cell of mistakes opened."""
    if not held:
        return gr.update(choices=[], value=None, visible=False), None, ""
    choices = cell_choices(held["matrix"])
    value = choices[0][1] if choices else None
    return (gr.update(choices=choices, value=value, visible=bool(choices)), *open_cell(ctx, held, value))


def open_cell(ctx: AppContext, held: dict | None, cell: str | None):
    """-> (the gallery's images and captions, a note): the examples behind one cell."""
    if not held or not cell:
        return None, ""
    matrix: ConfusionMatrix = held["matrix"]
    try:
        true, predicted = (int(part) for part in cell.split(","))
        names = matrix.class_names
        count = matrix.counts[true][predicted]
        what = f"{names[true]} read right" if true == predicted else f"{names[true]} taken for {names[predicted]}"
        pictures = cell_pictures(held["location"], matrix, true, predicted, limit=CELL_PICTURES, host=ctx.host)
    except (ValueError, IndexError):
        return None, error_message(ArchzooError(f"no cell '{cell}': choose one from the list"))
    except Exception as exc:
        return None, error_message(exc)
    indices = matrix.examples.get((true, predicted), [])
    if not pictures:  # rows of numbers or texts: name the examples
        shown = ", ".join(f"#{i}" for i in indices[:CELL_PICTURES])
        more = f" and {len(indices) - CELL_PICTURES:,} more" if len(indices) > CELL_PICTURES else ""
        return None, ok(f"{what}: {count:,} examples of the {matrix.split} split: {shown}{more}.")
    first = f"; the first {len(pictures)} shown" if count > len(pictures) else ""
    return pictures, ok(
        f"{what}: {count:,} {matrix.split} image{'s' if count != 1 else ''}{first}. "
        "Click a cell of the matrix to look behind it."
    )


def clicked_cell(ctx: AppContext, held: dict | None, evt: gr.SelectData):
    """A click on the matrix's picture opens the cell under it."""
    index = evt.index
    where = held["matrix"].cell_at(*index) if held and isinstance(index, (list, tuple)) and len(index) == 2 else None
    if where is None:
        return gr.update(), gr.update(), gr.update()
    cell = f"{where[0]},{where[1]}"
    return gr.update(value=cell), *open_cell(ctx, held, cell)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


AUTO_OOD = "automatic (mnist <-> fashion-mnist)"
NO_OOD = "none"
TRUST_HEADERS = ["measure", "value"]


def ood_choices(ctx: AppContext) -> list[str]:
    """Out-of-distribution candidates: every image-classification dataset (other sizes are resized, and said so)."""
    images = sorted(d.name for d in ctx.host.datasets.values() if d.task == "image-classification")
    return [AUTO_OOD, NO_OOD, *images]


def judge(
    ctx: AppContext,
    location: str | None,
    dataset: str | None,
    split: str,
    ood: str | None,
    ood_dir: str | None,
    save: bool,
):
    """-> (status, verdict, numbers table, reliability image, OOD image, shift image, ROC image):
    ``archzoo report``'s results (the ROC curves of each class against the rest, AUROC in the legend).

    With ``save`` the checkpoint gains the fitted temperature, the report and the
    card figures (as ``archzoo report`` does); without, the page goes to a
    temporary folder and only the pictures are shown."""
    import shutil
    import tempfile
    from pathlib import Path

    empty = table([], TRUST_HEADERS)
    nothing = (empty, None, None, None, None)
    if not location:
        return (error_message(ArchzooError("choose a checkpoint first (train one in the Train tab)")), "", *nothing)
    chosen = None if dataset in (None, "", OWN) else dataset
    ood_name = None if ood in (None, "", AUTO_OOD) else ood
    scratch = None if save else Path(tempfile.mkdtemp(prefix="archzoo-ui-report-"))
    try:
        if checkpoint_task(location, host=ctx.host) == "tabular-regression":
            return judge_regression(ctx, location, chosen, split or "test", scratch)
        report = write_report(
            location,
            out=scratch,
            save=bool(save),
            dataset=chosen,
            split=split or "test",
            ood=False if ood == NO_OOD else ood_name,
            ood_data_dir=(ood_dir or "").strip() or None,
            host=ctx.host,
        )
        folder = report.page.parent
        pictures = [_picture(folder / f"{name}.png") for name in ("reliability", "ood", "shift", "roc")]
    except Exception as exc:
        return (error_message(exc, PAGE_WORDS), "", *nothing)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    assessment = report.assessment
    where = (
        f" Saved in the checkpoint: temperature, model card, {report.page}."
        if report.checkpoint_updated
        else " The checkpoint was not changed."
    )
    status = ok(
        f"Judged {assessment.classes['examples']:,} examples of {assessment.dataset} ({assessment.split}).{where}"
    )
    if report.notes:
        import html

        items = "".join(f"<li>{html.escape(in_page_words(n, PAGE_WORDS), quote=False)}</li>" for n in report.notes)
        status += f'<div class="az-msg az-info"><b>Notes:</b><ul>{items}</ul></div>'

    return (status, verdict_html(report.verdict), table(trust_rows(assessment.summary()), TRUST_HEADERS), *pictures)


def judge_regression(ctx: AppContext, location: str, dataset: str | None, split: str, scratch: Any):
    """A regression's report (``archzoo report``'s: metrics and residuals; no verdict, which judges classifiers)."""
    from archzoo.evaluation.regression_report import write_regression_report

    report = write_regression_report(location, out=scratch, save=scratch is None, dataset=dataset, split=split,
                                     host=ctx.host)  # fmt: skip
    picture = _picture(report.page.parent / "residuals.png")
    where = (
        f" Saved in the checkpoint: {report.page}." if report.checkpoint_updated else " The checkpoint was not changed."
    )
    status = ok(f"Reported on the {split} split of a regression: its metrics and residuals.{where}")
    rows = table([[k, round(v, 4)] for k, v in report.metrics.items()], TRUST_HEADERS)
    return status, "", rows, picture, None, None, None


def _picture(path):
    from PIL import Image

    if not path.is_file():
        return None
    with Image.open(path) as image:
        image.load()
        return image.copy()


def verdict_html(verdict: dict) -> str:
    """The verdict, its reasons, and what passed, as a coloured box."""
    import html

    colour = {"ship": "#2ca02c", "collect more data": "#ff7f0e", "redesign": "#d62728"}[verdict["verdict"]]
    reasons = "".join(f"<li>{html.escape(r)}</li>" for r in verdict["reasons"])
    passed = ""
    if verdict["verdict"] != "ship" and verdict["passed"]:
        passed = (
            "<details><summary>What it passes</summary><ul>"
            + "".join(f"<li>{html.escape(r)}</li>" for r in verdict["passed"])
            + "</ul></details>"
        )
    return (
        f'<div class="az-verdict" style="border-left: 6px solid {colour}; padding: .4em .9em;">'
        f"<b>Verdict: {html.escape(verdict['verdict'])}</b><ul>{reasons}</ul>{passed}"
        "<small>From archzoo's stated thresholds (docs/evaluation.md; listed in the report page).</small></div>"
    )


def build(ctx: AppContext) -> dict:
    gr.Markdown("Measure a checkpoint on a split of its dataset (the same numbers as `archzoo eval`).")
    choices = checkpoint_choices(ctx)
    first = pick(choices, None)
    with gr.Row():
        checkpoint = gr.Dropdown(
            choices,
            value=first,
            label="Checkpoint",
            allow_custom_value=True,
            info="from the checkpoint store, or type a folder path",
            elem_id="az-eval-checkpoint",
            scale=3,
        )
        data_choices, own = dataset_choices(ctx, first)
        dataset = gr.Dropdown(
            data_choices,
            value=own,
            label="Dataset",
            allow_custom_value=True,
            info="another dataset of the same task and shape, or a folder path",
            scale=2,
        )
        split = gr.Radio(["test", "validation", "train"], value="test", label="Split", scale=1)
    run = gr.Button("Evaluate", variant="primary", elem_id="az-eval-run")
    status = gr.HTML(elem_id="az-eval-status")
    with gr.Row():
        with gr.Column(scale=2):
            metrics = gr.Dataframe(
                table([], ["metric", "value"]), label="Metrics", interactive=False, elem_id="az-eval-metrics"
            )
            per_class = gr.Dataframe(
                table([], ["class", "support", "precision", "recall"]),
                label="Per class",
                interactive=False,
                max_height=360,
            )
        with gr.Column(scale=3):
            plot = gr.Image(
                label="Confusion matrix (rows: true class, columns: predicted)",
                type="pil",
                interactive=False,
                elem_id="az-eval-confusion",
                buttons=["download"],
            )
    held = gr.State(None)
    cell = gr.Dropdown(
        [],
        label="Look behind a cell",
        info="the examples of one cell of the matrix; or click the cell",
        visible=False,
        elem_id="az-eval-cell",
    )
    cell_note = gr.HTML(elem_id="az-eval-cell-note")
    cell_images = gr.Gallery(
        label="The cell's images", columns=8, height="auto", object_fit="contain", elem_id="az-eval-cell-images"
    )

    gr.Markdown(
        "### Should it ship?\nCalibration (temperature scaling), out-of-distribution inputs, rotation, noise, "
        "translation and the FGSM attack, "
        "and a ship / collect more data / redesign verdict: `archzoo report` for classifiers."
    )
    with gr.Row():
        ood = gr.Dropdown(
            ood_choices(ctx),
            value=AUTO_OOD,
            label="Out-of-distribution set",
            allow_custom_value=True,
            info="a dataset of other images (resized to fit), or a folder path",
            scale=2,
        )
        ood_dir = gr.Textbox(label="Its data folder (optional)", placeholder="e.g. ../shared/data/mnist-t10k", scale=2)
        save = gr.Checkbox(value=True, label="Store the temperature and report in the checkpoint", scale=1)
    judge_button = gr.Button("Judge it", elem_id="az-eval-judge")
    verdict = gr.HTML(elem_id="az-eval-verdict")
    trust_status = gr.HTML(elem_id="az-eval-trust-status")
    with gr.Row():
        trust_table = gr.Dataframe(table([], TRUST_HEADERS), label="Trust numbers", interactive=False, scale=2)
        reliability = gr.Image(
            label="Reliability before / after temperature scaling",
            type="pil",
            interactive=False,
            scale=3,
            buttons=["download"],
        )
    with gr.Row():
        ood_plot = gr.Image(
            label="Out-of-distribution scores and ROC", type="pil", interactive=False, buttons=["download"]
        )
    with gr.Row():
        shift_plot = gr.Image(
            label="Accuracy under rotation, noise, translation and the FGSM attack (images)",
            type="pil",
            interactive=False,
            buttons=["download"],
        )
    with gr.Row():
        roc_plot = gr.Image(
            label="ROC: each class against the rest, its AUROC in the legend",
            type="pil",
            interactive=False,
            elem_id="az-eval-roc",
            buttons=["download"],
        )
    judge_button.click(
        bind(judge, ctx, ["checkpoint", "dataset", "split", "ood", "ood_dir", "save"]),
        [checkpoint, dataset, split, ood, ood_dir, save],
        [trust_status, verdict, trust_table, reliability, ood_plot, shift_plot, roc_plot],
        api_name="judge",
        concurrency_limit=1,
    )

    def on_checkpoint(location):
        values, own_name = dataset_choices(ctx, location)
        return gr.update(choices=values, value=own_name)

    checkpoint.change(on_checkpoint, checkpoint, dataset, api_visibility="undocumented")
    run.click(
        bind(evaluate, ctx, ["checkpoint", "dataset", "split"]),
        [checkpoint, dataset, split],
        [status, metrics, per_class, plot, held],
        api_name="evaluate",
        concurrency_limit=1,
    ).then(lambda value: first_cell(ctx, value), held, [cell, cell_images, cell_note], api_visibility="undocumented")
    cell.input(
        lambda value, chosen: open_cell(ctx, value, chosen),
        [held, cell],
        [cell_images, cell_note],
        api_visibility="undocumented",
    )

    def on_click(value, evt: gr.SelectData):  # Gradio passes the click where the annotation asks for it
        return clicked_cell(ctx, value, evt)

    plot.select(on_click, held, [cell, cell_images, cell_note], api_visibility="undocumented")

    def refresh(current):
        options = checkpoint_choices(ctx)
        return gr.update(choices=options, value=pick(options, current))

    return {"checkpoint": checkpoint, "refresh": (refresh, [checkpoint], [checkpoint])}
