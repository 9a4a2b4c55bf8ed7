"""Distribution shift: accuracy as the test inputs drift away from the training data.

Three controlled shifts, applied to the test images in pixel space (the
normalisation undone, the change made, the normalisation redone), so the
model sees what a camera would give it:

- **rotation** by 0, 15, ..., 90 degrees (bilinear; the corners that come in
  are filled with the training images' background: black for MNIST-like
  data);
- **additive Gaussian noise** of standard deviation 0, 0.1, ..., 0.5 in
  pixel units (pixels in [0, 1]; clipped back to [0, 1]), drawn with a fixed
  seed so a curve is reproducible;
- **translation** by 0, 1, ..., N whole pixels (N a fifth of the image side
  by default: 6 on 28x28), the image moved right, left, down and up in turn
  and the four accuracies averaged; the strip that comes in is background.

Each shift gives a curve, accuracy against strength.  The lecture notes' labs
read them side by side: an MLP, which sees pixels as an unordered vector,
falls faster under rotation and translation than a CNN, whose convolutions
and pooling share weights across positions (convolution commutes with
translation).  Rows of numbers (tabular models) get the noise curve only, in
units of each feature's standard deviation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from archzoo.errors import ConfigError
from archzoo.evaluation.logits import collect

#: Rotation angles in degrees: 0 to 90 in steps of 15.
ANGLES = (0, 15, 30, 45, 60, 75, 90)
#: Standard deviations of the added noise, in pixel units (pixels in [0, 1]).
NOISE_LEVELS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
NOISE_SEED = 1234
#: The four directions of a translation, as (rows down, columns right) per pixel of shift.
DIRECTIONS = ((0, 1), (0, -1), (1, 0), (-1, 0))


@dataclass
class Curve:
    """Accuracy at each strength of one shift."""

    shift: str  # "rotation", "noise", "translation" (or "fgsm", the attack's curve)
    unit: str
    strengths: list[float]
    accuracy: list[float]
    examples: int
    notes: list[str] = field(default_factory=list)

    def retention(self, strength: float) -> float | None:
        """Accuracy at ``strength`` as a fraction of the unshifted accuracy."""
        if strength not in self.strengths or not self.accuracy or self.accuracy[0] <= 0:
            return None
        return self.accuracy[self.strengths.index(strength)] / self.accuracy[0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "shift": self.shift,
            "unit": self.unit,
            "strengths": self.strengths,
            "accuracy": self.accuracy,
            "examples": self.examples,
            "notes": self.notes,
        }


def rotate(images: torch.Tensor, degrees: float, info: Any) -> torch.Tensor:
    """Rotate normalised images by ``degrees`` (counter-clockwise) in pixel space."""
    if degrees == 0:
        return images
    from torchvision.transforms.functional import InterpolationMode
    from torchvision.transforms.functional import rotate as tv_rotate

    pixels = to_pixels(images, info)
    turned = tv_rotate(
        pixels, float(degrees), interpolation=InterpolationMode.BILINEAR, fill=[background(info)] * pixels.shape[1]
    )
    return from_pixels(turned, info)


def translate(images: torch.Tensor, down: int, right: int, info: Any) -> torch.Tensor:
    """Move normalised images ``down`` rows and ``right`` columns (negative: up, left) by whole
    pixels; what moves out is lost, what comes in is the training images' background."""
    if down == 0 and right == 0:
        return images
    pixels = to_pixels(images, info)
    height, width = pixels.shape[-2:]
    moved = torch.full_like(pixels, background(info))
    if abs(down) < height and abs(right) < width:
        rows_to, rows_from = _window(down, height), _window(-down, height)
        cols_to, cols_from = _window(right, width), _window(-right, width)
        moved[..., rows_to, cols_to] = pixels[..., rows_from, cols_from]
    return from_pixels(moved, info)


def _window(offset: int, size: int) -> slice:
    """The part of an axis of ``size`` that receives pixels moved by ``offset``."""
    return slice(offset, size) if offset >= 0 else slice(0, size + offset)


def default_max_shift(info: Any) -> int:
    """A fifth of the image's shorter side, at least 1: 6 pixels on 28x28, 2 on 8x8."""
    return max(1, round(min(tuple(info.input_shape)[1:]) / 5))


