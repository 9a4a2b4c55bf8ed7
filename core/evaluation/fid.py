"""FID-<dataset>: the Frechet distance between real and generated images, in
the feature space of a small archzoo classifier trained on that dataset.

The Frechet distance between two Gaussians fitted to two sets of feature
vectors is

    d^2 = |mu_r - mu_g|^2 + Tr(S_r + S_g - 2 (S_r S_g)^(1/2)),

zero for identical sets and growing as the generated images' features drift
from the real ones in mean or spread.

**This is not the Inception FID.**  The features here are the 64 numbers the
shipped classifier computes before its last layer (global-average-pooled
convolution features of archzoo's ``cnn-fashion`` network), not Inception-v3's
2,048 pool features on 299 x 299 RGB images.  Values are on a different scale,
depend on this classifier, and must never be compared with published FID
numbers; archzoo always writes the metric as ``FID-<dataset>`` (for example
``FID-fashion-mnist``) so that the name says which yardstick it is.  Compare
FID-<dataset> values with each other, computed with the same feature model and
the same number of samples (the estimate is biased upwards for small sets).

The feature model ships with archzoo as package data
(``archzoo/evaluation/fid_models/<dataset>/``: a normal archzoo checkpoint, about 300 KB)
and is rebuilt, deterministically on one machine, by::

    python -m archzoo.evaluation.fid build fashion-mnist

which trains the ``cnn-fashion`` preset (3 blocks of 2x(Conv-BN-ReLU) at
16/32/64 channels, global average pooling, Linear(64, 10); 72,890 parameters)
for 5 epochs with seed 0 and copies its best checkpoint there.  Nothing is
ever downloaded.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from archzoo.checkpoints.io import load
from archzoo.checkpoints.layout import is_checkpoint
from archzoo.data import DataOptions, load_dataset
from archzoo.errors import ArchzooError
from archzoo.toolkit.generative import to_unit
from archzoo.training.launch import train

#: dataset -> (preset, training overrides) of the shipped feature classifiers.
RECIPES: dict[str, tuple[str, dict[str, Any]]] = {
    "fashion-mnist": ("cnn-fashion", {"epochs": 5, "seed": 0}),
}
MODELS_DIR = Path(__file__).resolve().parent / "fid_models"


class FIDError(ArchzooError, ValueError):
    """No feature model for the dataset, or images it cannot take."""


def metric_name(dataset: str) -> str:
    """The name the metric goes by everywhere: ``FID-fashion-mnist``."""
    return f"FID-{dataset}"


def model_dir(dataset: str) -> Path:
    return MODELS_DIR / dataset


@lru_cache(maxsize=4)
def feature_model(dataset: str = "fashion-mnist") -> Any:
    """The shipped classifier for ``dataset``, loaded (and checked) as an archzoo checkpoint."""
    folder = model_dir(dataset)
    if not is_checkpoint(folder):
        shipped = (
            ", ".join(sorted(p.name for p in MODELS_DIR.iterdir() if is_checkpoint(p)))
            if MODELS_DIR.is_dir()
            else "none"
        )
        raise FIDError(
            f"no {metric_name(dataset)} feature model: archzoo ships them for {shipped}"
            + (f"; build it with 'python -m archzoo.evaluation.fid build {dataset}'" if dataset in RECIPES else "")
        )
    return load(folder)


def features(images: Any, dataset: str = "fashion-mnist", batch_size: int = 500) -> Any:
    """N x C x H x W images in [0, 1] -> N x D features (float64): the input of the
    classifier's last Linear layer, after its own normalisation of the pixels."""
    import torch

    loaded = feature_model(dataset)
    images = torch.as_tensor(images).float()
    shape = tuple(loaded.info.input_shape)
    if images.ndim != 4 or tuple(images.shape[1:]) != shape:
        got = " x ".join(str(s) for s in images.shape)
        raise FIDError(f"{metric_name(dataset)} takes N x {' x '.join(map(str, shape))} images, not {got}")
    if len(images) < 2:
        raise FIDError(f"{metric_name(dataset)} needs at least 2 images per set, got {len(images)}")
    if float(images.min()) < 0.0 or float(images.max()) > 1.0:
        raise FIDError(
            f"{metric_name(dataset)} takes pixels in [0, 1]; these span [{float(images.min()):.3g}, "
            f"{float(images.max()):.3g}]"
        )
    model = loaded.model.eval()
    head = [m for m in model.modules() if isinstance(m, torch.nn.Linear)][-1]
    captured: list[torch.Tensor] = []
    handle = head.register_forward_hook(lambda module, inputs, output: captured.append(inputs[0].detach()))
    mean = torch.tensor(loaded.info.mean).view(1, -1, 1, 1)
    std = torch.tensor(loaded.info.std).view(1, -1, 1, 1)
    try:
        with torch.no_grad():
            for start in range(0, len(images), batch_size):
                model((images[start : start + batch_size] - mean) / std)
    finally:
        handle.remove()
    return torch.cat(captured).double()


