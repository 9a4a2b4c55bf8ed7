"""Inference tab: the widgets follow the checkpoint's task.

=========================  ============================================  ==========================
task                       input widgets                                 output
=========================  ============================================  ==========================
image-classification       sketchpad, image upload, top-k                class probabilities
tabular-classification     rows of numbers                               class probabilities
tabular-regression         rows of numbers                               predicted values (residuals: Views)
text-classification        text box                                      class probabilities
image-generation           count, seed, steps, mode, sampler             gallery
text-generation            prompt, temperature, length                   text
feature-extraction         texts, one per line                           embeddings, similarities
node-classification        node indices of the checkpoint's own graph    classes, accuracy
sequence-to-sequence       input sequences, one per line                 outputs, attention matrix
=========================  ============================================  ==========================

A class-conditional generator (the cGAN, a DDPM trained with label dropout) adds a class
chooser filled with its checkpoint's classes, and a guided DDPM a guidance slider; both stay
hidden for other models (:func:`archzoo.inference.generation.conditioning` says which).

Each button calls one function of :mod:`archzoo.inference.tasks`.  Every task of
:data:`archzoo.registry.specs.TASKS` has its group (a test checks); a task added later
without one is named as such in the page.
"""

from __future__ import annotations

from html import escape
from typing import Any

import gradio as gr

from archzoo import inference
from archzoo.checkpoints.meta import read_meta
from archzoo.checkpoints.store import describe as describe_entry
from archzoo.errors import ArchzooError
from archzoo.inference.generation import conditioning
from archzoo.inference.inputs import open_image
from archzoo.inference.sketch import is_blank as sketch_is_blank

from . import sequence_panel, sketch_pad, views_panel
from .common import (
    AppContext,
    bind,
    checkpoint_choices,
    error_message,
    info,
    notes_html,
    ok,
    own_image_file,
    pick,
    problem,
    table,
)

#: task -> the group of widgets that serves it.
TASK_WIDGETS: dict[str, str] = {
    "image-classification": "image",
    "tabular-classification": "tabular",
    "tabular-regression": "regression",
    "text-classification": "text",
    "image-generation": "image-generation",
    "text-generation": "text-generation",
    "feature-extraction": "features",
    "node-classification": "graph",
    "sequence-to-sequence": "sequence",
}
GROUPS = (
    "image",
    "tabular",
    "regression",
    "text",
    "image-generation",
    "text-generation",
    "features",
    "graph",
    "sequence",
)
NODE_COLUMNS = ["node", "split in training", "true class", "prediction", "probability"]
SAMPLER_DEFAULT = "model's default"
#: The class chooser's first choice: image i of class i mod K, every class in turn.
EVERY_CLASS = "every class in turn"
#: What each sampling mode does, in the words the mode box uses for the modes a generator offers.
MODE_WORDS = {
    "sample": "sample: new images from the model's prior",
    "reconstruct": "reconstruct: test images through the model",
    "interpolate": "interpolate: between two test images",
    "traverse": "traverse: one code dimension at a time",
    "grid": "grid: the decoded code plane",
    "walk": "walk: a path through the noise",
}
TOKEN_KINDS = {"word": "word", "char": "character", "bpe": "BPE sub-word"}


def widget_group(task: str) -> str | None:
    """Which widget group serves a task (``None``: no widgets for it yet)."""
    return TASK_WIDGETS.get(task)


def describe(ctx: AppContext, location: str | None) -> tuple[str, str | None]:
    """(what the page says about the checkpoint, the widget group to show)."""
    if not location:
        return info("No checkpoint yet: train one in the Train tab (the defaults take seconds), then come back."), None
    try:
        entry = describe_entry(location, host=ctx.host)
    except ArchzooError as exc:
        return problem(str(exc)), None
    if entry.problem:
        return problem(entry.problem), None
    group = widget_group(entry.task)
    text = f"{entry.architecture} on {entry.dataset} ({entry.task}), {entry.headline}."
    if group is None:
        return info(
            text
            + f" The browser has no widgets for {entry.task} yet; use the Python API (archzoo.api.sample_checkpoint)."
        ), None
    if group == "image":
        text += (
            " Draw on the sketchpad or upload an image; it is converted to the model's input, and the page says how."
        )
    return info(text), group


