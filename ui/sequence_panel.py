"""The Predict tab's widgets for a sequence-to-sequence checkpoint: a sequence in, its output and attention out.

The box takes one input sequence a line (symbols separated by spaces); the answer is
a table of every input with its output and, under it, the attention matrix of the
first: output tokens against input tokens.  Both come from
:func:`archzoo.inference.sequences.translate`, as ``archzoo predict`` prints them.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from archzoo.checkpoints.meta import read_meta
from archzoo.checkpoints.store import describe as describe_entry
from archzoo.data.types import DataInfo
from archzoo.errors import ArchzooError
from archzoo.inference.sequences import translate, what_it_reads
from archzoo.inference.views.attention import alignment_png

from .common import AppContext, bind, error_message, info, table

COLUMNS = ["input", "output"]


def empty():
    return table([], COLUMNS)


def predict_sequences(ctx: AppContext, location: str | None, text: str):
    """Typed sequences -> (table of inputs and outputs, the first one's attention as a PIL image, notes)."""
    import io

    from PIL import Image

    try:
        if not location:
            raise ArchzooError("choose a checkpoint first")
        lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
        found = translate(location, lines, host=ctx.host)
    except Exception as exc:
        return empty(), None, error_message(exc)
    rows = table([[" ".join(t.source), t.text] for t in found], COLUMNS)
    first = found[0]
    if first.attention is None:
        return rows, None, info("This model has no attention (attention=none): every output reads one context vector.")
    picture = alignment_png(f"attention of '{' '.join(first.source)}'", first.attention, first.source, first.tokens)
    return rows, Image.open(io.BytesIO(picture)), ""


def reads(ctx: AppContext, location: str | None) -> str:
    """What the box reads for this checkpoint: its longest input and its vocabulary (from its
    config.json: no model is loaded)."""
    try:
        data = DataInfo.from_dict(read_meta(describe_entry(location, host=ctx.host).path)["dataset"]["info"])
    except Exception:  # no checkpoint, or a broken one: the page says what is wrong above
        return ""
    return "separated by spaces, " + what_it_reads(data) if data.task == "sequence-to-sequence" else ""


def build(ctx: AppContext, checkpoint: Any, first: str | None, visible: bool) -> dict[str, Any]:
    """The group's column and its widgets, wired to ``checkpoint`` (``first``: the one chosen as the page opens)."""
    with gr.Column(visible=visible) as column:
        sequences_in = gr.Textbox(
            label="Input sequences, one per line",
            lines=3,
            placeholder="3 1 4 1 5",
            info=reads(ctx, first) or "symbols separated by spaces",
            elem_id="az-sequences",
        )
        button = gr.Button("Predict", variant="primary", elem_id="az-predict-sequences")
        outputs = gr.Dataframe(table([], COLUMNS), label="Outputs", interactive=False, elem_id="az-sequence-outputs")
        picture = gr.Image(
            label="Attention of the first: output tokens (rows) against input tokens (columns)",
            type="pil",
            format="png",
            interactive=False,
            elem_id="az-sequence-attention",
            buttons=[],
        )
        notes = gr.HTML()
    button.click(
        bind(predict_sequences, ctx, ["checkpoint", "sequences"]),
        [checkpoint, sequences_in],
        [outputs, picture, notes],
        api_name="predict_sequences",
    )
    checkpoint.change(
        lambda location: (gr.update(info=reads(ctx, location) or "symbols separated by spaces"), empty(), None, ""),
        checkpoint,
        [sequences_in, outputs, picture, notes],
        api_visibility="undocumented",
    )
    return {"column": column}
