"""What archzoo's image generators share: reading a ``sample`` request, moving
between the data's standardised pixels and the [0, 1] or [-1, 1] pixels a
generator models, and the latent codes to draw pictures of a latent space.

The generators (``autoencoder``, ``vae``, ``dcgan``, ``ddpm``) each model
pixels on their own scale: a sigmoid decoder gives [0, 1], a Tanh generator or
a diffusion model [-1, 1].  archzoo's datasets are standardised with the
training split's mean and standard deviation (``DataInfo.mean`` / ``std``), so
every generator first undoes that with :func:`to_unit`.  Whatever they return
from ``sample`` is an ``images`` result: N x C x H x W in [0, 1].

A request (``sample``'s ``request`` dict, the same for the CLI, the UI and
Python) may hold:

- ``n`` (how many; at least 1), ``seed`` (0 .. 2**32-1; the same seed gives
  the same images on any machine, because noise is drawn on the CPU),
  ``steps`` (sampling steps for an iterative sampler; 0 is the model's default,
  a one-pass generator ignores it and says so in ``notes``);
- ``mode``: ``sample`` (the default: new images from the model's prior),
  ``reconstruct``, ``interpolate``, ``traverse`` or ``grid``; each plugin says
  which it supports;
- ``inputs``: N x C x H x W images prepared like the training data, for the
  modes in :data:`INPUT_MODES`.

Plugins' model modules import this (through :mod:`archzoo.toolkit`); writing
the images to files is :mod:`archzoo.inference.generation`'s job.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch

from archzoo.errors import ArchzooError
from archzoo.registry.limits import MAX_SAMPLES
from archzoo.registry.specs import SampleResult

#: The sampling modes whose images start from real ones.
INPUT_MODES = ("reconstruct", "interpolate")
#: The largest ``seed``.
MAX_SEED = 2**32 - 1


class SampleError(ArchzooError, ValueError):
    """A ``sample`` request asks for something the generator cannot do: a count
    below 1, steps out of range, an unknown mode, inputs of the wrong shape, or
    a checkpoint that does not generate images."""


@dataclass
class Draw:
    """A checked ``sample`` request."""

    n: int
    seed: int
    steps: int
    mode: str
    inputs: torch.Tensor | None = None
    notes: list[str] = field(default_factory=list)

    def generator(self) -> torch.Generator:
        """A CPU generator seeded with ``seed``: draw noise with it, then move it to the device."""
        return torch.Generator().manual_seed(self.seed)


def _whole(request: dict[str, Any], key: str, default: int, low: int, high: int | None) -> int:
    value = request.get(key, default)
    if value is None:
        value = default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SampleError(f"{key} must be a whole number, not {value!r}") from None
    if isinstance(value, bool) or not number.is_integer():
        raise SampleError(f"{key} must be a whole number, not {value!r}")
    if number < low or (high is not None and number > high):
        allowed = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise SampleError(f"{key} must be {allowed}, not {value!r}")
    return int(number)


def parse_request(
    request: dict[str, Any],
    *,
    modes: tuple[str, ...] = (),
    image_shape: tuple[int, ...] | None = None,
    max_steps: int | None = 0,
    default_n: int = 16,
    owner: str = "",
) -> Draw:
    """Check a request against what one generator can do.

    ``modes`` are the modes it offers (``spec.sample_modes``; empty: ``sample`` only).
    ``max_steps`` is the largest ``steps`` the generator takes (``None``: no
    limit); ``0`` means it draws in one pass and ignores ``steps``.
    ``image_shape`` is the (C, H, W) its inputs must have (None: not checked).
    """
    who = f"{owner}: " if owner else ""
    modes = tuple(modes) or ("sample",)
    n = _whole(request, "n", default_n, 1, MAX_SAMPLES)  # archzoo.registry.limits
    seed = _whole(request, "seed", 0, 0, MAX_SEED)
    steps = _whole(request, "steps", 0, 0, max_steps if max_steps else None)
    mode = str(request.get("mode") or "sample")
    if mode not in modes:
        raise SampleError(f"{who}unknown sampling mode {mode!r}; this generator offers {', '.join(modes)}")
    notes: list[str] = []
    if steps and max_steps == 0:
        notes.append(f"{who}steps={steps} ignored: this generator draws in one pass")
    inputs = request.get("inputs")
    if mode in INPUT_MODES:
        inputs = check_inputs(inputs, image_shape, owner=owner)
        wanted = 2 if mode == "interpolate" else 1
        if len(inputs) < wanted:
            raise SampleError(f"{who}mode {mode!r} needs at least {wanted} input images, got {len(inputs)}")
    else:
        inputs = None
    return Draw(n=n, seed=seed, steps=steps, mode=mode, inputs=inputs, notes=notes)


def check_inputs(inputs: Any, image_shape: tuple[int, ...] | None, *, owner: str = "") -> torch.Tensor:
    """``inputs`` as a float N x C x H x W tensor of the checkpoint's image shape, or a :class:`SampleError`."""
    who = f"{owner}: " if owner else ""
    if inputs is None:
        raise SampleError(f"{who}this mode needs input images (request['inputs'], or --input FILE on the command line)")
    if not torch.is_tensor(inputs):
        raise SampleError(f"{who}inputs must be a tensor of images, not {type(inputs).__name__}")
    if image_shape is not None and (
        inputs.ndim != len(image_shape) + 1 or tuple(inputs.shape[1:]) != tuple(image_shape)
    ):
        wanted = " x ".join(str(s) for s in image_shape)
        raise SampleError(
            f"{who}inputs must be N x {wanted} (this checkpoint's data shape), not "
            f"{' x '.join(str(s) for s in inputs.shape)}"
        )
    return inputs.float()


