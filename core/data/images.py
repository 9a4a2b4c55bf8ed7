"""Image datasets: scikit-learn's digits, MNIST and Fashion-MNIST from IDX files,
and any folder of images laid out one subfolder per class.

Everything is decoded once into whole tensors and served as
:class:`torch.utils.data.TensorDataset` objects, because every dataset here
fits in memory and indexing a tensor is far faster than decoding per item.
Decoded arrays are cached per process (read-only, so no caller can spoil the
cache), which makes a second load of the same data nearly free.

Every dataset is cut the same way (:mod:`archzoo.data.splitting`).
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from dataclasses import dataclass
from functools import lru_cache
from math import prod
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import TensorDataset

from archzoo.data.splitting import check_val_fraction, split_indices, tensor_dataset
from archzoo.data.types import DataInfo, DataOptions, DatasetSplits
from archzoo.errors import DataError
from archzoo.registry.limits import MAX_DECOMPRESSED_BYTES


def _read_only(*arrays: np.ndarray) -> None:
    """Freeze arrays that live in a cache, so a caller's in-place edit fails loudly."""
    for array in arrays:
        array.setflags(write=False)


# -- digits (scikit-learn) -------------------------------------------------------------

DIGIT_NAMES = tuple(str(d) for d in range(10))
#: scikit-learn's digits count ink from 0 to 16 per pixel: divided by this they lie in [0, 1].
DIGITS_RAW_SCALE = 16.0


@lru_cache(maxsize=1)
def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 digits as (N, 1, 8, 8) values in [0, 1], and their labels."""
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    images = (bunch.images / DIGITS_RAW_SCALE).astype(np.float32)[:, None]
    labels = bunch.target.astype(np.int64)
    _read_only(images, labels)
    return images, labels


def load_digits(options: DataOptions) -> DatasetSplits:
    """scikit-learn's 8x8 digits: the dataset that always works, offline, in seconds.

    20% is held out for test; the normalisation uses the training split's
    mean and standard deviation only, so no test statistics leak into training.
    """
    images, labels = _digits_arrays()
    train_idx, val_idx, test_idx = split_indices(len(labels), 0.2, options.val_fraction)
    mean = float(images[train_idx].mean())
    std = float(images[train_idx].std()) or 1.0

    def part(idx: np.ndarray) -> TensorDataset | None:
        x = torch.from_numpy((images[idx] - mean) / std)
        return tensor_dataset(x, torch.from_numpy(labels[idx]))

    info = DataInfo("digits", "image-classification", (1, 8, 8), 10, DIGIT_NAMES, (mean,), (std,))
    return DatasetSplits(info, part(train_idx), part(val_idx), part(test_idx))


# -- IDX files: MNIST and Fashion-MNIST ---------------------------------------------------

#: IDX type codes (the third byte of the magic number) -> numpy dtypes, big-endian.
_IDX_DTYPES = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: Path) -> np.ndarray:
    """Parse an IDX file (gzip-compressed or not) into a read-only numpy array.

    Written out rather than taken from torchvision so that loading needs
    neither pickle nor torchvision's processed-file cache, and so that a
    truncated or foreign file gives a message naming it.  The file is read as
    a stream: its header says how many bytes follow, which must be within
    :data:`~archzoo.registry.limits.MAX_DECOMPRESSED_BYTES`, and no more than
    that is ever decompressed (a small gzip cannot expand into gigabytes).
    """
    try:
        with open(path, "rb") as probe:
            compressed = probe.read(2) == b"\x1f\x8b"
        with gzip.open(path, "rb") if compressed else open(path, "rb") as stream:
            magic = stream.read(4)
            if len(magic) < 4 or magic[0] != 0 or magic[1] != 0 or magic[2] not in _IDX_DTYPES:
                raise DataError(f"{path} is not an IDX file (its first bytes are not an IDX magic number)")
            ndim = magic[3]
            shape = stream.read(4 * ndim)
            if len(shape) < 4 * ndim:
                raise DataError(f"{path} is truncated: its IDX header is incomplete")
            dims = struct.unpack(f">{ndim}I", shape)
            dtype = np.dtype(_IDX_DTYPES[magic[2]])
            size = prod(dims) * dtype.itemsize
            if size > MAX_DECOMPRESSED_BYTES:
                raise DataError(
                    f"{path} promises {size:,} bytes of data (shape {dims}), more than the limit of "
                    f"{MAX_DECOMPRESSED_BYTES:,}; it is not read"
                )
            raw = stream.read(size)
            if len(raw) != size or stream.read(1):
                raise DataError(f"{path} is truncated or corrupt: its header promises shape {dims}")
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"cannot read {path}: {exc}") from None
    return np.frombuffer(raw, dtype=dtype).reshape(dims)


@lru_cache(maxsize=8)
def _idx_pair(images_path: str, labels_path: str, _stamp: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, H, W) and labels (N,) from two IDX files, checked to belong together.

    ``_stamp`` (the files' modification times) is only part of the cache key,
    so replacing the files on disk is noticed.
    """
    images = read_idx(Path(images_path))
    labels = read_idx(Path(labels_path))
    if images.ndim != 3 or labels.ndim != 1:
        raise DataError(f"{images_path} and {labels_path} do not hold images (N x H x W) and labels (N)")
    if len(images) != len(labels):
        raise DataError(f"{images_path} has {len(images)} images but {labels_path} has {len(labels)} labels")
    if tuple(images.shape[1:]) != IDX_IMAGE_SIZE:
        raise DataError(
            f"{images_path} holds images of {images.shape[1]} x {images.shape[2]} pixels; an MNIST-like "
            f"dataset's are {IDX_IMAGE_SIZE[0]} x {IDX_IMAGE_SIZE[1]}"
        )
    return images, labels


