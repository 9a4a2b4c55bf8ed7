"""Inference by task: what a person hands in, turned into a ``sample`` request,
and the answer turned back into something to show.

The UI picks its widgets by task and calls one function here per task; the
CLI can call the same ones.  Classification of images and rows of numbers goes
through :func:`archzoo.api.predict` (exactly what ``archzoo predict`` runs);
the other tasks go through :func:`archzoo.api.sample_checkpoint` with the
request keys listed in :data:`REQUESTS`, which is what a plugin for that task
reads in its ``sample`` hook.

Two helpers make a person's own picture look like the data a model was trained
on, and say what they changed:

- :func:`prepare_drawing` (a sketch): crop to the strokes, centre them, thicken
  thin strokes, match the background (digits and MNIST are light ink on a dark
  background, a sketchpad is dark ink on white), resize.
- :func:`match_background` (an upload): only the background polarity; the
  colour mode and size are converted, with notes, by :func:`archzoo.inputs.prepare_image`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ArchzooError
from .host import Host, get_host

#: What a ``sample`` request holds for each task, and what kind of result comes back.
REQUESTS: dict[str, dict[str, Any]] = {
    "image-classification": {"request": {"inputs": "N x C x H x W tensor, prepared like the training data"}, "result": "class-probabilities"},
    "tabular-classification": {"request": {"inputs": "N x D tensor, normalised like the training data"}, "result": "class-probabilities"},
    "text-classification": {"request": {"texts": "list of str"}, "result": "class-probabilities"},
    "node-classification": {"request": {"inputs": "a graph {x, edge_index}", "nodes": "node indices (optional)"}, "result": "class-probabilities"},
    "image-generation": {"request": {"n": "int", "seed": "int", "steps": "int (sampling steps; 0 = the model's default)"}, "result": "images"},
    "text-generation": {"request": {"prompt": "str", "temperature": "float", "max_length": "int", "n": "int", "top_k": "int (0 = all tokens)", "seed": "int"}, "result": "text"},
    "feature-extraction": {"request": {"texts": "list of str"}, "result": "features"},
}


@dataclass
class Prediction:
    """Top-k classes for each input, what was changed to make the input fit, and
    (for images) the picture the model was actually given."""

    top_k: list[list[tuple[str, float]]]
    notes: list[str] = field(default_factory=list)
    seen: Any = None  # PIL image of the model's input, scaled up for display, or None


@dataclass
class Features:
    """One embedding per text, and their pairwise cosine similarities."""

    texts: list[str]
    vectors: list[list[float]]
    similarity: list[list[float]]


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


# -- what a checkpoint is ------------------------------------------------------------


def checkpoint_meta(location: str | Path, *, host: Host | None = None) -> tuple[Path, dict[str, Any]]:
    """Resolve a checkpoint and read its ``config.json`` without loading the model."""
    from .checkpoint import read_meta, resolve_checkpoint

    host = host or get_host()
    folder = resolve_checkpoint(location, host.settings.checkpoint_dir)
    return folder, read_meta(folder)


def checkpoint_task(location: str | Path, *, host: Host | None = None) -> str:
    """What a checkpoint does, from its config (no model is loaded): the task
    of the data it was trained on, so an MLP trained on ``moons`` takes rows of numbers."""
    from .store import task_of

    _, meta = checkpoint_meta(location, host=host)
    return task_of(meta, host)


def _data_info(location: str | Path, host: Host | None):
    from .data import DataInfo

    _, meta = checkpoint_meta(location, host=host)
    return DataInfo.from_dict(meta["dataset"]["info"])


# -- classification ------------------------------------------------------------------


def classify_drawing(location: str | Path, drawing: Any, *, top_k: int = 3, calibrated: bool = False, host: Host | None = None) -> Prediction:
    """Top-k classes for a sketch (a PIL image, array or file; transparent or not);
    ``calibrated``: with the checkpoint's fitted temperature (``archzoo report``)."""
    host = host or get_host()
    _require_task(location, ("image-classification",), host)
    info = _data_info(location, host)
    notes: list[str] = []
    image = prepare_drawing(drawing, info, notes)
    return _predict_image(location, image, info, notes, top_k, host, calibrated)


