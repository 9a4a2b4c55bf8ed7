"""Turn what a user hands in (image files, PIL images, arrays, rows of numbers)
into the tensor a checkpoint's model expects, the way its dataset was prepared.

Every conversion that changes the input (colour mode, size) is reported, so
the CLI and UI can say what they did rather than silently guessing.  The
numbers come from :mod:`archzoo.checkpoints.preprocessing`, which is also what
a checkpoint's ``config.json`` records, so a reader without archzoo prepares
inputs exactly as this module does.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from archzoo.checkpoints.preprocessing import feature_recipe, image_recipe
from archzoo.data.types import DataInfo
from archzoo.errors import ArchzooError
from archzoo.registry.limits import MAX_IMAGE_PIXELS, LimitError, check_image_size


def open_image(image: Any) -> Any:
    """A path, PIL image or array -> a PIL image, or a clear error for anything else."""
    from PIL import Image, UnidentifiedImageError

    if image is None:
        raise ArchzooError("no image: upload one first")
    if isinstance(image, (str, Path)):
        path = Path(image)
        if not path.is_file():
            raise ArchzooError(f"{path}: no such file")
        try:
            with Image.open(path) as opened:
                check_image_size(*opened.size, what=path.name)  # from the header, before decoding
                opened.load()
                return opened.copy()
        except Image.DecompressionBombError:
            raise LimitError(f"{path.name} is far larger than the limit of {MAX_IMAGE_PIXELS:,} pixels") from None
        except UnidentifiedImageError:
            raise ArchzooError(
                f"{path.name} is not an image archzoo can read (not a PNG, JPEG or other picture format it knows)"
            ) from None
        except OSError:
            raise ArchzooError(
                f"{path.name} is not an image archzoo can read (the file is damaged or cut short)"
            ) from None
    if isinstance(image, np.ndarray):
        if image.ndim >= 2:
            check_image_size(image.shape[1], image.shape[0])
        array = image if image.dtype == np.uint8 else np.clip(image, 0, 255).astype(np.uint8)
        return Image.fromarray(array)
    if isinstance(image, Image.Image):
        check_image_size(*image.size)
        return image
    raise ArchzooError(f"expected an image, got {type(image).__name__}")


def prepare_image(image: Any, info: DataInfo, notes: list[str] | None = None, label: str = "image") -> torch.Tensor:
    """A PIL image, a path or an H x W (x C) array -> a normalised C x H x W tensor."""
    from PIL import Image

    notes = notes if notes is not None else []
    if isinstance(image, (str, Path)):
        label = Path(image).name
    image = open_image(image)

    if len(info.input_shape) != 3:
        raise ArchzooError(f"this model takes inputs of shape {info.input_shape}, not images")
    recipe = image_recipe(info)  # what the checkpoint's config.json records under "preprocessing"
    _, height, width = recipe["input_size"]
    mode = recipe["color_mode"]
    if image.mode in ("RGBA", "LA", "P"):
        image = flatten_alpha(image)
    if image.mode != mode:
        notes.append(f"{label}: converted from {image.mode} to {'grayscale' if mode == 'L' else 'RGB'}")
        image = image.convert(mode)
    if image.size != (width, height):
        notes.append(f"{label}: resized from {image.size[0]}x{image.size[1]} to {width}x{height}")
        image = image.resize((width, height), Image.Resampling[recipe["interpolation"].upper()])
    pixels = torch.from_numpy(np.asarray(image, dtype=np.float32) / recipe["raw_scale"])
    pixels = pixels.unsqueeze(0) if pixels.ndim == 2 else pixels.permute(2, 0, 1)
    return standardise(pixels, recipe)


def prepare_row(values: Any, info: DataInfo, label: str = "row") -> torch.Tensor:
    """A row of numbers (``"0.5,-1.2"`` or a sequence) -> a normalised feature vector."""
    if isinstance(values, str):
        values = parse_row(values, math.prod(info.input_shape), label)
    row = torch.tensor(values, dtype=torch.float32).flatten()
    if tuple(row.shape) != tuple(info.input_shape):
        raise ArchzooError(f"{label}: expected {math.prod(info.input_shape)} numbers, got {row.numel()}")
    return standardise(row, feature_recipe(info))


def parse_row(text: str, width: int, label: str = "row") -> list[float]:
    """A typed row (``"0.5, -1.2"``; commas or semicolons between the numbers) -> its
    ``width`` numbers.  An error names the row (``label``: "row 3") and quotes what it
    found, so that a person sees which of many lines to fix."""
    found = f"('{text.strip()[:60]}{'...' if len(text.strip()) > 60 else ''}')"
    numbers = []
    for cell in (c.strip() for c in text.replace(";", ",").split(",")):
        if not cell:
            continue
        try:
            value = float(cell)
        except ValueError:
            raise ArchzooError(
                f"{label}: {cell[:30]!r} is not a number {found}; write the features as numbers separated by commas"
            ) from None
        if not math.isfinite(value):
            raise ArchzooError(f"{label}: {cell[:30]!r} is not a finite number {found}")
        numbers.append(value)
    if len(numbers) != width:
        raise ArchzooError(f"{label}: expected {width} numbers, got {len(numbers)} {found}")
    return numbers


def standardise(tensor: torch.Tensor, recipe: dict[str, Any]) -> torch.Tensor:
    """``(x - mean) / std`` with a recipe's mean and std, per channel (C x H x W) or per feature."""
    shape = (-1,) + (1,) * (tensor.ndim - 1)
    mean = torch.tensor(recipe["mean"], dtype=torch.float32).view(shape)
    std = torch.tensor(recipe["std"], dtype=torch.float32).view(shape)
    return (tensor - mean) / std


def flatten_alpha(image: Any) -> Any:
    """Composite a transparent image onto white, as image viewers show it."""
    from PIL import Image

    rgba = image.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")
