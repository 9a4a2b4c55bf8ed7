"""The Inference tab's Views panel: pictures of what the chosen checkpoint learned (docs/views.md).

Which views a checkpoint offers and how each is drawn are core's
(:func:`archzoo.api.available_views`, :func:`archzoo.api.draw_view`), exactly as
``archzoo show`` calls them; the panel only shows the boxes a view reads and
its picture, with its PNG and JSON to download.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import gradio as gr

from archzoo.checkpoints.io import load
from archzoo.errors import ArchzooError
from archzoo.inference.views import VIEWS, ViewRequest
from archzoo.inference.views import available as available_views
from archzoo.inference.views import draw as draw_view
from archzoo.inference.views.examples import layers

from .common import AppContext, bind, error_message, in_page_words, info, ok

#: The request's boxes each view reads (the others are hidden for it).
VIEW_BOXES: dict[str, tuple[str, ...]] = {
    "boundary": ("resolution",),
    "residuals": ("count",),
    "misclassified": ("count",),
    "filters": ("count",),
    "activations": ("layer", "index", "count"),
    "saliency": ("index",),
    "latent": ("count",),
    "reconstructions": ("index", "count"),
    "samples": ("count", "seed"),
    "diffusion": ("count", "seed"),
    "attention": ("layer", "index", "count"),
}
#: ``archzoo show``'s options in the words of this panel's boxes, for core's messages.
PAGE_WORDS = {
    "--layer": "the box 'layer'",
    "--index": "the box 'test example'",
    "--count": "the box 'how many'",
    "--seed": "the box 'seed'",
    "--resolution": "the box 'grid cells a side'",
}
#: The boxes in the order the panel shows them; a plugin's own view may read any of them.
BOXES = ("layer", "index", "count", "seed", "resolution")


def offered(ctx: AppContext, location: str | None) -> tuple[list[str], list[str], str]:
    """(the views the checkpoint offers, its layer names, what the panel says)."""
    if not location:
        return [], [], info("Choose a checkpoint to see what it learned.")
    try:
        loaded = load(location, host=ctx.host)
        views = available_views(loaded, host=ctx.host)
        names = list(layers(loaded.model))
    except ArchzooError as exc:
        return [], [], error_message(exc)
    if not views:
        return [], names, info(f"{loaded.spec.name} on {loaded.info.name} offers no views yet.")
    return views, names, info(f"{loaded.spec.name} on {loaded.info.name} offers: {', '.join(views)}.")


def what_it_shows(view: str | None) -> str:
    return in_page_words(VIEWS.get(view or "", "a view of its plugin"), PAGE_WORDS) if view else ""


def draw(
    ctx: AppContext,
    location: str | None,
    view: str | None,
    layer: str | None,
    index: float | None,
    count: float | None,
    seed: float | None,
    resolution: float | None,
):
    """-> (the picture, its PNG and JSON files, message): one view, as ``archzoo show`` draws it."""
    try:
        if not location:
            raise ArchzooError("choose a checkpoint first (train one in the Train tab)")
        if not view:
            raise ArchzooError("choose a view first: the list holds the views this checkpoint offers")
        request = ViewRequest(
            layer=(layer or "").strip() or None,
            index=_whole(index, "index", 0),
            count=_whole(count, "count", 0) or None,
            seed=_whole(seed, "seed", 0),
            resolution=_whole(resolution, "resolution", 200),
        )
        drawn = draw_view(load(location, host=ctx.host), view, request, host=ctx.host)
        folder = os.path.join(ctx.temp_dir or "", "archzoo-views", uuid.uuid4().hex)
        files = [str(path) for path in drawn.write(folder)]
    except Exception as exc:
        return None, None, error_message(exc, PAGE_WORDS)
    notes = "".join(info(note) for note in drawn.notes)
    picture = next(path for path in files if path.endswith(".png"))
    return picture, files, ok(f"{view}: {what_it_shows(view)}.") + notes


def _whole(value: float | None, name: str, default: int) -> int:
    """A number box's value as the whole number the request takes (empty: the default)."""
    if value is None or value == "":
        return default
    if float(value) != int(value):
        raise ArchzooError(f"{name} must be a whole number, not {value}")
    return int(value)


def boxes_for(view: str | None) -> list[Any]:
    """Show only the boxes the chosen view reads."""
    used = VIEW_BOXES.get(view or "", BOXES if view else ())
    return [gr.update(visible=box in used) for box in BOXES]


def build(ctx: AppContext, checkpoint: gr.Dropdown, first: str | None) -> dict:
    """The panel under the task's widgets; returns what the tab updates when the checkpoint changes."""
    views, names, said = offered(ctx, first)
    chosen = views[0] if views else None
    used = VIEW_BOXES.get(chosen or "", ())
    with gr.Accordion("Views: what the model learned", open=True, elem_id="az-views"):
        about = gr.HTML(said, elem_id="az-views-about")
        with gr.Row():
            view = gr.Dropdown(views, value=chosen, label="view", info=what_it_shows(chosen), elem_id="az-view-name")
            layer = gr.Dropdown(
                names,
                value=None,
                allow_custom_value=True,
                label="layer",
                info="empty: the view's own choice (activations: the first nonlinearity)",
                visible="layer" in used,
                elem_id="az-view-layer",
            )
            index = gr.Number(
                0, precision=0, minimum=0, label="test example", visible="index" in used, elem_id="az-view-index"
            )
            count = gr.Number(
                0,
                precision=0,
                minimum=0,
                label="how many",
                info="0: the view's default",
                visible="count" in used,
                elem_id="az-view-count",
            )
            seed = gr.Number(0, precision=0, label="seed", visible="seed" in used, elem_id="az-view-seed")
            resolution = gr.Slider(
                8, 500, value=200, step=1, label="grid cells a side", visible="resolution" in used,
                elem_id="az-view-resolution",
            )  # fmt: skip
        draw_button = gr.Button("Draw the view", variant="primary", elem_id="az-view-draw")
        picture = gr.Image(
            label="the view", type="filepath", format="png", interactive=False, elem_id="az-view-image", buttons=[]
        )
        files = gr.File(label="PNG and JSON", file_count="multiple", interactive=False, elem_id="az-view-files")
        message = gr.HTML(elem_id="az-view-message")

    boxes = [layer, index, count, seed, resolution]
    view.change(
        lambda v: [gr.update(info=what_it_shows(v)), *boxes_for(v)], view, [view, *boxes], show_progress="hidden"
    )
    draw_button.click(
        bind(draw, ctx, ["checkpoint", "view", "layer", "index", "count", "seed", "resolution"]),
        [checkpoint, view, *boxes],
        [picture, files, message],
        api_name="draw_view",
    )

    def fit(location: str | None) -> list[Any]:
        """The panel for another checkpoint: its views and layers, the old picture gone."""
        views, names, said = offered(ctx, location)
        chosen = views[0] if views else None
        shown = boxes_for(chosen)
        shown[0] = gr.update(choices=names, value=None, visible=shown[0]["visible"])
        return [said, gr.update(choices=views, value=chosen, info=what_it_shows(chosen)), *shown, None, None, ""]

    return {"fit": fit, "outputs": [about, view, layer, index, count, seed, resolution, picture, files, message]}