def what_it_takes(ctx: AppContext, location: str | None) -> tuple[int, tuple[str, ...], str]:
    """(its number of classes, its sampling modes, what its text box reads) for the
    widgets that depend on the checkpoint: top-k goes no further than its classes,
    a generator offers only its own modes, a text model says what it reads."""
    try:
        meta = read_meta(describe_entry(location, host=ctx.host).path) if location else {}
    except (ArchzooError, OSError):
        meta = {}
    data = (meta.get("dataset") or {}).get("info") or {}
    classes = int(data.get("num_classes") or 0) or len(data.get("class_names") or ()) or 10
    spec = ctx.host.architectures.get(str(meta.get("architecture", "")))
    modes = (spec.sample_modes if spec is not None else ()) or ("sample",)
    vocabulary = int(data.get("vocab_size") or 0)
    kind = TOKEN_KINDS.get(str((meta.get("train") or {}).get("tokenizer", "")), "")
    reads = (
        f"It reads {kind + ' ' if kind else ''}tokens of a {vocabulary:,}-token vocabulary learned from "
        f"{(meta.get('dataset') or {}).get('name', 'its data')}; anything outside it is read as one unknown token."
        if vocabulary
        else ""
    )
    return classes, modes, reads


def modes_info(modes: tuple[str, ...]) -> str:
    return "; ".join(MODE_WORDS.get(mode, mode) for mode in modes)


def _label(top_k: list[tuple[str, float]]) -> dict[str, float]:
    return {label: float(p) for label, p in top_k}


def _messages(prediction: Any) -> str:
    """The notes on what was changed, and with MC-dropout the spread of the first input's classes."""
    notes = [n for n in prediction.notes if not n.startswith("MC-dropout:")]
    html = notes_html(notes)
    if prediction.spread:
        shown = ", ".join(
            f"{escape(label)} {p:.3f} ± {s:.3f}" for (label, p), s in zip(prediction.top_k[0], prediction.spread[0])
        )
        html += (
            '<div class="az-msg az-info" id="az-mc-spread"><b>MC-dropout</b> (the mean of the passes with dropout on, '
            f"± their standard deviation; a wide spread is a model unsure of its answer): {shown}</div>"
        )
    return html


# -- the handlers (one per button) ------------------------------------------------------------


def classify_sketch(ctx: AppContext, location: str | None, sketch: Any, top_k: float):
    """-> (label, what the model saw, message); ``sketch`` is the pad's PNG data: URL."""
    try:
        _need(location)
        drawing = sketch_pad.read_drawing(sketch)
        prediction = inference.classify_drawing(location, drawing, top_k=int(top_k), host=ctx.host)
    except Exception as exc:
        return None, None, error_message(exc)
    return _label(prediction.top_k[0]), own_image_file(ctx, prediction.seen), notes_html(prediction.notes)


def follow_sketch(ctx: AppContext, location: str | None, sketch: Any, top_k: float):
    """The prediction for the drawing so far, after each stroke: as :func:`classify_sketch`,
    except that a cleared or still empty canvas clears the answer instead of scolding."""
    try:
        drawing = sketch_pad.read_drawing(sketch)
    except ArchzooError as exc:
        return None, None, error_message(exc)
    if not location or drawing is None or sketch_is_blank(drawing):
        return None, None, ""
    return classify_sketch(ctx, location, sketch, top_k)


def classify_upload(
    ctx: AppContext,
    location: str | None,
    upload: Any,
    top_k: float,
    match: bool,
    centre: bool = False,
    passes: float = 0,
):
    try:
        _need(location)
        if not upload:
            raise ArchzooError("no image: choose a file to upload first")
        prediction = inference.classify_image(
            location,
            upload,
            top_k=int(top_k),
            match_polarity=bool(match),
            centre=bool(centre),
            mc_dropout=int(passes or 0),
            host=ctx.host,
        )
    except Exception as exc:
        return None, None, error_message(exc)
    return _label(prediction.top_k[0]), own_image_file(ctx, prediction.seen), _messages(prediction)


