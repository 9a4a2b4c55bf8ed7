"""Evaluate tab: a checkpoint and a dataset -> its metrics (``archzoo eval``'s
numbers) and, for classifiers, a confusion matrix and per-class precision and recall."""

from __future__ import annotations

import gradio as gr

from archzoo.api import evaluate_checkpoint
from archzoo.errors import ArchzooError
from archzoo.metrics import confusion_matrix
from archzoo.specs import CLASSIFICATION_TASKS

from .common import AppContext, bind, checkpoint_choices, error_message, ok, pick, table

OWN = "its own dataset"


def dataset_choices(ctx: AppContext, location: str | None) -> tuple[list[str], str]:
    """The checkpoint's own dataset first, then others of its task with the same input shape."""
    from archzoo.inference import checkpoint_meta

    if not location:
        return [OWN], OWN
    try:
        _, meta = checkpoint_meta(location, host=ctx.host)
    except ArchzooError:
        return [OWN], OWN
    info = meta["dataset"].get("info", {})
    own = meta["dataset"]["name"]
    shape = tuple(info.get("input_shape", ()))
    others = sorted(
        d.name for d in ctx.host.datasets.values()
        if d.task == info.get("task") and d.name != own and (not d.input_shape or tuple(d.input_shape) == shape)
    )
    return [own, *others], own


def evaluate(ctx: AppContext, location: str | None, dataset: str | None, split: str):
    """-> (status, metrics table, per-class table, confusion-matrix image)."""
    empty = table([], ["metric", "value"])
    per_class = table([], ["class", "support", "precision", "recall"])
    if not location:
        return error_message(ArchzooError("choose a checkpoint first (train one in the Train tab)")), empty, per_class, None
    chosen = None if dataset in (None, "", OWN) else dataset
    try:
        from archzoo.inference import checkpoint_task

        metrics = evaluate_checkpoint(location, dataset=chosen, split=split or "test", host=ctx.host)
        task = checkpoint_task(location, host=ctx.host)
        rows = table([[k, round(v, 4)] for k, v in metrics.items()], ["metric", "value"])
        if task not in CLASSIFICATION_TASKS:
            return ok(f"Evaluated on the {split} split. (A confusion matrix is drawn for classifiers only.)"), rows, per_class, None
    except Exception as exc:
        return error_message(exc), empty, per_class, None
    try:
        matrix = confusion_matrix(location, dataset=chosen, split=split or "test", host=ctx.host)
    except Exception as exc:  # the metrics stand; say why there is no matrix
        return ok(f"Evaluated on the {split} split.") + error_message(exc), rows, per_class, None
    per = table(
        [[r["class"], r["support"], _fmt(r["precision"]), _fmt(r["recall"])] for r in matrix.per_class()],
        ["class", "support", "precision", "recall"],
    )
    confused = ", ".join(f"{t} taken for {p} ({n}x)" for t, p, n in matrix.most_confused(3))
    text = f"Evaluated {matrix.total:,} examples of {matrix.dataset} ({split})."
    if confused:
        text += f" Most confused: {confused}."
    return ok(text), rows, per, matrix.to_image()


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def build(ctx: AppContext) -> dict:
    gr.Markdown("Measure a checkpoint on a split of its dataset (the same numbers as `archzoo eval`).")
    choices = checkpoint_choices(ctx)
    first = pick(choices, None)
    with gr.Row():
        checkpoint = gr.Dropdown(choices, value=first, label="Checkpoint", allow_custom_value=True,
                                 info="from the checkpoint store, or type a folder path", elem_id="az-eval-checkpoint", scale=3)
        data_choices, own = dataset_choices(ctx, first)
        dataset = gr.Dropdown(data_choices, value=own, label="Dataset", allow_custom_value=True,
                              info="another dataset of the same task and shape, or a folder path", scale=2)
        split = gr.Radio(["test", "validation", "train"], value="test", label="Split", scale=1)
    run = gr.Button("Evaluate", variant="primary", elem_id="az-eval-run")
    status = gr.HTML(elem_id="az-eval-status")
    with gr.Row():
        with gr.Column(scale=2):
            metrics = gr.Dataframe(table([], ["metric", "value"]), label="Metrics", interactive=False, elem_id="az-eval-metrics")
            per_class = gr.Dataframe(table([], ["class", "support", "precision", "recall"]), label="Per class",
                                     interactive=False, max_height=360)
        with gr.Column(scale=3):
            plot = gr.Image(label="Confusion matrix (rows: true class, columns: predicted)", type="pil",
                            interactive=False, elem_id="az-eval-confusion", buttons=["download"])

    def on_checkpoint(location):
        values, own_name = dataset_choices(ctx, location)
        return gr.update(choices=values, value=own_name)

    checkpoint.change(on_checkpoint, checkpoint, dataset, api_visibility="undocumented")
    run.click(bind(evaluate, ctx, ["checkpoint", "dataset", "split"]), [checkpoint, dataset, split], [status, metrics, per_class, plot],
              api_name="evaluate", concurrency_limit=1)

    def refresh(current):
        options = checkpoint_choices(ctx)
        return gr.update(choices=options, value=pick(options, current))

    return {"checkpoint": checkpoint, "refresh": (refresh, [checkpoint], [checkpoint])}
