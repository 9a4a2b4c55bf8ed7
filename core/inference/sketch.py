"""Making a person's own picture look like the data a model was trained on, and saying what changed.

- :func:`prepare_drawing` (a sketch): crop to the strokes, centre them, thicken
  thin strokes, match the background (digits and MNIST are light ink on a dark
  background, a sketchpad is dark ink on white), resize.
- :func:`match_background` (an upload): only the background polarity; the
  colour mode and size are converted, with notes, by
  :func:`archzoo.inference.inputs.prepare_image`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from PIL import Image, ImageFilter, ImageOps

from archzoo.errors import ArchzooError
from archzoo.inference.inputs import flatten_alpha, open_image, prepare_image


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


def prepare_drawing(drawing: Any, info: Any, notes: list[str], label: str = "drawing") -> Any:
    """A sketch (or an upload treated as one) -> a PIL image of exactly the model's size and colour mode.

    Steps, each reported in ``notes`` when it changes something: flatten
    transparency onto white, convert to grayscale, match the background to the
    training data (invert), crop to the strokes and centre them in a square
    (filling the frame for tiny inputs such as 8x8 digits, 20/28 of it as in
    MNIST otherwise), thicken strokes that would vanish when shrunk, resize,
    and stretch the contrast so the brightest stroke is full white.
    """
    if drawing is None:
        raise ArchzooError("the sketch is empty: draw something first")

    original = open_image(drawing)
    image = _opaque(original)
    if len(info.input_shape) != 3:
        raise ArchzooError(f"this model takes inputs of shape {tuple(info.input_shape)}, not images")
    channels, height, width = info.input_shape
    gray = image.convert("L")
    pixels, background, ink = _ink(gray)
    if ink.sum() < 3:
        raise ArchzooError(
            "the sketch is empty: draw something first"
            if label == "drawing"
            else f"the {label} is blank: nothing in it stands out from its background to crop to"
        )
    if original.mode != "L":
        notes.append(f"{label}: converted from {original.mode} to grayscale")

    wanted_dark = dark_background(info)
    light_background = background > 127
    if wanted_dark is None:
        wanted_dark = not light_background
    if light_background == wanted_dark:
        notes.append(
            f"{label}: inverted the colours: it is "
            + ("dark on light, and the model was trained on light-on-dark images" if light_background else
               "light on dark, and the model was trained on dark-on-light images")
        )  # fmt: skip
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
    canvas[y0 : y0 + crop.shape[0], x0 : x0 + crop.shape[1]] = crop
    notes.append(
        f"{label}: cropped to the strokes ({right - left}x{bottom - top} of {gray.size[0]}x{gray.size[1]}) and centred"
    )

    # Strokes in the training images are about a quarter (8x8) to a tenth
    # (28x28) of the frame wide; thicken thinner ones so they survive shrinking.
    target = canvas_side * (0.22 if min(height, width) <= 12 else 0.1)
    stroke = _stroke_width(canvas > 64)
    if stroke < target * 0.75:
        size = int(round(target - stroke)) | 1
        if size >= 3:
            canvas = np.asarray(
                Image.fromarray(canvas.astype(np.uint8)).filter(ImageFilter.MaxFilter(size)), dtype=np.float32
            )
            notes.append(f"{label}: thickened the strokes (about {stroke:.0f} px wide, {target:.0f} px wanted)")

    small = Image.fromarray(canvas.astype(np.uint8)).resize((width, height), Image.Resampling.BOX)
    notes.append(f"{label}: resized from {canvas_side}x{canvas_side} to {width}x{height}")
    values = np.asarray(small, dtype=np.float32)
    if values.max() > 0:
        values = values * (255.0 / values.max())
    if not wanted_dark:
        values = 255.0 - values
    out = Image.fromarray(np.clip(values, 0, 255).astype(np.uint8), mode="L")
    return out if channels == 1 else out.convert("RGB")


def is_blank(drawing: Any) -> bool:
    """Whether a sketch holds no strokes yet (a cleared canvas): nothing for :func:`prepare_drawing` to read."""
    if drawing is None:
        return True
    return int(_ink(_opaque(open_image(drawing)).convert("L"))[2].sum()) < 3


def _ink(gray: Any) -> tuple[Any, float, Any]:
    """(the pixels, the background's level, where the ink is): ink differs from the border's level by over 40."""
    pixels = np.asarray(gray, dtype=np.int16)
    background = _border_level(gray)
    return pixels, background, np.abs(pixels - background) > 40


def input_preview(image: Any, info: Any, size: int = 140) -> Any:
    """The picture the model is given (converted and resized as it will be),
    scaled up with square pixels to look at, in a thin grey frame."""
    tensor = prepare_image(image, info, [])
    if info.mean:
        shape = (-1,) + (1,) * (tensor.ndim - 1)

        tensor = tensor * torch.tensor(info.std).view(shape) + torch.tensor(info.mean).view(shape)
    array = (tensor.clamp(0, 1).numpy() * 255).astype(np.uint8)
    picture = Image.fromarray(array[0]) if array.shape[0] == 1 else Image.fromarray(array.transpose(1, 2, 0))

    scale = max(1, size // max(picture.size))
    picture = picture.resize((picture.size[0] * scale, picture.size[1] * scale), Image.Resampling.NEAREST)
    # A grey frame, so a black background does not look like part of the page.
    return ImageOps.expand(picture, border=2, fill=(152, 162, 179) if picture.mode == "RGB" else 160)


def _opaque(image: Any) -> Any:
    if image.mode in ("RGBA", "LA", "P", "PA"):
        return flatten_alpha(image)
    if image.mode not in ("L", "RGB"):
        return image.convert("RGB")
    return image


def _border_level(gray: Any) -> float:
    """The median brightness of the outermost pixels: the background."""
    pixels = np.asarray(gray)
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    return float(np.median(border))


def _stroke_width(mask: Any) -> float:
    """Average stroke width of a binary drawing: twice the area over the outline length."""
    area = mask.sum()
    if area == 0:
        return 0.0
    padded = np.pad(mask, 1)
    inner = padded[1:-1, 1:-1] & padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    outline = max(int(area - inner.sum()), 1)
    return float(2 * area / outline)