def classify_image(
    location: str | Path, image: Any, *, top_k: int = 3, match_polarity: bool = True, calibrated: bool = False, host: Host | None = None,
) -> Prediction:
    """Top-k classes for an uploaded image (a file path, PIL image or array).

    The colour mode and size are converted to what the model takes, and said
    so; with ``match_polarity`` a light-background picture is inverted for a
    model trained on light-on-dark images (and the other way round).
    """
    host = host or get_host()
    _require_task(location, ("image-classification",), host)
    info = _data_info(location, host)
    notes: list[str] = []
    from .inputs import open_image

    picture = open_image(image)
    if match_polarity:
        picture = match_background(picture, info, notes)
    return _predict_image(location, picture, info, notes, top_k, host, calibrated)


def classify_rows(location: str | Path, text: str, *, top_k: int = 3, host: Host | None = None) -> Prediction:
    """Top-k classes for rows of numbers, one row per line (``0.5, -1.2``)."""
    from .api import predict

    host = host or get_host()
    _require_task(location, ("tabular-classification",), host)
    rows = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if not rows:
        info = _data_info(location, host)
        raise ArchzooError(f"type {info.input_shape[0]} numbers separated by commas, one row per line")
    results, notes = predict(location, rows, top_k=top_k, host=host)
    return Prediction(top_k=results, notes=notes)


def classify_texts(location: str | Path, texts: list[str] | str, *, top_k: int = 3, host: Host | None = None) -> Prediction:
    """Top-k classes for each text (one per line when given a single string),
    through :func:`archzoo.api.predict` as ``archzoo predict`` does."""
    from .api import predict

    host = host or get_host()
    _require_task(location, ("text-classification",), host)
    results, notes = predict(location, _texts(texts), top_k=top_k, host=host)
    return Prediction(top_k=results, notes=notes)


def classify_nodes(location: str | Path, nodes: list[int] | str | None = None, *, host: Host | None = None) -> NodePredictions:
    """Classes of nodes of the graph the checkpoint was trained on.

    ``nodes``: indices (a list, or text such as ``"3, 17 42"``); empty: every
    node of the test split, so the accuracy shown is the model's test
    accuracy.  The graph is rebuilt as in training (same split, features
    standardised with the training nodes' statistics)."""
    from .api import evaluation_data, sample_checkpoint
    from .checkpoint import load

    host = host or get_host()
    _require_task(location, ("node-classification",), host)
    loaded = load(location, host=host)
    test, splits = evaluation_data(loaded, split="test", host=host)
    split_of = {node: name for name in ("train", "val", "test") if getattr(splits, name) is not None
                for node in getattr(splits, name)}
    wanted = _node_indices(nodes, len(split_of)) or list(test)
    batch = splits.collate(wanted)
    result = sample_checkpoint(loaded, {"inputs": batch["inputs"], "nodes": wanted}, host=host)
    _expect(result, "class-probabilities")
    names = result.outputs["class_names"]
    best, classes = result.outputs["probabilities"].max(dim=1)
    return NodePredictions(
        nodes=wanted, splits=[split_of[n] for n in wanted],
        true_classes=[names[int(c)] for c in batch["labels"][batch["nodes"]]],
        predicted=[names[int(c)] for c in classes], probabilities=best.tolist(),
    )


def _node_indices(nodes: list[int] | str | None, count: int) -> list[int]:
    """Node indices from a list or from text (commas or spaces between them), each checked."""
    if isinstance(nodes, str):
        nodes = nodes.replace(",", " ").split()
    indices = [_whole(node, "a node index", 0, count - 1) for node in nodes or []]
    return list(dict.fromkeys(indices))  # each node once, in the order given


# -- generation and features --------------------------------------------------------------


def generate_images(
    location: str | Path, *, n: int = 4, seed: int = 0, steps: int = 0, mode: str = "sample", sampler: str | None = None,
    host: Host | None = None,
) -> list[Any]:
    """``n`` generated images as PIL images (see :func:`draw_images` for the notes)."""
    return draw_images(location, n=n, seed=seed, steps=steps, mode=mode, sampler=sampler, host=host)[0]