def check_max_shift(max_shift: int, info: Any) -> int:
    """``max_shift`` if it is a whole number of pixels from 1 to one less than the image's shorter side."""
    side = min(tuple(info.input_shape)[1:])
    if isinstance(max_shift, bool) or not isinstance(max_shift, int) or not 1 <= max_shift < side:
        raise ConfigError(
            "max_shift", max_shift, f"a whole number of pixels from 1 to {side - 1} (the images are {side} wide)"
        )
    return max_shift


def add_noise(inputs: torch.Tensor, sigma: float, info: Any, generator: torch.Generator) -> torch.Tensor:
    """Add N(0, sigma^2) noise: to images in pixel space (then clipped to [0, 1]),
    to rows of numbers in their normalised units."""
    if sigma == 0:
        return inputs
    noise = torch.randn(inputs.shape, generator=generator, dtype=torch.float32) * sigma
    if inputs.ndim != 4:
        return inputs + noise.to(inputs.dtype)
    return from_pixels((to_pixels(inputs, info) + noise).clamp(0, 1), info)


def to_pixels(images: torch.Tensor, info: Any) -> torch.Tensor:
    if not info.mean:
        return images.float()
    shape = (1, -1, 1, 1)
    return images.float() * torch.tensor(info.std).view(shape) + torch.tensor(info.mean).view(shape)


def from_pixels(pixels: torch.Tensor, info: Any) -> torch.Tensor:
    if not info.mean:
        return pixels
    shape = (1, -1, 1, 1)
    return (pixels - torch.tensor(info.mean).view(shape)) / torch.tensor(info.std).view(shape)


def background(info: Any) -> float:
    """The pixel value of the training images' background: 0 for light-on-dark data (mean pixel below 0.5)."""
    if not info.mean:
        return 0.0
    return 0.0 if sum(info.mean) / len(info.mean) < 0.5 else 1.0


def is_image_model(info: Any) -> bool:
    return len(tuple(info.input_shape)) == 3


def rotation_curve(loaded: Any, loader: Any, angles: tuple[float, ...] = ANGLES, *, host: Any = None) -> Curve:
    """Accuracy of ``loaded`` on ``loader``'s images rotated by each angle."""
    accuracy = []
    for angle in angles:
        out = collect(loaded, loader, transform=lambda x, a=angle: rotate(x, a, loaded.info), host=host)
        accuracy.append(float((out.predicted == out.labels).float().mean()))
    return Curve("rotation", "degrees", [float(a) for a in angles], accuracy, len(out))


def noise_curve(loaded: Any, loader: Any, levels: tuple[float, ...] = NOISE_LEVELS, *, host: Any = None) -> Curve:
    """Accuracy of ``loaded`` on ``loader``'s inputs with Gaussian noise of each standard deviation."""
    image = is_image_model(loaded.info)
    accuracy = []
    for sigma in levels:
        generator = torch.Generator().manual_seed(NOISE_SEED)
        out = collect(
            loaded, loader, transform=lambda x, s=sigma, g=generator: add_noise(x, s, loaded.info, g), host=host
        )
        accuracy.append(float((out.predicted == out.labels).float().mean()))
    unit = "standard deviation, pixels in [0, 1]" if image else "standard deviation, in feature standard deviations"
    return Curve("noise", unit, [float(s) for s in levels], accuracy, len(out))


def translation_curve(loaded: Any, loader: Any, max_shift: int | None = None, *, host: Any = None) -> Curve:
    """Accuracy of ``loaded`` on ``loader``'s images translated by 0 to ``max_shift`` pixels
    (default :func:`default_max_shift`): at each distance, the mean over the four directions."""
    info = loaded.info
    limit = check_max_shift(default_max_shift(info) if max_shift is None else max_shift, info)
    accuracy = []
    for distance in range(limit + 1):
        per_direction = []
        for down, right in DIRECTIONS if distance else ((0, 0),):
            out = collect(
                loaded,
                loader,
                transform=lambda x, d=down * distance, r=right * distance: translate(x, d, r, info),
                host=host,
            )
            per_direction.append(float((out.predicted == out.labels).float().mean()))
        accuracy.append(sum(per_direction) / len(per_direction))
    note = "the mean of the accuracies with the image moved right, left, down and up by that many pixels"
    return Curve("translation", "pixels", [float(d) for d in range(limit + 1)], accuracy, len(out), [note])