def preview_and_classify(
    ctx: AppContext,
    location: str | None,
    upload: Any,
    top_k: float,
    match: bool,
    centre: bool = False,
    passes: float = 0,
):
    """-> (the upload as it is, label, what the model saw, message): a picture shown before it is read."""
    try:
        shown = thumbnail(upload)
    except Exception as exc:
        return gr.update(value=None, visible=False), None, None, error_message(exc)
    return (gr.update(value=shown, visible=True), *classify_upload(ctx, location, upload, top_k, match, centre, passes))


def thumbnail(upload: Any, side: int = 320) -> Any:
    """The uploaded picture itself, at most ``side`` pixels a side, read by the same checks as any image."""
    picture = open_image(upload).copy()
    picture.thumbnail((side, side))
    return picture


def grayscale_input(ctx: AppContext, location: str | None) -> bool:
    """Whether the checkpoint reads one-channel images (digits, MNIST, Fashion-MNIST): those uploads are
    cropped and centred as a drawing by default."""
    try:
        meta = read_meta(describe_entry(location, host=ctx.host).path) if location else {}
    except (ArchzooError, OSError):
        return False
    shape = ((meta.get("dataset") or {}).get("info") or {}).get("input_shape") or ()
    return len(shape) == 3 and int(shape[0]) == 1


def classify_rows(ctx: AppContext, location: str | None, text: str, top_k: float, passes: float = 0):
    rows_table = table([], ["row", "prediction", "probability"])
    try:
        _need(location)
        prediction = inference.classify_rows(
            location, text, top_k=int(top_k), mc_dropout=int(passes or 0), host=ctx.host
        )
    except Exception as exc:
        return None, rows_table, error_message(exc)
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return _label(prediction.top_k[0]), _ranked_table("row", lines, prediction), _messages(prediction)


def _ranked_table(what: str, items: list[str], prediction: Any) -> Any:
    """Each input with its top class and probability (and, with MC-dropout, that probability's spread)."""
    if prediction.spread is None:
        rows = [[item, r[0][0], round(r[0][1], 4)] for item, r in zip(items, prediction.top_k)]
        return table(rows, [what, "prediction", "probability"])
    rows = [
        [item, r[0][0], round(r[0][1], 4), round(s[0], 4)]
        for item, r, s in zip(items, prediction.top_k, prediction.spread)
    ]
    return table(rows, [what, "prediction", "probability", "spread"])


def predict_values(ctx: AppContext, location: str | None, text: str):
    """A regression's predicted values for typed rows -> (table of rows and values, notes)."""
    from archzoo.inference.regression import predict_typed_rows

    try:
        _need(location)
        found = predict_typed_rows(location, text, host=ctx.host)
    except Exception as exc:
        return table([], ["row", "predicted"]), error_message(exc)
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    columns = ["row", *(f"predicted {name}" for name in found.names)]
    return table([[line, *(round(v, 6) for v in values)] for line, values in zip(lines, found.values)], columns), (
        notes_html(found.notes)
    )


def classify_text(ctx: AppContext, location: str | None, text: str, top_k: float, passes: float = 0):
    rows_table = table([], ["text", "prediction", "probability"])
    try:
        _need(location)
        prediction = inference.classify_texts(
            location, text, top_k=int(top_k), mc_dropout=int(passes or 0), host=ctx.host
        )
    except Exception as exc:
        return None, rows_table, error_message(exc)
    texts = [t.strip() for t in (text or "").splitlines() if t.strip()]
    return _label(prediction.top_k[0]), _ranked_table("text", texts, prediction), _messages(prediction)


def generate_images(
    ctx: AppContext,
    location: str | None,
    count: float,
    seed: float,
    steps: float,
    mode: str = "sample",
    sampler: str = SAMPLER_DEFAULT,
    wanted_class: str = EVERY_CLASS,
    guidance: float = 0.0,
):
    try:
        _need(location)
        chosen = None if wanted_class in (None, "", EVERY_CLASS) else wanted_class
        images, notes = inference.draw_images(
            location,
            n=count,
            seed=seed,
            steps=steps,
            mode=mode,
            sampler=None if sampler == SAMPLER_DEFAULT else sampler,
            wanted_class=chosen,
            guidance=float(guidance) if guidance else None,  # 0, or a hidden slider: no guidance asked for
            host=ctx.host,
        )
    except Exception as exc:
        return None, error_message(exc)
    files = [own_image_file(ctx, image) for image in images]
    drawn = (f", class {chosen}" if chosen else "") + (f", guidance {float(guidance):g}" if guidance else "")
    said = ok(f"{len(images)} image(s), seed {int(seed)}, mode {mode}{drawn}.")
    return files, said + "".join(info(n) for n in notes)