def draw_images(
    location: str | Path, *, n: int = 4, seed: int = 0, steps: int = 0, mode: str = "sample", sampler: str | None = None,
    host: Host | None = None,
) -> tuple[list[Any], list[str]]:
    """Images from a generator as ``archzoo sample`` draws them, and the notes on them.

    ``mode`` is one of the generator's sampling modes (``sample``, and e.g.
    ``reconstruct``, ``interpolate``, ``traverse``, ``grid``, ``walk``); the
    modes that start from real images pick them from the checkpoint's test
    split with ``seed``.  ``sampler`` picks a diffusion model's sampler
    (``ddim`` or ``ddpm``; empty for its default)."""
    from .generative import sample_checkpoint_images

    host = host or get_host()
    _require_task(location, ("image-generation",), host)
    n, seed, steps = _whole(n, "count", 1, 64), _whole(seed, "seed", 0, 2**32 - 1), _whole(steps, "steps", 0, 10_000)
    result = sample_checkpoint_images(location, n=n, seed=seed, steps=steps, mode=str(mode or "sample"),
                                      sampler=str(sampler or "") or None, host=host)
    _expect(result, "images")
    return [tensor_to_image(image) for image in result.outputs["images"]], list(result.outputs.get("notes", []))


def generate_text(
    location: str | Path, prompt: str, *, temperature: float = 1.0, max_length: int = 100, n: int = 1,
    top_k: int = 0, seed: int | None = None, host: Host | None = None,
) -> list[str]:
    """``n`` continuations of ``prompt`` (an empty prompt lets the model start on its own),
    drawn from the ``top_k`` most likely tokens (0: all), reproducibly when ``seed`` is given."""
    from .api import sample_checkpoint
    from .checkpoint import load

    host = host or get_host()
    _require_task(location, ("text-generation",), host)
    try:
        temperature = float(temperature)
    except (TypeError, ValueError):
        raise ArchzooError(f"temperature must be a number, not {temperature!r}") from None
    if not (0.0 < temperature <= 10.0) or math.isnan(temperature):
        raise ArchzooError(f"temperature must be above 0 and at most 10, not {temperature}")
    max_length = _whole(max_length, "length", 1, 100_000)
    n = _whole(n, "count", 1, 64)
    request = {"prompt": prompt or "", "temperature": temperature, "max_length": max_length, "n": n}
    if top_k:
        request["top_k"] = _whole(top_k, "top-k", 0, 1_000_000)
    if seed is not None:
        request["seed"] = _whole(seed, "seed", 0, 2**32 - 1)
    result = sample_checkpoint(load(location, host=host), request, host=host)
    _expect(result, "text")
    return list(result.outputs["texts"])


def extract_features(location: str | Path, texts: list[str] | str, *, host: Host | None = None) -> Features:
    """Embeddings for each text and their pairwise cosine similarities."""
    import torch

    from .api import sample_checkpoint
    from .checkpoint import load

    host = host or get_host()
    _require_task(location, ("feature-extraction",), host)
    texts = _texts(texts)
    result = sample_checkpoint(load(location, host=host), {"texts": texts}, host=host)
    _expect(result, "features")
    vectors = torch.as_tensor(result.outputs["features"], dtype=torch.float32).reshape(len(texts), -1)
    unit = torch.nn.functional.normalize(vectors, dim=1)
    return Features(texts=texts, vectors=vectors.tolist(), similarity=(unit @ unit.T).tolist())


# -- making a picture look like the training data ------------------------------------------


def dark_background(info: Any) -> bool | None:
    """Were the model's training images light ink on a dark background?  Judged
    from the dataset's mean pixel (digits 0.31, MNIST 0.13, Fashion-MNIST 0.29);
    ``None`` when the dataset recorded no mean."""
    if not info.mean:
        return None
    return sum(info.mean) / len(info.mean) < 0.5