#: The size of every MNIST-like dataset's images.
IDX_IMAGE_SIZE = (28, 28)


def _read_pair(pair: tuple[Path, Path]) -> tuple[np.ndarray, np.ndarray]:
    stamp = (pair[0].stat().st_mtime_ns, pair[1].stat().st_mtime_ns)
    return _idx_pair(str(pair[0]), str(pair[1]), stamp)


@dataclass(frozen=True)
class IdxDataset:
    """What differs between MNIST-like datasets: names, statistics and where to look."""

    name: str
    title: str
    torchvision_class: str
    class_names: tuple[str, ...]
    mean: float
    std: float
    system_dirs: tuple[Path, ...]
    debian_package: str = ""

    @property
    def cache_dir(self) -> Path:
        """Where a download goes (and where an earlier download is found)."""
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        return Path(base) / "archzoo" / self.name


FASHION_MNIST = IdxDataset(
    name="fashion-mnist",
    title="Fashion-MNIST",
    torchvision_class="FashionMNIST",
    class_names=(
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
    mean=0.2860,
    std=0.3530,
    system_dirs=(Path("/usr/share/datasets/fashion-mnist"),),
    debian_package="dataset-fashion-mnist",
)

MNIST = IdxDataset(
    name="mnist",
    title="MNIST",
    torchvision_class="MNIST",
    class_names=DIGIT_NAMES,
    mean=0.1307,
    std=0.3081,
    # Where a Debian package would put it, by analogy with dataset-fashion-mnist;
    # no package ships MNIST today, but a copy placed there is found.
    system_dirs=(Path("/usr/share/datasets/mnist"),),
)


@dataclass(frozen=True)
class _Found:
    """A folder holding IDX files, and which (images, labels) pairs it has."""

    folder: Path
    train: tuple[Path, Path] | None
    test: tuple[Path, Path] | None

    @property
    def complete(self) -> bool:
        return self.train is not None and self.test is not None


def _idx_file(folder: Path, stem: str) -> Path | None:
    for name in (f"{stem}.gz", stem):
        if (folder / name).is_file():
            return folder / name
    return None


def _pair(folder: Path, prefix: str) -> tuple[Path, Path] | None:
    images = _idx_file(folder, f"{prefix}-images-idx3-ubyte")
    labels = _idx_file(folder, f"{prefix}-labels-idx1-ubyte")
    return (images, labels) if images and labels else None


def _scan(folder: Path, dataset: IdxDataset) -> _Found | None:
    """The IDX files in ``folder``, or in the ``<Class>/raw`` folder torchvision downloads into."""
    for candidate in (folder, folder / dataset.torchvision_class / "raw"):
        found = _Found(candidate, _pair(candidate, "train"), _pair(candidate, "t10k"))
        if found.train or found.test:
            return found
    return None


def _expected_files() -> str:
    return ", ".join(f"{p}-{k}-idx{d}-ubyte.gz" for p in ("train", "t10k") for k, d in (("images", 3), ("labels", 1)))


def _locate(dataset: IdxDataset, options: DataOptions) -> _Found:
    """Find the files: the folder the user named, else the system and cache folders, else download.

    A folder given as ``data_dir`` is used as it is, even with a split
    missing.  Among the automatic places a complete copy wins; a partial one
    (MNIST's test set alone, say) is used only when no download was asked for.
    """
    if options.data_dir is not None:
        folder = Path(options.data_dir).expanduser()
        if not folder.is_dir():
            raise DataError(f"{dataset.name}: data folder {folder} does not exist")
        found = _scan(folder, dataset)
        if found is None:
            raise DataError(f"{dataset.name}: no {dataset.title} IDX files in {folder}; expected {_expected_files()}")
        return found
    looked = [*dataset.system_dirs, dataset.cache_dir]
    found_any = [f for f in (_scan(folder, dataset) for folder in looked) if f is not None]
    complete = [f for f in found_any if f.complete]
    if complete:
        return complete[0]
    if options.download:
        return _download(dataset)
    if found_any:
        return found_any[0]
    raise DataError(_not_found_message(dataset, looked))


def _not_found_message(dataset: IdxDataset, looked: list[Path]) -> str:
    ways = []
    if dataset.debian_package:
        ways.append(f"install Debian's package (apt-get install {dataset.debian_package})")
    ways.append("point archzoo at a folder holding the IDX files (--data-dir DIR, or DataOptions(data_dir=DIR))")
    ways.append(f"let archzoo download it into {dataset.cache_dir} (--download, or DataOptions(download=True))")
    numbered = "; ".join(f"({i}) {way}" for i, way in enumerate(ways, 1))
    return (
        f"{dataset.name}: no {dataset.title} files found; looked in {', '.join(str(p) for p in looked)}. "
        f"Get it one of {len(ways)} ways: {numbered}"
    )


def _download(dataset: IdxDataset) -> _Found:
    """Fetch the four IDX files with torchvision into the cache folder."""
    import torchvision.datasets

    root = dataset.cache_dir
    try:
        # One call fetches all four files; train=False keeps the parse it does afterwards small.
        getattr(torchvision.datasets, dataset.torchvision_class)(root=str(root), train=False, download=True)
    except Exception as exc:  # network and checksum failures come in many types
        raise DataError(f"{dataset.name}: downloading {dataset.title} into {root} failed: {exc}") from None
    found = _scan(root, dataset)
    if found is None or not found.complete:
        raise DataError(
            f"{dataset.name}: the download into {root} did not leave the expected files ({_expected_files()})"
        )
    return found


def _normalised(images: np.ndarray, dataset: IdxDataset) -> torch.Tensor:
    """uint8 (N, H, W) -> float32 (N, 1, H, W), scaled to [0, 1] then normalised."""
    x = torch.from_numpy(images.astype(np.float32))
    return x.div_(255.0).sub_(dataset.mean).div_(dataset.std).unsqueeze(1)


def _check_labels(labels: np.ndarray, dataset: IdxDataset, path: Path) -> None:
    if len(labels) and (labels.min() < 0 or labels.max() >= len(dataset.class_names)):
        raise DataError(f"{path} has labels outside 0..{len(dataset.class_names) - 1}")


def _idx_part(
    images: np.ndarray, labels: np.ndarray, idx: np.ndarray | None, dataset: IdxDataset
) -> TensorDataset | None:
    if idx is not None:
        images, labels = images[idx], labels[idx]
    return tensor_dataset(_normalised(images, dataset), torch.from_numpy(labels.astype(np.int64)))


def load_idx_dataset(dataset: IdxDataset, options: DataOptions) -> DatasetSplits:
    """Load an MNIST-like dataset: the train file split into train and validation, the t10k file as test.

    Whatever split is missing from the folder comes back as ``None`` with a
    note saying which files would supply it.
    """
    check_val_fraction(options.val_fraction)
    found = _locate(dataset, options)
    notes: list[str] = []
    train = val = test = None
    shape: tuple[int, ...] = (1, 28, 28)
    if found.train is not None:
        images, labels = _read_pair(found.train)
        _check_labels(labels, dataset, found.train[1])
        train_idx, val_idx, _ = split_indices(len(labels), 0.0, options.val_fraction)
        train = _idx_part(images, labels, train_idx, dataset)
        val = _idx_part(images, labels, val_idx, dataset)
        shape = (1, *images.shape[1:])
    else:
        notes.append(_missing_note(dataset, found, "train"))
    if found.test is not None:
        images, labels = _read_pair(found.test)
        _check_labels(labels, dataset, found.test[1])
        test = _idx_part(images, labels, None, dataset)
        shape = (1, *images.shape[1:])
        if found.train is None:
            notes[-1] = _test_only_note(dataset, found, len(labels))
    else:
        notes.append(_missing_note(dataset, found, "t10k"))
    info = DataInfo(
        dataset.name,
        "image-classification",
        shape,
        len(dataset.class_names),
        dataset.class_names,
        (dataset.mean,),
        (dataset.std,),
    )
    return DatasetSplits(info, train, val, test, notes)


def _missing_note(dataset: IdxDataset, found: _Found, prefix: str) -> str:
    split = "training" if prefix == "train" else "test"
    return (
        f"no {dataset.title} {split} files in {found.folder}: the {split} split is empty "
        f"(it needs {prefix}-images-idx3-ubyte.gz and {prefix}-labels-idx1-ubyte.gz)"
    )


def _test_only_note(dataset: IdxDataset, found: _Found, count: int) -> str:
    return (
        f"only the {dataset.title} test set ({count:,} images) was found in {found.folder}; "
        f"it is offered as the 'test' split (for evaluation and out-of-distribution checks). "
        f"Training needs train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz "
        f"(put them in that folder, or use --download)"
    )


def load_fashion_mnist(options: DataOptions) -> DatasetSplits:
    """Fashion-MNIST: found in data_dir, Debian's package folder, the download cache, or downloaded."""
    return load_idx_dataset(FASHION_MNIST, options)


def load_mnist(options: DataOptions) -> DatasetSplits:
    """MNIST: found in data_dir, a system folder, the download cache, or downloaded."""
    return load_idx_dataset(MNIST, options)


# -- image folders --------------------------------------------------------------------------

#: How many file names a note or error lists before it says "and N more".
_LISTED = 5


def _listing(paths: list[str]) -> str:
    shown = ", ".join(paths[:_LISTED])
    return shown + (f" and {len(paths) - _LISTED} more" if len(paths) > _LISTED else "")


def _image_extensions() -> frozenset[str]:
    from PIL import Image

    return frozenset(ext.lower() for ext in Image.registered_extensions())


def _class_folders(folder: Path) -> list[Path]:
    """The class subfolders, sorted by name as torchvision's ImageFolder does (hidden ones skipped)."""
    classes = sorted((p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")), key=lambda p: p.name)
    if not classes:
        loose = [p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
        hint = f"; its {len(loose)} files must be moved into one subfolder per class" if loose else ""
        raise DataError(
            f"{folder} has no class subfolders: an image folder needs one subfolder per class "
            f"with that class's images inside (e.g. {folder}/cat/001.png){hint}"
        )
    return classes


def _scan_folder(folder: Path) -> tuple[tuple[str, ...], tuple[tuple[str, int, int, int], ...], tuple[str, ...]]:
    """(class names, image files as (path, label, size, mtime), files ignored for not being images).

    File sizes and times go into the cache key, so an edited folder is re-read.
    """
    extensions = _image_extensions()
    classes = _class_folders(folder)
    files: list[tuple[str, int, int, int]] = []
    ignored: list[str] = []
    for label, class_dir in enumerate(classes):
        for path in sorted(p for p in class_dir.rglob("*") if p.is_file() and not p.name.startswith(".")):
            if path.suffix.lower() in extensions:
                stat = path.stat()
                files.append((str(path), label, stat.st_size, stat.st_mtime_ns))
            else:
                ignored.append(str(path.relative_to(folder)))
    return tuple(c.name for c in classes), tuple(files), tuple(ignored)


def _open_image(path: str):
    """Decode one file fully (so a truncated file fails here), as ``L`` if it is grayscale, else ``RGB``."""
    from PIL import Image

    with Image.open(path) as image:
        image.load()
        return image.convert("L" if image.mode in ("L", "1") else "RGB")


@dataclass(frozen=True)
class _DecodedFolder:
    images: np.ndarray  # uint8 (N, C, H, W), read-only
    labels: np.ndarray  # int64 (N,), read-only
    notes: tuple[str, ...]


@lru_cache(maxsize=4)
def _decode_folder(folder: str, files: tuple[tuple[str, int, int, int], ...], image_size: int | None) -> _DecodedFolder:
    """Decode every image into one uint8 array of a single size and channel count."""
    from PIL import Image, UnidentifiedImageError

    arrays: list[np.ndarray] = []
    labels: list[int] = []
    unreadable: list[str] = []
    target = (image_size, image_size) if image_size else None
    resized = 0
    for path, label, _, _ in files:
        try:
            image = _open_image(path)
        except (OSError, ValueError, UnidentifiedImageError, Image.DecompressionBombError) as exc:
            unreadable.append(f"{Path(path).relative_to(folder)} ({type(exc).__name__}: {exc})")
            continue
        target = target or image.size
        if image.size != target:
            image = image.resize(target, Image.Resampling.BILINEAR)
            resized += 1
        arrays.append(np.asarray(image))
        labels.append(label)

    notes = []
    if unreadable:
        notes.append(
            f"skipped {len(unreadable)} unreadable file{'s' if len(unreadable) > 1 else ''}: {_listing(unreadable)}"
        )
    if resized:
        notes.append(f"resized {resized} of {len(arrays)} images to {target[0]}x{target[1]} (width x height)")
    grayscale = sum(a.ndim == 2 for a in arrays)
    if 0 < grayscale < len(arrays):
        notes.append(f"converted {grayscale} grayscale images to RGB because the folder also holds colour images")
    images = _stack_channels(arrays)
    label_array = np.asarray(labels, dtype=np.int64)
    _read_only(images, label_array)
    return _DecodedFolder(images, label_array, tuple(notes))


def _stack_channels(arrays: list[np.ndarray]) -> np.ndarray:
    """(H, W) and (H, W, 3) arrays -> one (N, C, H, W) array: one channel only if every image is grayscale."""
    if not arrays:
        return np.zeros((0, 1, 1, 1), dtype=np.uint8)
    if all(a.ndim == 2 for a in arrays):
        return np.stack(arrays)[:, None]
    rgb = [np.repeat(a[:, :, None], 3, axis=2) if a.ndim == 2 else a for a in arrays]
    return np.ascontiguousarray(np.stack(rgb).transpose(0, 3, 1, 2))


def _check_every_class_has_images(folder: Path, class_names: tuple[str, ...], decoded: _DecodedFolder) -> None:
    counts = np.bincount(decoded.labels, minlength=len(class_names))
    empty = [name for name, count in zip(class_names, counts) if count == 0]
    if empty:
        skipped = [n for n in decoded.notes if n.startswith("skipped")]
        detail = f" ({skipped[0]})" if skipped else ""
        raise DataError(
            f"class folder{'s' if len(empty) > 1 else ''} {', '.join(str(folder / n) for n in empty)} "
            f"{'have' if len(empty) > 1 else 'has'} no readable images{detail}"
        )


def load_image_folder(path: Path, options: DataOptions) -> DatasetSplits:
    """A folder with one subfolder of images per class, loaded whole into one tensor.

    10% is held out for test and ``val_fraction`` of the rest for validation
    (81/9/10 at the default), as for every other dataset, so test images stay
    put when the validation share changes.
    Images take the size ``options.image_size`` (square) or else the size of
    the first image; they are grayscale only if every image is.  Each channel
    is normalised with the training split's mean and standard deviation.
    What had to be skipped, resized or converted is reported in ``notes``.
    """
    check_val_fraction(options.val_fraction)
    folder = Path(path).expanduser().resolve()
    if not folder.is_dir():
        raise DataError(f"dataset directory {folder} does not exist")
    class_names, files, ignored = _scan_folder(folder)
    decoded = _decode_folder(str(folder), files, options.image_size)
    _check_every_class_has_images(folder, class_names, decoded)
    notes = list(decoded.notes)
    if ignored:
        notes.append(
            f"ignored {len(ignored)} file{'s' if len(ignored) > 1 else ''} that are not images: "
            f"{_listing(list(ignored))}"
        )
    if len(class_names) == 1:
        notes.append(
            f"{folder} has a single class ('{class_names[0]}'); a classifier needs at least two to learn anything"
        )

    x = torch.from_numpy(decoded.images.astype(np.float32)).div_(255.0)
    y = torch.from_numpy(decoded.labels.copy())
    train_idx, val_idx, test_idx = (torch.from_numpy(i) for i in split_indices(len(y), 0.1, options.val_fraction))
    mean = x[train_idx].mean(dim=(0, 2, 3))
    std = x[train_idx].std(dim=(0, 2, 3), unbiased=False)
    std = torch.where(std > 1e-6, std, torch.ones_like(std))
    x = x.sub_(mean[:, None, None]).div_(std[:, None, None])

    info = DataInfo(
        name=folder.name,
        task="image-classification",
        input_shape=tuple(x.shape[1:]),
        num_classes=len(class_names),
        class_names=class_names,
        mean=tuple(mean.tolist()),
        std=tuple(std.tolist()),
    )
    parts = (tensor_dataset(x[i], y[i]) for i in (train_idx, val_idx, test_idx))
    return DatasetSplits(info, *parts, notes=notes)


def clear_caches() -> None:
    """Forget every array decoded in this process."""
    for cached in (_digits_arrays, _idx_pair, _decode_folder):
        cached.cache_clear()
