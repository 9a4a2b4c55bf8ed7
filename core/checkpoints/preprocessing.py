"""How a model's inputs are prepared, said once: what ``predict`` does and what ``config.json`` records.

A checkpoint's ``config.json`` holds a ``preprocessing`` entry so that anyone can
feed the model without reading archzoo's source: for an image, its colour mode,
size, interpolation, the scale its raw pixel values are divided by, then the
mean and standard deviation subtracted and divided; for a row of numbers, each
feature's mean and standard deviation; for text, the tokenizer file and its
kind; and the class names, in the order of the model's outputs.  The field
names follow timm's ``pretrained_cfg`` (``input_size``, ``interpolation``,
``crop_pct``, ``mean``, ``std``, ``num_classes``, ``label_names``) where they
mean the same thing.

:func:`image_recipe` and :func:`feature_recipe` are what
:mod:`archzoo.inference.inputs` prepares inputs with, so the recorded numbers
are the numbers used.  Everything is derived from the checkpoint's ``DataInfo``:
a checkpoint written before the entry existed is prepared the same way.
"""

from __future__ import annotations

import json
from typing import Any

from archzoo.data.types import TOKENIZER_FILE, DataInfo

#: An image file's pixels are 8-bit: divided by this they lie in [0, 1].
RAW_SCALE = 255.0
#: How an image of another size is resized (PIL's resampling filter of that name).
INTERPOLATION = "bilinear"
#: What a transparent image is composited onto before its colour mode is changed.
ALPHA_BACKGROUND = "white"


def image_recipe(info: DataInfo) -> dict[str, Any]:
    """How an image becomes the C x H x W tensor a model of ``info``'s data reads."""
    channels, height, width = info.input_shape
    recipe = {
        "input": "image",
        "input_size": [channels, height, width],
        "color_mode": "L" if channels == 1 else "RGB",
        "alpha_background": ALPHA_BACKGROUND,
        "interpolation": INTERPOLATION,
        "crop_pct": 1.0,
        "raw_scale": RAW_SCALE,
        **_moments(info),
        "formula": "(pixel / raw_scale - mean) / std, per channel",
    }
    raw = dataset_raw_scale(info.name)
    if raw is not None:
        recipe["dataset_raw_scale"] = raw
    return recipe


def feature_recipe(info: DataInfo) -> dict[str, Any]:
    """How a row of numbers (in the data's own units) becomes the vector a model reads."""
    return {
        "input": "features",
        "input_size": list(info.input_shape),
        **_moments(info),
        "formula": "(x - mean) / std, per feature",
    }


def text_recipe(tokenizer_json: str | bytes | None, encoder: str | None = None) -> dict[str, Any]:
    """How a text becomes token ids: the tokenizer kept beside the weights (or the pretrained
    encoder's own), cut at the classifier's length limit, padded with id 0."""
    from archzoo.data.text import MAX_TOKENS
    from archzoo.data.tokenizers import PAD_ID

    recipe: dict[str, Any] = {"input": "text"}
    if tokenizer_json is not None:
        recipe.update(tokenizer=TOKENIZER_FILE, tokenizer_kind=tokenizer_kind(tokenizer_json))
    elif encoder:
        recipe["tokenizer"] = encoder
    recipe.update(max_tokens=MAX_TOKENS, pad_id=PAD_ID)
    return recipe


def preprocessing(
    info: DataInfo, *, tokenizer_json: str | bytes | None = None, encoder: str | None = None
) -> dict[str, Any] | None:
    """The ``preprocessing`` entry of a checkpoint of ``info``'s data (None: a graph's nodes,
    or a generator of text that reads no input a person prepares)."""
    if info.task.startswith("text-"):
        if tokenizer_json is None and not encoder:
            return None
        recipe = text_recipe(tokenizer_json, encoder)
    elif len(info.input_shape) == 3:
        recipe = image_recipe(info)
    elif info.task.startswith("tabular-") and len(info.input_shape) == 1:
        recipe = feature_recipe(info)
    else:
        return None
    if info.task.endswith("-classification"):
        recipe.update(num_classes=info.num_classes, label_names=list(info.class_names))
    elif info.task == "tabular-regression":
        recipe.update(num_outputs=info.num_classes, output_names=list(info.class_names))
    return recipe


def recorded(meta: dict[str, Any], files: dict[str, str | bytes]) -> dict[str, Any] | None:
    """The ``preprocessing`` entry for a checkpoint's ``meta`` and its extra ``files``
    (a text model's ``tokenizer.json``), or None where its data is not described."""
    info = (meta.get("dataset") or {}).get("info")
    if not isinstance(info, dict):
        return None
    encoder = (meta.get("config") or {}).get("encoder")
    return preprocessing(
        DataInfo.from_dict(info),
        tokenizer_json=files.get(TOKENIZER_FILE),
        encoder=encoder if isinstance(encoder, str) else None,
    )


def dataset_raw_scale(name: str) -> float | None:
    """What a dataset's own raw values are divided by when it is not an 8-bit picture
    (scikit-learn's digits count 0..16); None for the others."""
    from archzoo.data.images import DIGITS_RAW_SCALE

    return {"digits": DIGITS_RAW_SCALE}.get(name)


def tokenizer_kind(text: str | bytes) -> str:
    """The kind of an archzoo ``tokenizer.json`` (char, ids, word, bpe)."""
    data = json.loads(text)
    kind = str(data.get("type") or "")
    if kind.startswith("archzoo-"):
        return kind.removeprefix("archzoo-")
    model = str((data.get("model") or {}).get("type") or "")
    return {"WordLevel": "word", "BPE": "bpe"}.get(model, model.lower())


def _moments(info: DataInfo) -> dict[str, list[float]]:
    """The mean and standard deviation, one each or one per channel/feature; a dataset kept
    unscaled is recorded as mean 0 and std 1."""
    if not info.mean:
        return {"mean": [0.0], "std": [1.0]}
    return {"mean": [float(m) for m in info.mean], "std": [float(s) for s in info.std]}