def match_background(image: Any, info: Any, notes: list[str], label: str = "image") -> Any:
    """Invert ``image`` when its background is light and the training images'
    was dark (or the other way round), and say so."""
    from PIL import ImageOps

    image = _opaque(image)
    wanted_dark = dark_background(info)
    if wanted_dark is None:
        return image
    is_light = _border_level(image.convert("L")) > 127
    if is_light == wanted_dark:
        notes.append(
            f"{label}: inverted the colours: it is {'dark on light' if is_light else 'light on dark'}, "
            f"and the model was trained on {'light-on-dark' if wanted_dark else 'dark-on-light'} images"
        )
        image = ImageOps.invert(image.convert("RGB") if image.mode not in ("L", "RGB") else image)
    return image


def prepare_drawing(drawing: Any, info: Any, notes: list[str]) -> Any:
    """A sketch -> a PIL image of exactly the model's size and colour mode.

    Steps, each reported in ``notes`` when it changes something: flatten
    transparency onto white, convert to grayscale, match the background to the
    training data (invert), crop to the strokes and centre them in a square
    (filling the frame for tiny inputs such as 8x8 digits, 20/28 of it as in
    MNIST otherwise), thicken strokes that would vanish when shrunk, resize,
    and stretch the contrast so the brightest stroke is full white.
    """
    import numpy as np
    from PIL import Image, ImageFilter

    if drawing is None:
        raise ArchzooError("the sketch is empty: draw something first")
    from .inputs import open_image

    original = open_image(drawing)
    image = _opaque(original)
    if len(info.input_shape) != 3:
        raise ArchzooError(f"this model takes inputs of shape {tuple(info.input_shape)}, not images")
    channels, height, width = info.input_shape
    gray = image.convert("L")
    pixels = np.asarray(gray, dtype=np.int16)
    background = _border_level(gray)
    ink = np.abs(pixels - background) > 40
    if ink.sum() < 3:
        raise ArchzooError("the sketch is empty: draw something first")
    if original.mode != "L":
        notes.append(f"drawing: converted from {original.mode} to grayscale")

    wanted_dark = dark_background(info)
    light_background = background > 127
    if wanted_dark is None:
        wanted_dark = not light_background
    if light_background == wanted_dark:
        notes.append(
            "drawing: inverted the colours: it is dark on light, and the model was trained on light-on-dark images"
            if light_background else
            "drawing: inverted the colours: it is light on dark, and the model was trained on dark-on-light images"
        )
    # Work on an "ink intensity" image: 0 = background, 255 = full stroke.
    strength = np.clip(np.abs(pixels - background) * (255.0 / max(255 - background, background, 1)), 0, 255)

    rows, cols = np.where(ink)
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    crop = strength[top:bottom, left:right]
    side = max(crop.shape)
    fill = 1.0 if min(height, width) <= 12 else 20 / 28
    canvas_side = max(int(round(side / fill)), 1)
    canvas = np.zeros((canvas_side, canvas_side), dtype=np.float32)
    y0, x0 = (canvas_side - crop.shape[0]) // 2, (canvas_side - crop.shape[1]) // 2
    canvas[y0:y0 + crop.shape[0], x0:x0 + crop.shape[1]] = crop
    notes.append(f"drawing: cropped to the strokes ({right - left}x{bottom - top} of {gray.size[0]}x{gray.size[1]}) and centred")

    # Strokes in the training images are about a quarter (8x8) to a tenth
    # (28x28) of the frame wide; thicken thinner ones so they survive shrinking.
    target = canvas_side * (0.22 if min(height, width) <= 12 else 0.1)
    stroke = _stroke_width(canvas > 64)
    if stroke < target * 0.75:
        size = int(round(target - stroke)) | 1
        if size >= 3:
            canvas = np.asarray(Image.fromarray(canvas.astype(np.uint8)).filter(ImageFilter.MaxFilter(size)), dtype=np.float32)
            notes.append(f"drawing: thickened the strokes (about {stroke:.0f} px wide, {target:.0f} px wanted)")

    small = Image.fromarray(canvas.astype(np.uint8)).resize((width, height), Image.Resampling.BOX)
    notes.append(f"drawing: resized from {canvas_side}x{canvas_side} to {width}x{height}")
    values = np.asarray(small, dtype=np.float32)
    if values.max() > 0:
        values = values * (255.0 / values.max())
    if not wanted_dark:
        values = 255.0 - values
    out = Image.fromarray(np.clip(values, 0, 255).astype(np.uint8), mode="L")
    return out if channels == 1 else out.convert("RGB")