def class_choices(ctx: AppContext, location: str | None) -> tuple[list[str], bool]:
    """(the class chooser's choices, whether a guidance weight applies) for a generator
    checkpoint: no choices for a generator that takes no class."""
    try:
        found = conditioning(location, host=ctx.host) if location else None
    except (ArchzooError, OSError):
        found = None
    if found is None or not found.conditional:
        return [], False
    return [EVERY_CLASS, *found.class_names], found.guidance


def generate_text(ctx: AppContext, location: str | None, prompt: str, temperature: float, length: float):
    try:
        _need(location)
        texts = inference.generate_text(location, prompt, temperature=temperature, max_length=length, host=ctx.host)
    except Exception as exc:
        return "", error_message(exc)
    return "\n\n---\n\n".join(texts), ""


def extract_features(ctx: AppContext, location: str | None, text: str):
    empty = table([], ["text"])
    try:
        _need(location)
        features = inference.extract_features(location, text, host=ctx.host)
    except Exception as exc:
        return empty, empty, error_message(exc)
    shown = min(8, len(features.vectors[0]) if features.vectors else 0)
    vectors = table(
        [[t, len(v), *[round(x, 4) for x in v[:shown]]] for t, v in zip(features.texts, features.vectors)],
        ["text", "dimensions", *[f"x{i}" for i in range(shown)]],
    )
    # Numbered, so that two texts alike (or alike in their first 24 characters) are two columns.
    names = [f"{i}. " + (t if len(t) <= 24 else t[:23] + "…") for i, t in enumerate(features.texts, 1)]
    similarity = table([[n, *[round(s, 3) for s in row]] for n, row in zip(names, features.similarity)], ["", *names])
    return (
        vectors,
        similarity,
        ok(
            f"{len(features.texts)} text(s), {len(features.vectors[0])} dimensions each; "
            "similarity is the cosine of the angle between two embeddings."
        ),
    )


def classify_nodes(ctx: AppContext, location: str | None, nodes: str):
    try:
        _need(location)
        found = inference.classify_nodes(location, nodes, host=ctx.host)
    except Exception as exc:
        return table([], NODE_COLUMNS), error_message(exc)
    rows = [
        [n, s, t, p, round(q, 4)]
        for n, s, t, p, q in zip(found.nodes, found.splits, found.true_classes, found.predicted, found.probabilities)
    ]
    which = f"{len(found.nodes):,} node(s)" if (nodes or "").strip() else f"every test node ({len(found.nodes):,})"
    return table(rows, NODE_COLUMNS), ok(
        f"{which}: accuracy {found.accuracy:.4f}. Nodes that were in the training "
        "split say little about the model; the test split is its honest score."
    )


def _need(location: str | None) -> None:
    if not location:
        raise ArchzooError("choose a checkpoint first (train one in the Train tab)")


# -- the tab ------------------------------------------------------------------------------------


