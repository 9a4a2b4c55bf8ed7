"""Generation: images from an image generator, continuations from a language model,
and images as files.

``archzoo sample`` and the app's gallery both call :func:`sample_checkpoint_images`;
``archzoo generate`` and the text box call :func:`generate_text`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from archzoo.checkpoints.io import load
from archzoo.errors import ArchzooError
from archzoo.inference.data import evaluation_split
from archzoo.inference.inputs import prepare_image
from archzoo.inference.sampling import (
    checkpoint_meta,
    checkpoint_task,
    expect,
    require_task,
    sample_checkpoint,
    whole,
)
from archzoo.registry.config import build_config
from archzoo.registry.host import Host, get_host
from archzoo.toolkit.generative import INPUT_MODES, SampleError


@dataclass(frozen=True)
class Conditioning:
    """What a generator checkpoint takes beside noise: the classes it draws on request
    (empty: none), and whether a guidance weight means something to it."""

    architecture: str
    class_names: tuple[str, ...] = ()
    guidance: bool = False

    @property
    def conditional(self) -> bool:
        return bool(self.class_names)


def conditioning(location: str | Path, *, host: Host | None = None) -> Conditioning:
    """Read from the checkpoint's config, without loading the model: a conditional
    generator's config says ``class_conditional`` (and ``guidable``) as a property or
    class attribute (the cGAN; the DDPM trained with label dropout)."""
    host = host or get_host()
    _, meta = checkpoint_meta(location, host=host)
    name = str(meta.get("architecture", ""))
    spec = host.architectures.get(name)
    if spec is None:
        return Conditioning(name)
    config = build_config(spec.config, meta.get("config") or {}, owner=name)
    if not getattr(config, "class_conditional", False):
        return Conditioning(name)
    names = tuple((meta.get("dataset") or {}).get("info", {}).get("class_names") or ())
    return Conditioning(name, names, bool(getattr(config, "guidable", False)))


def check_condition(location: str | Path, wanted_class: str | None, guidance: float | None, host: Host) -> None:
    """Refuse a class or a guidance weight for a generator that takes none, naming it, before
    anything is drawn; a generator that can be conditioned checks the values itself."""
    if wanted_class in (None, "") and guidance is None:
        return
    found = conditioning(location, host=host)
    spec = host.architectures.get(found.architecture)
    if spec is not None and hasattr(spec.config, "class_conditional"):
        return  # it may be conditional: its sampler says what this checkpoint takes (the DDPM: label dropout)
    what = "class (--class)" if wanted_class not in (None, "") else "guidance weight (--guidance)"
    raise SampleError(
        f"{found.architecture or location} is an unconditional generator: it takes no {what}; the class-conditional "
        "generators are cgan and ddpm trained with label dropout (preset ddpm-fashion-guided)"
    )


def generate_images(
    location: str | Path,
    *,
    n: int = 4,
    seed: int = 0,
    steps: int = 0,
    mode: str = "sample",
    sampler: str | None = None,
    wanted_class: str | None = None,
    guidance: float | None = None,
    host: Host | None = None,
) -> list[Any]:
    """``n`` generated images as PIL images (see :func:`draw_images` for the notes)."""
    return draw_images(
        location,
        n=n,
        seed=seed,
        steps=steps,
        mode=mode,
        sampler=sampler,
        wanted_class=wanted_class,
        guidance=guidance,
        host=host,
    )[0]


def draw_images(
    location: str | Path,
    *,
    n: int = 4,
    seed: int = 0,
    steps: int = 0,
    mode: str = "sample",
    sampler: str | None = None,
    wanted_class: str | None = None,
    guidance: float | None = None,
    host: Host | None = None,
) -> tuple[list[Any], list[str]]:
    """Images from a generator as ``archzoo sample`` draws them, and the notes on them.

    ``mode`` is one of the generator's sampling modes (``sample``, and e.g.
    ``reconstruct``, ``interpolate``, ``traverse``, ``grid``, ``walk``); the
    modes that start from real images pick them from the checkpoint's test
    split with ``seed``.  ``sampler`` picks a diffusion model's sampler
    (``ddim`` or ``ddpm``; empty for its default).  ``wanted_class`` and
    ``guidance``: the class a conditional generator draws and its guidance weight."""
    host = host or get_host()
    require_task(location, ("image-generation",), host)
    n, seed, steps = whole(n, "count", 1, 64), whole(seed, "seed", 0, 2**32 - 1), whole(steps, "steps", 0, 10_000)
    result = sample_checkpoint_images(
        location,
        n=n,
        seed=seed,
        steps=steps,
        mode=str(mode or "sample"),
        sampler=str(sampler or "") or None,
        wanted_class=wanted_class,
        guidance=guidance,
        host=host,
    )
    expect(result, "images")
    return [tensor_to_image(image) for image in result.outputs["images"]], list(result.outputs.get("notes", []))


def sample_checkpoint_images(
    location: str | Path,
    *,
    n: int = 16,
    seed: int = 0,
    steps: int = 0,
    mode: str = "sample",
    sampler: str | None = None,
    inputs: list[str] | None = None,
    wanted_class: str | None = None,
    guidance: float | None = None,
    host: Any = None,
) -> Any:
    """Load an image-generation checkpoint and run its ``sample`` hook.

    For the modes that start from real images (:data:`INPUT_MODES`) the
    images are ``inputs`` (files, converted to the checkpoint's image shape
    with notes on what was changed) or, without files, ``n`` images (two to
    interpolate) drawn by ``seed`` from the test split of the checkpoint's own
    dataset.  ``wanted_class`` (a class name) and ``guidance`` (a weight w) go to a
    class-conditional generator as the request's ``class`` and ``guidance``."""
    host = host or get_host()
    task = checkpoint_task(location, host=host)
    if task != "image-generation":
        raise SampleError(
            f"{location} is a {task or 'unknown'} checkpoint; 'archzoo sample' needs an image-generation model "
            "(autoencoder, vae, dcgan, ddpm)"
        )
    check_condition(location, wanted_class, guidance, host)
    loaded = load(location, host=host)
    request: dict[str, Any] = {"n": n, "seed": seed, "steps": steps, "mode": mode}
    if sampler:
        request["sampler"] = sampler
    if wanted_class not in (None, ""):
        request["class"] = wanted_class
    if guidance is not None:
        request["guidance"] = guidance
    notes: list[str] = []
    if mode in INPUT_MODES:
        if inputs:
            request["inputs"] = torch.stack([prepare_image(path, loaded.info, notes) for path in inputs])
        else:
            split = evaluation_split(loaded, split="test", host=host)
            count = 2 if mode == "interpolate" else min(n, len(split))
            if len(split) < count:
                raise SampleError(
                    f"the test split of {loaded.meta['dataset']['name']} has {len(split)} images; mode {mode!r} needs "
                    f"{count}"
                )
            picked = torch.randperm(len(split), generator=torch.Generator().manual_seed(seed))[:count]
            request["inputs"] = torch.stack([split[int(i)][0] for i in picked])
            notes.append(f"{mode}: {count} test images of {loaded.meta['dataset']['name']} picked with seed {seed}")
    elif inputs:
        raise SampleError(f"--input is for the modes {', '.join(INPUT_MODES)}; mode {mode!r} starts from noise")
    result = sample_checkpoint(loaded, request, host=host)
    result.outputs["notes"] = notes + list(result.outputs.get("notes", []))
    return result