# -- pixel scales -------------------------------------------------------------------------


def _stats(info: Any, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
    mean, std = getattr(info, "mean", ()), getattr(info, "std", ())
    if not mean:
        return None
    shape = (1, -1) + (1,) * (like.ndim - 2) if len(mean) > 1 else (1,) * like.ndim
    return (
        torch.tensor(mean, dtype=like.dtype, device=like.device).view(shape),
        torch.tensor(std, dtype=like.dtype, device=like.device).view(shape),
    )


def to_unit(x: torch.Tensor, info: Any) -> torch.Tensor:
    """Standardised data (as archzoo's datasets serve it) -> pixels in [0, 1].

    The clamp only removes float rounding: Fashion-MNIST's 0 comes back as
    -1e-8, which a binary cross-entropy target must not be."""
    stats = _stats(info, x)
    if stats is not None:
        x = x * stats[1] + stats[0]
    return x.clamp(0.0, 1.0)


def to_signed(x: torch.Tensor, info: Any) -> torch.Tensor:
    """Standardised data -> pixels in [-1, 1], the scale of a Tanh generator or a diffusion model."""
    return to_unit(x, info) * 2.0 - 1.0


def from_signed(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] pixels -> [0, 1] (clamped: a sampler may overshoot a little)."""
    return ((x + 1.0) / 2.0).clamp(0.0, 1.0)


def images_result(images: torch.Tensor, draw: Draw, *, columns: int | None = None, **more: Any) -> Any:
    """The ``images`` :class:`archzoo.SampleResult` for N x C x H x W pixels in [0, 1].

    ``columns`` is how many images a row of the grid should hold (a traversal
    or reconstruction has a natural width); ``notes`` carries what was ignored."""
    outputs: dict[str, Any] = {"images": images.detach().float().clamp(0.0, 1.0).cpu(), "mode": draw.mode}
    if columns:
        outputs["columns"] = int(columns)
    if draw.notes:
        outputs["notes"] = list(draw.notes)
    outputs.update(more)
    return SampleResult(kind="images", outputs=outputs)


def points_result(points: torch.Tensor, draw: Draw, info: Any, **more: Any) -> Any:
    """The ``images`` :class:`archzoo.SampleResult` of a generator of points: ``points``, N x D
    in the data's own units (``points`` given standardised, as archzoo's datasets serve them,
    are mapped back with ``info.mean`` / ``std``), and ``images``, one scatter picture of them
    (:func:`scatter_image`) for the app and ``archzoo sample`` to show.  ``more`` joins the outputs."""
    points = points.detach().float().cpu()
    picture = scatter_image(points).unsqueeze(0)
    if getattr(info, "mean", ()):
        points = points * torch.tensor(info.std) + torch.tensor(info.mean)
    return images_result(picture, draw, points=points, **more)


def scatter_image(points: torch.Tensor, size: int = 160, span: float = 3.0) -> torch.Tensor:
    """Points (standardised units; the first two coordinates) as a 1 x size x size picture:
    dark dots on white, ``span`` either side of 0, +y up."""
    canvas = torch.ones(1, size, size)
    pixels = ((points[:, :2].cpu() + span) / (2 * span) * (size - 1)).round().long()
    inside = ((pixels >= 0) & (pixels < size - 1)).all(dim=1)
    for x, y in pixels[inside].tolist():
        row = size - 2 - y  # up is +y
        canvas[0, row : row + 2, x : x + 2] = 0.0
    return canvas


def relu_layers(width: int, hidden: Any) -> tuple[list[torch.nn.Module], int]:
    """Linear -> ReLU for each width in ``hidden``, starting from ``width``
    inputs: the layers, and the width they end with."""
    layers: list[torch.nn.Module] = []
    for h in hidden:
        layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
        width = h
    return layers, width


def mlp_decoder(latent_dim: int, hidden: Any, image_shape: tuple[int, ...]) -> torch.nn.Sequential:
    """The MLP decoder the autoencoder and the VAE share: ``hidden`` in reverse,
    then one Linear to the pixels, reshaped to ``image_shape`` (logits)."""
    layers, width = relu_layers(latent_dim, reversed(tuple(hidden)))
    return torch.nn.Sequential(
        *layers, torch.nn.Linear(width, math.prod(image_shape)), torch.nn.Unflatten(1, tuple(image_shape))
    )


def latent_line(start: torch.Tensor, end: torch.Tensor, n: int) -> torch.Tensor:
    """``n`` evenly spaced points from ``start`` to ``end`` (both ends included)."""
    weights = torch.linspace(0.0, 1.0, n, device=start.device).view(-1, *([1] * start.ndim))
    return start.unsqueeze(0) * (1 - weights) + end.unsqueeze(0) * weights


def latent_grid(
    n: int, latent_dim: int, span: float = 3.0, centre: torch.Tensor | None = None, scale: torch.Tensor | None = None
) -> torch.Tensor:
    """An n x n grid over the first two latent dimensions, ``span`` standard
    deviations either side of ``centre`` (others held at the centre): the
    notes' picture of a 2-D latent space.  Rows go down the second dimension."""
    centre = torch.zeros(latent_dim) if centre is None else centre
    scale = torch.ones(latent_dim) if scale is None else scale
    values = torch.linspace(-span, span, n)
    codes = centre.repeat(n * n, 1)
    for row in range(n):
        for col in range(n):
            codes[row * n + col, 0] = centre[0] + values[col] * scale[0]
            if latent_dim > 1:
                codes[row * n + col, 1] = centre[1] - values[row] * scale[1]
    return codes


def traversal(n: int, latent_dim: int, rows: int = 8, span: float = 3.0) -> torch.Tensor:
    """Latent traversal: for each of the first ``rows`` dimensions, ``n`` codes
    that move along it from -span to +span with every other dimension at 0."""
    rows = min(rows, latent_dim)
    codes = torch.zeros(rows * n, latent_dim)
    values = torch.linspace(-span, span, n)
    for dim in range(rows):
        codes[dim * n : (dim + 1) * n, dim] = values
    return codes
