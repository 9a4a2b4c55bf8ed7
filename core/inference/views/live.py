"""Live views: a model's decision boundary or samples after every epoch, kept in its run.

After each epoch the trainer hands the model to the run's watch (:func:`watcher`).
The watch takes only the numbers of the picture (a 2-D classifier's class
probabilities on a :data:`RESOLUTION`-a-side grid; a generator's samples, from
the same noise every epoch) and writes them to ``RUN/views/VIEW-epoch-NNNN.safetensors``;
what every epoch shares (the grid, the training points, the class names) goes
once to ``RUN/views/VIEW.json``.  :func:`draw` makes the picture of a kept epoch
when someone looks: drawing costs about a hundred times what the numbers do,
so the training loop never waits on matplotlib.

Taking the numbers is bounded: an epoch is skipped when the frames so far and
one more would cost over :data:`BUDGET` (3%) of the time the run has taken (a
diffusion model samples through 50 steps); the first and last are always taken.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from archzoo.checkpoints.io import LoadedCheckpoint
from archzoo.checkpoints.layout import VIEW_FILE, VIEWS_DIR
from archzoo.files import staged_file
from archzoo.inference.sampling import expect, sample_checkpoint
from archzoo.inference.views import boundary as boundary_view
from archzoo.inference.views import offers, plugin_views
from archzoo.inference.views.base import View, ViewError, ViewRequest
from archzoo.inference.views.examples import in_data_units, stacked
from archzoo.inference.views.figures import figure, picture, png, strip
from archzoo.inference.views.points import MAX_REAL, draw_scatter
from archzoo.registry.host import Host
from archzoo.registry.limits import MAX_SAMPLES
from archzoo.registry.specs import ArchSpec

#: Grid cells a side of the live boundary (``archzoo show`` draws 200 from the checkpoint).
RESOLUTION = 64
#: Images a generator draws each epoch, and points a point generator draws (one sample call's most).
IMAGES = 8
POINTS = MAX_SAMPLES
#: The share of a run's time its live view's numbers may take: 3%, so that with the rest of
#: the watch (its events, the random streams forked) the live view costs training under 5%.
BUDGET = 0.03
#: Epochs of image samples in one picture, newest at the bottom.
STRIP_EPOCHS = 6


def live_view(spec: ArchSpec, info: Any) -> str | None:
    """The view a run keeps each epoch: ``boundary`` for a classifier of 2-D points,
    ``samples`` for a generator; None for the rest."""
    if offers.points_classifier(spec, info):
        return "boundary"
    if spec.task == "image-generation":
        return "samples"
    return None


def watcher(spec: ArchSpec, config: Any, splits: Any, out_dir: Path, host: Host) -> Watch | None:
    """The epoch watch of a run (``archzoo.training.launch.train``'s ``watch``), or None
    when the model has no live view."""
    name = live_view(spec, splits.info)
    return Watch(name, spec, config, splits, Path(out_dir), host) if name else None


class Watch:
    """Takes one view's numbers after each epoch, within :data:`BUDGET` of the run's time."""

    def __init__(self, name: str, spec: ArchSpec, config: Any, splits: Any, out_dir: Path, host: Host) -> None:
        self.name, self.splits, self.host = name, splits, host
        self.folder = out_dir / VIEWS_DIR
        self.loaded = LoadedCheckpoint(
            model=None, spec=spec, config=config, info=splits.info, meta={}, path=out_dir, tokenizer=splits.tokenizer
        )  # a model is put in at each epoch
        self.started = time.perf_counter()
        self.spent = 0.0
        self.cost: float | None = None  # what the last frame took
        self.shared: dict[str, Any] | None = None

    def __call__(self, model: torch.nn.Module, epoch: int, last: bool) -> list[tuple[str, Path]]:
        elapsed = time.perf_counter() - self.started
        if not last and self.cost is not None and self.spent + self.cost > BUDGET * elapsed:
            return []
        began = time.perf_counter()
        self.loaded.model = model
        if self.shared is None:
            self.shared = self._shared()
            _write(self.folder / f"{self.name}.json", json.dumps(self.shared).encode("utf-8"))
        path = self.folder / f"{self.name}-epoch-{epoch:04d}.safetensors"
        tensors = self._boundary() if self.name == "boundary" else self._samples()
        with staged_file(path) as partial:
            save_file(tensors, str(partial))
        self.cost = time.perf_counter() - began
        self.spent += self.cost
        return [(self.name, path)]

    def _shared(self) -> dict[str, Any]:
        spec, info = self.loaded.spec, self.loaded.info
        shared: dict[str, Any] = {"view": self.name, "architecture": spec.name, "dataset": info.name}
        limit = boundary_view.MAX_POINTS if self.name == "boundary" else MAX_REAL
        points_data = len(info.input_shape) == 1
        if self.name == "boundary" or points_data:
            inputs, labels = stacked(self.splits.train, self.splits.collate, limit)
            points = in_data_units(info, inputs)
            shared.update(points=points.tolist(), labels=labels.tolist())
        if self.name == "boundary":
            xs, ys = boundary_view.grid_axes(points, RESOLUTION)
            extra = plugin_views(self.loaded, self.host).get("boundary")
            shared.update(
                x=xs.tolist(),
                y=ys.tolist(),
                class_names=list(info.class_names) or [str(i) for i in range(info.num_classes)],
                margins=list((extra(ViewRequest()) if extra else {}).get("margins", ())),
            )
        else:
            shared["kind"] = "points" if points_data else "images"
        return shared

    def _boundary(self) -> dict[str, torch.Tensor]:
        xs, ys = np.asarray(self.shared["x"], np.float32), np.asarray(self.shared["y"], np.float32)
        probs = boundary_view.grid_probabilities(self.loaded, xs, ys, self.host)
        return {"probabilities": torch.from_numpy(probs).to(torch.float16)}

    def _samples(self) -> dict[str, torch.Tensor]:
        points_data = self.shared["kind"] == "points"
        request = {"n": POINTS if points_data else IMAGES, "seed": 0, "mode": "sample"}
        result = sample_checkpoint(self.loaded, request, host=self.host)
        expect(result, "images")
        if points_data:
            return {"points": torch.as_tensor(result.outputs["points"]).float().cpu().contiguous()}
        images = result.outputs["images"].detach().float().clamp(0, 1).cpu()
        return {"images": (images * 255).round().to(torch.uint8).contiguous()}


# -- looking at what was kept -----------------------------------------------------


def kept(run_folder: str | Path) -> dict[str, list[int]]:
    """The live views a run folder holds: view name -> the epochs kept, in order."""
    folder = Path(run_folder) / VIEWS_DIR
    found: dict[str, list[int]] = {}
    if not folder.is_dir():
        return found
    for entry in folder.iterdir():
        match = VIEW_FILE.fullmatch(entry.name)
        if match and match["epoch"] and (folder / f"{match['view']}.json").is_file():
            found.setdefault(match["view"], []).append(int(match["epoch"]))
    return {name: sorted(epochs) for name, epochs in sorted(found.items())}


def draw(run_folder: str | Path, name: str | None = None, epoch: int | None = None) -> View:
    """The picture of a kept epoch (the newest by default) of a run's live view."""
    views = kept(run_folder)
    if not views:
        raise ViewError(f"{run_folder} keeps no live views (only a 2-D classifier's or a generator's run does)")
    name = name or next(iter(views))
    if name not in views:
        raise ViewError(f"{run_folder} keeps no live '{name}' view; it keeps: {', '.join(views)}")
    epochs = views[name]
    epoch = epochs[-1] if epoch is None else epoch
    if epoch not in epochs:
        raise ViewError(f"epoch {epoch} of '{name}' was not kept; kept epochs: {_ranges(epochs)}")
    folder = Path(run_folder) / VIEWS_DIR
    shared = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    frame = load_file(str(folder / f"{name}-epoch-{epoch:04d}.safetensors"))
    heading = f"{shared['architecture']} on {shared['dataset']}, epoch {epoch}"
    data: dict[str, Any] = {"epoch": epoch, "epochs": epochs}
    if name == "boundary":
        return _draw_boundary(shared, frame, heading, data)
    if shared.get("kind") == "points":
        points = frame["points"].numpy()
        real = np.asarray(shared["points"], dtype=np.float32)
        data["samples"] = np.round(points, 5)
        return View("samples", draw_scatter(real, points, f"{heading}: samples over the real data"), data)
    shown = [e for e in epochs if e <= epoch][-STRIP_EPOCHS:]
    rows = [load_file(str(folder / f"{name}-epoch-{e:04d}.safetensors"))["images"] for e in shown]
    data["shown"] = shown
    return View("samples", _draw_strip(rows, shown, f"{shared['architecture']} on {shared['dataset']}"), data)


def _draw_boundary(shared: dict[str, Any], frame: dict[str, torch.Tensor], heading: str, data: dict) -> View:
    found = {
        "xs": np.asarray(shared["x"], np.float32),
        "ys": np.asarray(shared["y"], np.float32),
        "probabilities": frame["probabilities"].float().numpy(),
        "points": np.asarray(shared["points"], np.float32),
        "labels": np.asarray(shared["labels"]),
    }
    margins = shared.get("margins") or []
    png_bytes = boundary_view.draw_boundary(found, shared["class_names"], margins, heading)
    data.update(class_names=shared["class_names"], x=found["xs"], y=found["ys"])
    data["probabilities"] = found["probabilities"].round(3)
    return View("boundary", png_bytes, data)


def _draw_strip(rows: list[torch.Tensor], epochs: list[int], title: str) -> bytes:
    """One row of samples per epoch, labelled, the same noise in every row."""
    fig, axes = figure(0.9 * len(rows[0]) + 1.2, 0.95 * len(rows) + 0.5, len(rows), 1)
    for axis, images, epoch in zip(axes, rows, epochs):
        axis.imshow(strip([picture(image.float() / 255)[0] for image in images]), interpolation="nearest")
        axis.set_xticks([])
        axis.set_yticks([])
        axis.set_ylabel(f"epoch {epoch}", rotation=0, ha="right", va="center", fontsize=8)
    fig.suptitle(f"{title}: samples from the same noise after each epoch", fontsize=9)
    return png(fig)


def _ranges(epochs: list[int]) -> str:
    """[1, 2, 3, 5, 7, 8] -> "1-3, 5, 7-8"."""
    parts, start, previous = [], epochs[0], epochs[0]
    for current in [*epochs[1:], None]:
        if current == previous + 1:
            previous = current
            continue
        parts.append(str(start) if start == previous else f"{start}-{previous}")
        start = previous = current
    return ", ".join(parts)


def _write(path: Path, content: bytes) -> None:
    with staged_file(path) as partial:
        partial.write_bytes(content)