def generate_text(
    location: str | Path,
    prompt: str,
    *,
    temperature: float = 1.0,
    max_length: int = 100,
    n: int = 1,
    top_k: int = 0,
    seed: int | None = None,
    host: Host | None = None,
) -> list[str]:
    """``n`` continuations of ``prompt`` (an empty prompt lets the model start on its own),
    drawn from the ``top_k`` most likely tokens (0: all), reproducibly when ``seed`` is given."""
    host = host or get_host()
    require_task(location, ("text-generation",), host)
    try:
        temperature = float(temperature)
    except (TypeError, ValueError):
        raise ArchzooError(f"temperature must be a number, not {temperature!r}") from None
    if not (0.0 < temperature <= 10.0) or math.isnan(temperature):
        raise ArchzooError(f"temperature must be above 0 and at most 10, not {temperature}")
    max_length = whole(max_length, "length", 1, 100_000)
    n = whole(n, "count", 1, 64)
    request = {"prompt": prompt or "", "temperature": temperature, "max_length": max_length, "n": n}
    if top_k:
        request["top_k"] = whole(top_k, "top-k", 0, 1_000_000)
    if seed is not None:
        request["seed"] = whole(seed, "seed", 0, 2**32 - 1)
    result = sample_checkpoint(load(location, host=host), request, host=host)
    expect(result, "text")
    return list(result.outputs["texts"])


def tensor_to_image(tensor: Any) -> Any:
    """A C x H x W tensor in [0, 1] -> a PIL image."""
    array = (tensor.detach().float().clamp(0, 1).cpu().numpy() * 255).round().astype(np.uint8)
    if array.shape[0] == 1:
        return Image.fromarray(array[0], mode="L")
    return Image.fromarray(array[:3].transpose(1, 2, 0), mode="RGB")


def image_grid(images: torch.Tensor, columns: int | None = None, padding: int = 2) -> Any:
    """N x C x H x W in [0, 1] -> one PIL image, ``columns`` images a row (about square by default)."""
    n, c, h, w = images.shape
    columns = max(1, min(columns or math.ceil(math.sqrt(n)), n))
    rows = math.ceil(n / columns)
    canvas = torch.ones(c, rows * (h + padding) + padding, columns * (w + padding) + padding) * 0.5
    for i, image in enumerate(images):
        r, col = divmod(i, columns)
        top, left = padding + r * (h + padding), padding + col * (w + padding)
        canvas[:, top : top + h, left : left + w] = image
    array = (canvas.clamp(0, 1).numpy() * 255).round().astype(np.uint8)
    return Image.fromarray(array[0], mode="L") if c == 1 else Image.fromarray(array[:3].transpose(1, 2, 0), mode="RGB")


def write_images(result: Any, out: str | Path, *, grid_name: str = "grid.png") -> list[Path]:
    """Write a grid PNG and one PNG per image into ``out``, which must be new or empty:
    nothing already there is ever overwritten.  Returns the paths written (grid first)."""
    if getattr(result, "kind", None) != "images":
        raise SampleError(f"the sample hook returned {getattr(result, 'kind', type(result).__name__)!r}, not images")
    folder = Path(out).expanduser()
    if folder.exists() and not folder.is_dir():
        raise SampleError(f"--out {folder} is a file; give a new or empty folder")
    if folder.is_dir() and any(folder.iterdir()):
        raise SampleError(f"--out {folder} already holds files; give a new or empty folder (nothing was overwritten)")
    images = result.outputs["images"]
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / grid_name]
    image_grid(images, result.outputs.get("columns")).save(written[0])
    digits = max(3, len(str(len(images) - 1)))
    for i, image in enumerate(images):
        path = folder / f"{i:0{digits}d}.png"
        tensor_to_image(image).save(path)
        written.append(path)
    return written
