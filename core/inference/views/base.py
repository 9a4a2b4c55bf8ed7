"""What a view is: its name and summary, the request it answers, the PNG (and numbers) it gives."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archzoo.errors import ArchzooError
from archzoo.files import staged_file
from archzoo.registry.limits import MAX_VIEW_COUNT, MAX_VIEW_RESOLUTION, check_count

#: Every view archzoo can draw, and what it shows.
VIEWS: dict[str, str] = {
    "boundary": "the decision boundary over the 2-D input plane: class regions shaded by probability, the training "
    "points on top",
    "residuals": "a regression's test predictions against the truth: the fitted curve over x (one input) or "
    "predicted against true, and each residual (true - predicted)",
    "misclassified": "the misclassified test images behind each cell of the confusion matrix",
    "filters": "the first layer's weights as images: a CNN's first filters, a linear model's or MLP's weight images",
    "activations": "a layer's activation maps for one test input (--layer, --index)",
    "saliency": "where the predicted class's score is sensitive to the input: input gradient, and Grad-CAM for "
    "convolutional networks",
    "latent": "the test set in the autoencoder's latent plane, coloured by class",
    "reconstructions": "test images (above) and their reconstructions (below)",
    "samples": "the generator's samples: images, or points scattered over the real data",
    "diffusion": "the reverse diffusion as frames, from t = T to t = 0",
    "attention": "attention maps of one input, per layer and head",
}


class ViewError(ArchzooError, ValueError):
    """A view the model does not offer, a layer it does not have, or an option out of bounds."""


@dataclass
class View:
    """One drawn view: PNG bytes for people, and (where it has numbers) a dict of them for scripts.

    The numbers may be numpy arrays: turning a 200 x 200 probability grid into Python lists
    takes longer than drawing it, so that happens only when the JSON is asked for (:meth:`json`)."""

    name: str
    png: bytes
    data: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    def image(self) -> Any:
        """The PNG as a PIL image."""
        import io

        from PIL import Image

        return Image.open(io.BytesIO(self.png))

    def json(self) -> str:
        """The numbers as JSON text (arrays as lists), headed by the view's name."""
        return json.dumps({"view": self.name, **(self.data or {})}, default=_listed) + "\n"

    def write(self, folder: str | Path, *, overwrite: bool = False) -> list[Path]:
        """Write ``NAME.png`` (and ``NAME.json``) into ``folder``; returns the paths written.
        A file already there is replaced only with ``overwrite``."""
        folder = Path(folder).expanduser()
        paths = [folder / f"{self.name}.png"] + ([folder / f"{self.name}.json"] if self.data is not None else [])
        there = [p for p in paths if p.exists()]
        if there and not overwrite:
            raise ViewError(
                f"{there[0]} already exists; give another --out folder or --overwrite (nothing was written)"
            )
        folder.mkdir(parents=True, exist_ok=True)
        contents = [self.png] + ([self.json().encode("utf-8")] if self.data is not None else [])
        for path, content in zip(paths, contents):
            with staged_file(path) as partial:  # a crash never leaves half a PNG
                partial.write_bytes(content)
        return paths


@dataclass(frozen=True)
class ViewRequest:
    """What a view is asked for, each option checked against its bound."""

    layer: str | None = None
    index: int = 0
    resolution: int = 200
    count: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        for name, value in (("resolution", self.resolution), ("count", self.count), ("index", self.index)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise ViewError(f"{name} must be a whole number, not {value!r}")
        if self.resolution < 8:
            raise ViewError(f"resolution must be at least 8 cells a side, not {self.resolution}")
        check_count("grid resolution (cells a side)", self.resolution, MAX_VIEW_RESOLUTION)
        if self.count is not None:
            if self.count < 1:
                raise ViewError(f"count must be at least 1, not {self.count}")
            check_count("count", self.count, MAX_VIEW_COUNT)
        if self.index < 0:
            raise ViewError(f"index must be 0 or more, not {self.index}")

    def counted(self, default: int) -> int:
        return self.count if self.count is not None else default


def _listed(value: Any) -> Any:
    """numpy arrays and scalars as JSON can hold them."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON-able")
