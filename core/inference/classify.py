"""Classification by task: images, sketches, rows of numbers, texts, graph nodes.

:func:`predict` is what ``archzoo predict`` runs and what every classifying
widget of the app calls: it reads the checkpoint's task and turns each input
into what the model was trained on (images converted and resized, rows
normalised, texts tokenized), saying what it changed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from archzoo.checkpoints.io import load
from archzoo.checkpoints.meta import stored_temperature
from archzoo.errors import ArchzooError
from archzoo.inference.data import evaluation_data
from archzoo.inference.inputs import open_image, parse_row, prepare_image, prepare_row
from archzoo.inference.sampling import (
    data_info,
    expect,
    require_task,
    sample_checkpoint,
    whole,
)
from archzoo.inference.sketch import input_preview, match_background, prepare_drawing
from archzoo.inference.uncertainty import MAX_PASSES, mc_dropout
from archzoo.registry.host import Host, get_host
from archzoo.registry.limits import MAX_ROWS, check_count, check_text_request, check_top_k


@dataclass
class Prediction:
    """Top-k classes for each input, what was changed to make the input fit, and
    (for images) the picture the model was actually given."""

    top_k: list[list[tuple[str, float]]]
    notes: list[str] = field(default_factory=list)
    seen: Any = None  # PIL image of the model's input, scaled up for display, or None
    #: With MC-dropout: the spread of each shown class's probability over the passes, as ``top_k``.
    spread: list[list[float]] | None = None


@dataclass
class NodePredictions:
    """Predicted classes of some nodes of a graph, beside their true classes and
    the split each node belonged to in training (a prediction for a training
    node is no test of the model)."""

    nodes: list[int]
    splits: list[str]
    true_classes: list[str]
    predicted: list[str]
    probabilities: list[float]

    @property
    def accuracy(self) -> float:
        return sum(t == p for t, p in zip(self.true_classes, self.predicted)) / len(self.nodes)


def predict(
    location: str | Path,
    inputs: Sequence[Any],
    *,
    top_k: int = 3,
    calibrated: bool = False,
    temperature: float | None = None,
    centre: bool = False,
    host: Host | None = None,
) -> tuple[list[list[tuple[str, float]]], list[str]]:
    """Class predictions for image files / images / rows of numbers, or for
    texts (strings) when the checkpoint is a text classifier.

    ``centre``: read each image as a drawing is (:func:`classify_image`'s ``centre``):
    cropped to its ink, centred and sized as the training images are.

    ``calibrated``: divide the logits by the temperature stored in the
    checkpoint (``archzoo report`` fits it); ``temperature``: by this one.
    Either changes the probabilities, never the ranking.

    Returns (top-k (label, probability) pairs per input, notes on conversions made).
    """
    check_top_k(top_k)
    result, notes = _classified(location, inputs, calibrated, temperature, centre, 0, host)
    return result.top_k(top_k), notes


def predict_with_spread(
    location: str | Path,
    inputs: Sequence[Any],
    *,
    passes: int = 30,
    top_k: int = 3,
    centre: bool = False,
    seed: int = 0,
    host: Host | None = None,
) -> tuple[list[list[tuple[str, float, float]]], list[str]]:
    """MC-dropout predictions (notes, exercise 3.3): ``passes`` forward passes with the
    model's dropout left on, as in training; each class's mean probability and its
    spread (standard deviation) over the passes.  A wide spread is a model unsure of
    its answer.  Repeatable for a ``seed``.

    Returns (top-k (label, mean probability, spread) triples per input, notes)."""
    check_top_k(top_k)
    result, notes = _classified(
        location, inputs, False, None, centre, whole(passes, "passes", 2, MAX_PASSES), host, seed
    )
    spread = result.outputs["spread"]
    names = list(result.outputs["class_names"])
    ranked = []
    for means, spreads, best in zip(
        result.outputs["probabilities"], spread, result.outputs["probabilities"].argsort(dim=1, descending=True)
    ):
        ranked.append([(names[i], float(means[i]), float(spreads[i])) for i in best[: min(top_k, len(names))].tolist()])
    return ranked, notes


def _classified(
    location: str | Path,
    inputs: Sequence[Any],
    calibrated: bool,
    temperature: float | None,
    centre: bool,
    passes: int,
    host: Host | None,
    seed: int = 0,
) -> tuple[Any, list[str]]:
    """The class-probabilities result for ``inputs``, each read as the checkpoint's data
    was; with ``passes``, the mean and spread of that many MC-dropout passes."""
    if not inputs:
        raise ArchzooError("give at least one input to predict")
    check_count("inputs in one prediction", len(inputs), MAX_ROWS, hint="send fewer at a time")
    texts = [item for item in inputs if isinstance(item, str)]
    if texts:
        check_text_request("\n".join(texts), "the inputs")
    host = host or get_host()
    loaded = load(location, host=host)
    if loaded.spec.task == "feature-extraction":
        raise ArchzooError(
            f"{loaded.path} is a feature extractor ({loaded.spec.name}): get its vectors with 'archzoo embed' "
            "(archzoo.inference.extract_features); 'archzoo eval' reports its head's accuracy"
        )
    if loaded.info.task == "tabular-regression":
        raise ArchzooError(
            f"{loaded.path} is a regression ({loaded.spec.name}): it predicts numbers, not classes; use "
            "archzoo.inference.regression.predict_values (archzoo predict does)"
        )
    scaling = _prediction_temperature(loaded, calibrated, temperature)
    notes: list[str] = []
    if "text-classification" in (loaded.info.task, loaded.spec.task):
        # The model's own tokenizer reads the texts; empty ones are an error.
        request = {"texts": [str(item) for item in inputs], **scaling}
    elif loaded.spec.task not in ("image-classification", "tabular-classification"):
        raise ArchzooError(
            f"predict takes images, rows of numbers or texts; '{loaded.spec.name}' is a {loaded.spec.task} model"
        )
    else:
        if len(loaded.info.input_shape) == 3:
            if centre:
                inputs = [prepare_drawing(open_image(item), loaded.info, notes, label=_name(item)) for item in inputs]
            tensors = [prepare_image(item, loaded.info, notes) for item in inputs]
        else:
            tensors = [prepare_row(item, loaded.info, f"row {number}") for number, item in enumerate(inputs, 1)]
        request = {"inputs": torch.stack(tensors), **scaling}
    if passes:
        result = mc_dropout(loaded, request, passes, seed, host)
        notes.append(
            f"MC-dropout: the mean of {passes} passes with dropout on, and the spread (standard deviation) over them"
        )
    else:
        result = sample_checkpoint(loaded, request, host=host)
    expect(result, "class-probabilities")
    return result, notes + list(result.outputs.get("notes", []))


def _prediction_temperature(loaded: Any, calibrated: bool, temperature: float | None) -> dict[str, float]:
    """The ``temperature`` entry of a sample request: the stored one (``calibrated``), a given one, or none."""
    if calibrated and temperature is not None:
        raise ArchzooError("give either --calibrated (the stored temperature) or --temperature T, not both")
    if calibrated:
        stored = stored_temperature(loaded.meta)
        if stored is None:
            raise ArchzooError(
                f"{loaded.path} has no fitted temperature: run 'archzoo report {loaded.path}' first "
                "(it fits one on the validation split and stores it), or give --temperature T"
            )
        return {"temperature": stored}
    if temperature is not None:
        try:
            value = float(temperature)
        except (TypeError, ValueError):
            raise ArchzooError(f"temperature must be a number, not {temperature!r}") from None
        if math.isnan(value) or not (0.0 < value <= 100.0):
            raise ArchzooError(f"temperature must be above 0 and at most 100, not {temperature}")
        return {"temperature": value}
    return {}


def classify_drawing(
    location: str | Path, drawing: Any, *, top_k: int = 3, calibrated: bool = False, host: Host | None = None
) -> Prediction:
    """Top-k classes for a sketch (a PIL image, array or file; transparent or not);
    ``calibrated``: with the checkpoint's fitted temperature (``archzoo report``)."""
    host = host or get_host()
    require_task(location, ("image-classification",), host)
    info = data_info(location, host)
    notes: list[str] = []
    image = prepare_drawing(drawing, info, notes)
    return _predict_image(location, image, info, notes, top_k, host, calibrated)


def _name(item: Any) -> str:
    """How an input is called in notes: its file name, or "image"."""
    return Path(item).name if isinstance(item, (str, Path)) else "image"


def classify_image(
    location: str | Path,
    image: Any,
    *,
    top_k: int = 3,
    match_polarity: bool = True,
    centre: bool = False,
    calibrated: bool = False,
    mc_dropout: int = 0,
    host: Host | None = None,
) -> Prediction:
    """Top-k classes for an uploaded image (a file path, PIL image or array); with
    ``mc_dropout`` passes, their mean and spread (:func:`predict_with_spread`).

    The colour mode and size are converted to what the model takes, and said
    so; with ``match_polarity`` a light-background picture is inverted for a
    model trained on light-on-dark images (and the other way round).  With
    ``centre`` it is read as a drawing is: cropped to its ink, centred and
    sized as the training digits are (a typed "3" in a wide photo is a small
    mark in a corner otherwise).
    """
    host = host or get_host()
    require_task(location, ("image-classification",), host)
    info = data_info(location, host)
    notes: list[str] = []

    picture = open_image(image)
    if centre:
        picture = prepare_drawing(picture, info, notes, label="upload")
    elif match_polarity:
        picture = match_background(picture, info, notes)
    return _predict_image(location, picture, info, notes, top_k, host, calibrated, mc_dropout)


def classify_rows(
    location: str | Path, text: str, *, top_k: int = 3, mc_dropout: int = 0, host: Host | None = None
) -> Prediction:
    """Top-k classes for rows of numbers, one row per line (``0.5, -1.2``); blank lines
    are skipped, and an error names its row by its line in ``text``."""
    host = host or get_host()
    check_text_request(text or "", "the rows")  # before anything else: the cheapest answer to a flood
    require_task(location, ("tabular-classification",), host)
    width = math.prod(data_info(location, host).input_shape)
    lines = [(number, line) for number, line in enumerate((text or "").splitlines(), 1) if line.strip()]
    if not lines:
        raise ArchzooError(f"type {width} numbers separated by commas, one row per line")
    rows = [parse_row(line, width, f"row {number}") for number, line in lines]
    return ranked(location, rows, top_k=top_k, mc_dropout=mc_dropout, host=host)


def classify_texts(
    location: str | Path, texts: list[str] | str, *, top_k: int = 3, mc_dropout: int = 0, host: Host | None = None
) -> Prediction:
    """Top-k classes for each text (one per line when given a single string),
    through :func:`archzoo.api.predict` as ``archzoo predict`` does."""
    host = host or get_host()
    if isinstance(texts, str):
        check_text_request(texts)  # before anything else: the cheapest answer to a flood
    require_task(location, ("text-classification",), host)
    return ranked(location, _texts(texts), top_k=top_k, mc_dropout=mc_dropout, host=host)


def classify_nodes(
    location: str | Path, nodes: list[int] | str | None = None, *, host: Host | None = None
) -> NodePredictions:
    """Classes of nodes of the graph the checkpoint was trained on.

    ``nodes``: indices (a list, or text such as ``"3, 17 42"``); empty: every
    node of the test split, so the accuracy shown is the model's test
    accuracy.  The graph is rebuilt as in training (same split, features
    standardised with the training nodes' statistics)."""
    host = host or get_host()
    require_task(location, ("node-classification",), host)
    loaded = load(location, host=host)
    test, splits = evaluation_data(loaded, split="test", host=host)
    split_of = {
        node: name
        for name in ("train", "val", "test")
        if getattr(splits, name) is not None
        for node in getattr(splits, name)
    }
    wanted = _node_indices(nodes, len(split_of)) or list(test)
    batch = splits.collate(wanted)
    result = sample_checkpoint(loaded, {"inputs": batch["inputs"], "nodes": wanted}, host=host)
    expect(result, "class-probabilities")
    names = result.outputs["class_names"]
    best, classes = result.outputs["probabilities"].max(dim=1)
    return NodePredictions(
        nodes=wanted,
        splits=[split_of[n] for n in wanted],
        true_classes=[names[int(c)] for c in batch["labels"][batch["nodes"]]],
        predicted=[names[int(c)] for c in classes],
        probabilities=best.tolist(),
    )


def _node_indices(nodes: list[int] | str | None, count: int) -> list[int]:
    """Node indices from a list or from text (commas or spaces between them), each checked."""
    if isinstance(nodes, str):
        nodes = nodes.replace(",", " ").split()
    indices = [whole(node, "a node index", 0, count - 1) for node in nodes or []]
    return list(dict.fromkeys(indices))  # each node once, in the order given


def _predict_image(location, image, info, notes, top_k, host, calibrated=False, mc_dropout=0) -> Prediction:
    if calibrated and mc_dropout:
        raise ArchzooError("MC-dropout reads the model as it is: give either calibrated or MC-dropout passes")
    found = ranked(location, [image], top_k=top_k, calibrated=calibrated, mc_dropout=mc_dropout, host=host)
    return Prediction(
        top_k=found.top_k, notes=notes + found.notes, seen=input_preview(image, info), spread=found.spread
    )


def ranked(
    location: str | Path,
    inputs: Sequence[Any],
    *,
    top_k: int,
    calibrated: bool = False,
    mc_dropout: int = 0,
    host: Host | None = None,
) -> Prediction:
    """:func:`predict`, or with ``mc_dropout`` passes :func:`predict_with_spread`, as a :class:`Prediction`."""
    if not mc_dropout:
        results, notes = predict(location, inputs, top_k=top_k, calibrated=calibrated, host=host)
        return Prediction(top_k=results, notes=notes)
    triples, notes = predict_with_spread(location, inputs, passes=mc_dropout, top_k=top_k, host=host)
    return Prediction(
        top_k=[[(label, p) for label, p, _ in row] for row in triples],
        notes=notes,
        spread=[[s for _, _, s in row] for row in triples],
    )


def _texts(texts: list[str] | str | None) -> list[str]:
    if isinstance(texts, str):
        texts = check_text_request(texts).splitlines()
    texts = [t.strip() for t in (texts or []) if t and t.strip()]
    if not texts:
        raise ArchzooError("the text is empty: type some text first (one text per line)")
    return texts