def input_preview(image: Any, info: Any, size: int = 140) -> Any:
    """The picture the model is given (converted and resized as it will be),
    scaled up with square pixels to look at, in a thin grey frame."""
    import numpy as np
    from PIL import Image

    from .inputs import prepare_image

    tensor = prepare_image(image, info, [])
    if info.mean:
        shape = (-1,) + (1,) * (tensor.ndim - 1)
        import torch

        tensor = tensor * torch.tensor(info.std).view(shape) + torch.tensor(info.mean).view(shape)
    array = (tensor.clamp(0, 1).numpy() * 255).astype(np.uint8)
    picture = Image.fromarray(array[0]) if array.shape[0] == 1 else Image.fromarray(array.transpose(1, 2, 0))
    from PIL import ImageOps

    scale = max(1, size // max(picture.size))
    picture = picture.resize((picture.size[0] * scale, picture.size[1] * scale), Image.Resampling.NEAREST)
    # A grey frame, so a black background does not look like part of the page.
    return ImageOps.expand(picture, border=2, fill=(152, 162, 179) if picture.mode == "RGB" else 160)


def tensor_to_image(tensor: Any) -> Any:
    """A C x H x W tensor in [0, 1] -> a PIL image."""
    import numpy as np
    from PIL import Image

    array = (tensor.detach().float().clamp(0, 1).cpu().numpy() * 255).round().astype(np.uint8)
    if array.shape[0] == 1:
        return Image.fromarray(array[0], mode="L")
    return Image.fromarray(array[:3].transpose(1, 2, 0), mode="RGB")


# -- small pieces ----------------------------------------------------------------------


def _predict_image(location, image, info, notes, top_k, host, calibrated=False) -> Prediction:
    from .api import predict

    results, more = predict(location, [image], top_k=top_k, calibrated=calibrated, host=host)
    return Prediction(top_k=results, notes=notes + more, seen=input_preview(image, info))


def _require_task(location: str | Path, tasks: tuple[str, ...], host: Host) -> None:
    task = checkpoint_task(location, host=host)
    if task not in tasks:
        raise ArchzooError(f"this checkpoint is a {task} model; this needs a {' or '.join(tasks)} model")


def _expect(result: Any, kind: str) -> None:
    if getattr(result, "kind", None) != kind:
        raise ArchzooError(f"the plugin's sample hook returned {getattr(result, 'kind', type(result).__name__)!r}, expected {kind!r}")


def _texts(texts: list[str] | str | None) -> list[str]:
    if isinstance(texts, str):
        texts = texts.splitlines()
    texts = [t.strip() for t in (texts or []) if t and t.strip()]
    if not texts:
        raise ArchzooError("the text is empty: type some text first (one text per line)")
    return texts


def _whole(value: Any, name: str, low: int, high: int) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ArchzooError(f"{name} must be a whole number, not {value!r}") from None
    if not number.is_integer() or not (low <= number <= high):
        raise ArchzooError(f"{name} must be a whole number between {low} and {high}, not {value!r}")
    return int(number)


def _opaque(image: Any) -> Any:
    from .inputs import _flatten_alpha

    if image.mode in ("RGBA", "LA", "P", "PA"):
        return _flatten_alpha(image)
    if image.mode not in ("L", "RGB"):
        return image.convert("RGB")
    return image


def _border_level(gray: Any) -> float:
    """The median brightness of the outermost pixels: the background."""
    import numpy as np

    pixels = np.asarray(gray)
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    return float(np.median(border))


def _stroke_width(mask: Any) -> float:
    """Average stroke width of a binary drawing: twice the area over the outline length."""
    import numpy as np

    area = mask.sum()
    if area == 0:
        return 0.0
    padded = np.pad(mask, 1)
    inner = padded[1:-1, 1:-1] & padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    outline = max(int(area - inner.sum()), 1)
    return float(2 * area / outline)