def statistics(feats: Any) -> tuple[Any, Any]:
    """(mean, covariance) of N x D features."""
    mu = feats.mean(dim=0)
    centred = feats - mu
    return mu, centred.T @ centred / (len(feats) - 1)


def frechet_distance(stats_a: tuple[Any, Any], stats_b: tuple[Any, Any]) -> float:
    """d^2 between two Gaussians given as (mean, covariance).

    Tr((S_a S_b)^(1/2)) is computed as the sum of square roots of the
    eigenvalues of S_a^(1/2) S_b S_a^(1/2), which is symmetric and positive
    semi-definite, so the symmetric eigensolver is exact where a general
    matrix square root would return small imaginary parts."""
    import torch

    mu_a, cov_a = stats_a
    mu_b, cov_b = stats_b
    values, vectors = torch.linalg.eigh(cov_a)
    root_a = vectors @ torch.diag(values.clamp(min=0).sqrt()) @ vectors.T
    middle = root_a @ cov_b @ root_a
    cross = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp(min=0).sqrt().sum()
    value = (mu_a - mu_b).pow(2).sum() + torch.trace(cov_a) + torch.trace(cov_b) - 2 * cross
    return max(float(value), 0.0)


def fid(real: Any, generated: Any, dataset: str = "fashion-mnist") -> float:
    """FID-<dataset> between two sets of N x C x H x W images in [0, 1]."""
    return frechet_distance(statistics(features(real, dataset)), statistics(features(generated, dataset)))


def generator_fid(location: str | Path, *, n: int = 1000, seed: int = 1000, chunk: int = 250) -> float:
    """FID-<dataset> of ``n`` images drawn from a generator checkpoint (seeds ``seed``,
    ``seed + 1``, ... per chunk) against its dataset's test split: how a study
    judges generators, whose losses say nothing of sample quality."""
    import torch

    from archzoo.inference.sampling import sample_checkpoint

    loaded = load(location)
    dataset = loaded.info.name
    drawn = [
        sample_checkpoint(loaded, {"n": min(chunk, n - start), "seed": seed + i}).outputs["images"]
        for i, start in enumerate(range(0, n, chunk))
    ]
    return frechet_distance(split_statistics(dataset), statistics(features(torch.cat(drawn), dataset)))


@lru_cache(maxsize=4)
def split_statistics(dataset: str) -> tuple[Any, Any]:
    """(mean, covariance) of the features of ``dataset``'s test split: the same for every
    generator judged against it, so a study's trials read and embed the split once."""
    return statistics(features(real_images(dataset, "test"), dataset))


def real_images(dataset: str = "fashion-mnist", split: str = "test", limit: int | None = None) -> Any:
    """A split of ``dataset`` as N x C x H x W images in [0, 1] (the first ``limit``)."""
    import torch

    splits = load_dataset(dataset, DataOptions())
    chosen = {"train": splits.train, "validation": splits.val, "test": splits.test}[split]
    if chosen is None:
        raise FIDError(f"dataset '{dataset}' has no {split} split")
    x = chosen.tensors[0] if hasattr(chosen, "tensors") else torch.stack([chosen[i][0] for i in range(len(chosen))])
    if limit:
        x = x[:limit]
    return to_unit(x, splits.info)


# -- building the shipped feature model --------------------------------------------------


def build(dataset: str, out: Path | None = None) -> Path:
    """Train the feature classifier for ``dataset`` from its recipe and copy the best checkpoint to ``out``."""
    if dataset not in RECIPES:
        raise FIDError(f"no recipe for a {metric_name(dataset)} feature model; recipes: {', '.join(RECIPES)}")
    preset, overrides = RECIPES[dataset]
    out = Path(out) if out else model_dir(dataset)
    with tempfile.TemporaryDirectory(prefix="archzoo-fid-") as folder:
        result = train(preset, overrides=dict(overrides), out=Path(folder) / "run")
        if result.best_dir is None:
            raise FIDError(f"training the {metric_name(dataset)} feature model left no checkpoint")
        if out.exists():
            shutil.rmtree(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(result.best_dir, out, ignore=shutil.ignore_patterns("training_state*"))
        print(f"{metric_name(dataset)} feature model: test {result.test_metrics} -> {out}")
    feature_model.cache_clear()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m archzoo.fid", description="FID-<dataset> feature models (not the Inception FID)."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("build", help="train the feature classifier for a dataset and install it as package data")
    p.add_argument("dataset", choices=sorted(RECIPES))
    p.add_argument("--out", type=Path, help="folder to write instead of archzoo/fid_models/DATASET")
    args = parser.parse_args(argv)
    try:
        build(args.dataset, args.out)
    except ArchzooError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