def build(ctx: AppContext) -> dict:
    choices = checkpoint_choices(ctx)
    first = pick(choices, None)
    first_text, first_group = describe(ctx, first)
    checkpoint = gr.Dropdown(
        choices,
        value=first,
        label="Checkpoint",
        allow_custom_value=True,
        info="from the checkpoint store, newest first; or type a folder path",
        elem_id="az-infer-checkpoint",
    )
    about = gr.HTML(first_text, elem_id="az-infer-about")
    classes, modes, reads = what_it_takes(ctx, first)
    top_k = gr.Slider(
        1,
        classes,
        value=min(3, classes),
        step=1,
        label="classes to show (top-k)",
        visible=first_group in ("image", "tabular", "text"),
        elem_id="az-top-k",
    )
    passes = gr.Slider(
        0,
        100,
        value=0,
        step=1,
        label="MC-dropout passes",
        info="0: one plain pass; N: the mean of N passes with dropout left on, and how much they disagree (for "
        "models trained with dropout; the drawing is read plainly)",
        visible=first_group in ("image", "tabular", "text"),
        elem_id="az-mc-passes",
    )
    groups: dict[str, Any] = {}

    with gr.Column(visible=first_group == "image") as groups["image"]:
        with gr.Row(equal_height=False):
            with gr.Column():
                sketch = sketch_pad.build("az-sketch")
                classify_drawing_button = gr.Button(
                    "Classify the drawing", variant="primary", elem_id="az-classify-sketch"
                )
                # The answer right under the drawing: on a phone the columns stack, and it stays in view.
                with gr.Row(equal_height=False):
                    image_label = gr.Label(label="Prediction", elem_id="az-image-label", scale=3)
                    seen = gr.Image(
                        label="What the model saw",
                        type="pil",
                        format="png",
                        interactive=False,
                        height=200,
                        scale=2,
                        min_width=120,
                        elem_id="az-seen",
                        buttons=[],
                    )
                image_notes = gr.HTML(elem_id="az-image-notes")
            with gr.Column():
                upload = gr.File(label="…or upload an image (PNG, JPEG, …)", type="filepath", elem_id="az-upload")
                upload_preview = gr.Image(
                    label="Your upload",
                    type="pil",
                    format="png",
                    interactive=False,
                    height=160,
                    visible=False,
                    elem_id="az-upload-preview",
                    buttons=[],
                )
                match = gr.Checkbox(
                    True,
                    label="match the training images' background",
                    info="invert a dark-on-light picture for a model trained on light-on-dark digits, and say so",
                )
                centre = gr.Checkbox(
                    first_group == "image" and grayscale_input(ctx, first),
                    label="crop and centre it as a drawing",
                    info="crop to the ink and centre it as the training digits are (on for grayscale models)",
                    elem_id="az-upload-centre",
                )
                classify_upload_button = gr.Button("Classify the upload", elem_id="az-classify-upload")

    with gr.Column(visible=first_group == "tabular") as groups["tabular"]:
        rows_in = gr.Textbox(
            label="Numbers, comma-separated, one row per line", lines=3, placeholder="0.5, -0.2", elem_id="az-rows"
        )
        classify_rows_button = gr.Button("Classify", variant="primary")
        with gr.Row():
            rows_label = gr.Label(label="Prediction (first row)")
            rows_table = gr.Dataframe(
                table([], ["row", "prediction", "probability"]), label="Every row", interactive=False
            )
        rows_notes = gr.HTML()

    with gr.Column(visible=first_group == "regression") as groups["regression"]:
        values_in = gr.Textbox(
            label="Inputs, comma-separated, one row per line",
            lines=3,
            placeholder="0.5",
            info="in the data's own units; the residuals on the test split are under Views",
            elem_id="az-value-rows",
        )
        predict_values_button = gr.Button("Predict", variant="primary", elem_id="az-predict-values")
        values_table = gr.Dataframe(table([], ["row", "predicted"]), label="Predicted values", interactive=False)
        values_notes = gr.HTML()

    with gr.Column(visible=first_group == "text") as groups["text"]:
        text_in = gr.Textbox(label="Text (one per line)", lines=4, info=reads or None, elem_id="az-text")
        classify_text_button = gr.Button("Classify", variant="primary")
        with gr.Row():
            text_label = gr.Label(label="Prediction (first text)")
            text_table = gr.Dataframe(
                table([], ["text", "prediction", "probability"]), label="Every text", interactive=False
            )
        text_notes = gr.HTML()

    with gr.Column(visible=first_group == "image-generation") as groups["image-generation"]:
        with gr.Row():
            count = gr.Slider(1, 16, value=4, step=1, label="how many")
            seed = gr.Number(0, label="seed", info="the same seed gives the same images")
            steps = gr.Number(0, label="steps", info="sampling steps; 0 is the model's default")
        with gr.Row():
            mode = gr.Dropdown(
                list(modes),
                value="sample",
                allow_custom_value=True,  # the generator itself refuses a mode it lacks, naming its own
                label="mode",
                elem_id="az-gen-mode",
                info=modes_info(modes),
            )
            sampler = gr.Dropdown(
                [SAMPLER_DEFAULT, "ddim", "ddpm"],
                value=SAMPLER_DEFAULT,
                label="sampler (diffusion models)",
                elem_id="az-gen-sampler",
                info="ddim: 'steps' steps (50 by default); ddpm: all T steps, slow",
            )
        first_classes, first_guided = class_choices(ctx, first) if first_group == "image-generation" else ([], False)
        with gr.Row():
            gen_class = gr.Dropdown(
                first_classes or [EVERY_CLASS],
                value=EVERY_CLASS,
                label="class",
                info="a class-conditional model draws this class of its data",
                visible=bool(first_classes),
                elem_id="az-gen-class",
            )
            guidance = gr.Slider(
                0,
                10,
                value=0,
                step=0.5,
                label="guidance weight w",
                info="classifier-free guidance: (1 + w) eps(class) - w eps(no class); 0 is the conditional model",
                visible=first_guided,
                elem_id="az-gen-guidance",
            )
        generate_images_button = gr.Button("Generate", variant="primary")
        gallery = gr.Gallery(label="Generated images", columns=4, height="auto", elem_id="az-gallery")
        gallery_notes = gr.HTML(elem_id="az-gallery-notes")

    with gr.Column(visible=first_group == "text-generation") as groups["text-generation"]:
        prompt = gr.Textbox(label="Prompt", lines=3, info="may be empty: the model then starts on its own")
        with gr.Row():
            temperature = gr.Slider(
                0.05, 2.0, value=0.8, step=0.05, label="temperature", info="lower is more predictable"
            )
            length = gr.Slider(1, 1000, value=100, step=1, label="length", info="at most this many tokens")
        generate_text_button = gr.Button("Generate", variant="primary")
        generated = gr.Textbox(label="Generated text", lines=8, interactive=False)
        generated_notes = gr.HTML()

    with gr.Column(visible=first_group == "features") as groups["features"]:
        texts_in = gr.Textbox(label="Texts, one per line", lines=4)
        extract_button = gr.Button("Embed", variant="primary")
        vectors = gr.Dataframe(table([], ["text"]), label="Embeddings (first values)", interactive=False)
        similarity = gr.Dataframe(table([], ["text"]), label="Pairwise cosine similarity", interactive=False)
        features_notes = gr.HTML()

    with gr.Column(visible=first_group == "graph") as groups["graph"]:
        nodes_in = gr.Textbox(
            label="Node indices, separated by commas or spaces",
            placeholder="empty: every test node",
            info="nodes of the graph the checkpoint was trained on",
            elem_id="az-nodes",
        )
        classify_nodes_button = gr.Button("Classify nodes", variant="primary")
        nodes_table = gr.Dataframe(table([], NODE_COLUMNS), label="Nodes", interactive=False)
        nodes_notes = gr.HTML()

    groups["sequence"] = sequence_panel.build(ctx, checkpoint, first, first_group == "sequence")["column"]

    views = views_panel.build(ctx, checkpoint, first)
    group_blocks = [groups[g] for g in GROUPS]

    # What one checkpoint showed is gone when another is chosen: no stale prediction under a new name.
    results = [image_label, seen, image_notes, rows_label, rows_table, rows_notes, text_label, text_table, text_notes,
               gallery, gallery_notes, generated, generated_notes, vectors, similarity, features_notes, nodes_table,
               nodes_notes, values_table, values_notes]  # fmt: skip
    cleared = [None, None, "", None, table([], ["row", "prediction", "probability"]), "", None,
               table([], ["text", "prediction", "probability"]), "", None, "", "", "", table([], ["text"]),
               table([], ["text"]), "", table([], NODE_COLUMNS), "", table([], ["row", "predicted"]), ""]  # fmt: skip

    def fitted(location, group):
        """The updates that fit the widgets to ``location``: top-k, modes, the text box's words."""
        classes, modes, reads = what_it_takes(ctx, location)
        return [
            gr.update(visible=group in ("image", "tabular", "text"), maximum=classes, value=min(3, classes)),
            gr.update(choices=list(modes), value="sample", info=modes_info(modes)),
            gr.update(info=reads or None),
            gr.update(value=group == "image" and grayscale_input(ctx, location)),
            gr.update(visible=group in ("image", "tabular", "text"), value=0),
            *conditioned(location, group),
        ]

    def conditioned(location, group):
        """The class chooser and the guidance slider: shown for a conditional generator only."""
        choices, guided = class_choices(ctx, location) if group == "image-generation" else ([], False)
        return [
            gr.update(choices=choices or [EVERY_CLASS], value=EVERY_CLASS, visible=bool(choices)),
            gr.update(value=0, visible=guided),
        ]

    def on_checkpoint(location):
        text, group = describe(ctx, location)
        groups_shown = [gr.update(visible=g == group) for g in GROUPS]
        return [text, *fitted(location, group), *groups_shown, *cleared, *views["fit"](location)]

    fitted_widgets = [top_k, mode, text_in, centre, passes, gen_class, guidance]
    checkpoint.change(
        on_checkpoint,
        checkpoint,
        [about, *fitted_widgets, *group_blocks, *results, *views["outputs"]],
        api_name="checkpoint_info",
    )

    classify_drawing_button.click(
        bind(classify_sketch, ctx, ["checkpoint", "sketch", "top_k"]),
        [checkpoint, sketch, top_k],
        [image_label, seen, image_notes],
        api_name="classify_sketch",
    )
    # The prediction follows the drawing: each stroke asks again, the newest drawing winning.
    sketch.input(
        bind(follow_sketch, ctx, ["checkpoint", "sketch", "top_k"]),
        [checkpoint, sketch, top_k],
        [image_label, seen, image_notes],
        trigger_mode="always_last",
        show_progress="hidden",
        api_visibility="undocumented",
    )
    classify_upload_button.click(
        bind(classify_upload, ctx, ["checkpoint", "image", "top_k", "match_background", "centre", "mc_dropout"]),
        [checkpoint, upload, top_k, match, centre, passes],
        [image_label, seen, image_notes],
        api_name="classify_image",
    )
    # An upload is shown as it is and classified at once; the button classifies it again after a change of box.
    upload.upload(
        bind(preview_and_classify, ctx, ["checkpoint", "image", "top_k", "match_background", "centre", "mc_dropout"]),
        [checkpoint, upload, top_k, match, centre, passes],
        [upload_preview, image_label, seen, image_notes],
        api_visibility="undocumented",
    )
    upload.clear(lambda: gr.update(value=None, visible=False), None, upload_preview, api_visibility="undocumented")
    classify_rows_button.click(
        bind(classify_rows, ctx, ["checkpoint", "rows", "top_k", "mc_dropout"]),
        [checkpoint, rows_in, top_k, passes],
        [rows_label, rows_table, rows_notes],
        api_name="classify_rows",
    )
    predict_values_button.click(
        bind(predict_values, ctx, ["checkpoint", "rows"]),
        [checkpoint, values_in],
        [values_table, values_notes],
        api_name="predict_values",
    )
    classify_text_button.click(
        bind(classify_text, ctx, ["checkpoint", "text", "top_k", "mc_dropout"]),
        [checkpoint, text_in, top_k, passes],
        [text_label, text_table, text_notes],
        api_name="classify_text",
    )
    generate_images_button.click(
        bind(
            generate_images,
            ctx,
            ["checkpoint", "count", "seed", "steps", "mode", "sampler", "wanted_class", "guidance"],
        ),
        [checkpoint, count, seed, steps, mode, sampler, gen_class, guidance],
        [gallery, gallery_notes],
        api_name="generate_images",
    )
    generate_text_button.click(
        bind(generate_text, ctx, ["checkpoint", "prompt", "temperature", "length"]),
        [checkpoint, prompt, temperature, length],
        [generated, generated_notes],
        api_name="generate_text",
    )
    extract_button.click(
        bind(extract_features, ctx, ["checkpoint", "texts"]),
        [checkpoint, texts_in],
        [vectors, similarity, features_notes],
        api_name="extract_features",
    )
    classify_nodes_button.click(
        bind(classify_nodes, ctx, ["checkpoint", "nodes"]),
        [checkpoint, nodes_in],
        [nodes_table, nodes_notes],
        api_name="classify_nodes",
    )

    def refresh(current):
        options = checkpoint_choices(ctx)
        chosen = pick(options, current)
        text, group = describe(ctx, chosen)
        groups_shown = [gr.update(visible=g == group) for g in GROUPS]
        return [gr.update(choices=options, value=chosen), text, *fitted(chosen, group), *groups_shown]

    return {
        "checkpoint": checkpoint,
        "refresh": (refresh, [checkpoint], [checkpoint, about, *fitted_widgets, *group_blocks]),
    }
