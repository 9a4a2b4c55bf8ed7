"""The dataset layer on real data: scikit-learn's digits, Fashion-MNIST from
Debian's package, the MNIST test set from shared/data, the synthetic sets, and
image folders written here with PIL.  No mocks: every test reads real files."""

from __future__ import annotations

import gzip
import importlib
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from archzoo import DataError
from archzoo.data import DataOptions, load_dataset
from archzoo.data.catalogue import CATALOGUE, clear_caches

TOY_SETS = ("moons", "spirals", "xor")


def split_sizes(splits) -> tuple[int | None, ...]:
    return tuple(None if part is None else len(part) for part in (splits.train, splits.val, splits.test))


def assert_item_types(dataset, shape: tuple[int, ...]) -> None:
    x, y = dataset[0]
    assert x.dtype == torch.float32 and tuple(x.shape) == shape
    assert y.dtype == torch.int64 and y.shape == ()


# -- the catalogue ----------------------------------------------------------------------


def test_catalogue_is_registered_and_every_loader_resolves():
    from archzoo.registry.host import get_host

    datasets = get_host().datasets
    assert {"digits", "fashion-mnist", "mnist", "moons", "spirals", "xor"} <= set(datasets)
    for spec in CATALOGUE:
        assert datasets[spec.name].plugin == "datasets"
        module, _, function = spec.loader.partition(":")
        assert callable(getattr(importlib.import_module(module), function)), spec.loader


def test_importing_the_catalogue_does_not_import_torch():
    code = (
        "import archzoo.datasets, sys; "
        "heavy = [m for m in ('torch', 'numpy', 'sklearn', 'torchvision', 'PIL') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- digits -----------------------------------------------------------------------------


def test_digits_shapes_sizes_and_labels():
    splits = load_dataset("digits", DataOptions())
    info = splits.info
    assert (info.name, info.task, info.input_shape, info.num_classes) == (
        "digits",
        "image-classification",
        (1, 8, 8),
        10,
    )
    assert info.class_names == tuple("0123456789")
    assert split_sizes(splits) == (1294, 144, 359)  # 1,797 = 80% (train + 10% of it as val) + 20% test
    assert_item_types(splits.train, (1, 8, 8))
    x, y = splits.train.tensors
    assert abs(x.mean().item()) < 1e-3 and abs(x.std().item() - 1) < 1e-2
    assert set(y.tolist()) == set(range(10))
    assert 0 < info.mean[0] < 1 and 0 < info.std[0] < 1  # statistics of values scaled to [0, 1]
    assert splits.notes == []


def test_digits_splits_are_deterministic_and_test_ignores_val_fraction():
    first = load_dataset("digits", DataOptions())
    clear_caches()
    second = load_dataset("digits", DataOptions())
    for a, b in zip((first.train, first.val, first.test), (second.train, second.val, second.test)):
        assert torch.equal(a.tensors[0], b.tensors[0]) and torch.equal(a.tensors[1], b.tensors[1])
    no_val = load_dataset("digits", DataOptions(val_fraction=0.0))
    assert no_val.val is None and len(no_val.train) == 1294 + 144
    # Same test images whatever the validation share (normalisation differs slightly, labels must not).
    assert torch.equal(no_val.test.tensors[1], first.test.tensors[1])


def test_bad_val_fraction_is_a_data_error():
    with pytest.raises(DataError, match="val_fraction"):
        load_dataset("digits", DataOptions(val_fraction=1.0))


# -- Fashion-MNIST and MNIST --------------------------------------------------------------


def test_fashion_mnist_from_the_debian_folder(fashion_mnist_dir):
    splits = load_dataset("fashion-mnist", DataOptions(data_dir=fashion_mnist_dir))
    info = splits.info
    assert split_sizes(splits) == (54_000, 6_000, 10_000)
    assert info.input_shape == (1, 28, 28) and info.num_classes == 10
    assert info.class_names[0] == "T-shirt/top" and info.class_names[-1] == "Ankle boot"
    assert (info.mean, info.std) == ((0.2860,), (0.3530,))
    assert_item_types(splits.test, (1, 28, 28))
    x = splits.train.tensors[0]
    assert abs(x.mean().item()) < 0.02 and abs(x.std().item() - 1) < 0.02
    assert torch.bincount(splits.test.tensors[1]).tolist() == [1000] * 10
    assert splits.notes == []


def test_mnist_test_set_only(shared_data):
    folder = shared_data / "mnist-t10k"
    splits = load_dataset("mnist", DataOptions(data_dir=folder))
    assert splits.train is None and splits.val is None
    assert len(splits.test) == 10_000
    assert_item_types(splits.test, (1, 28, 28))
    assert splits.info.class_names == tuple("0123456789") and splits.info.mean == (0.1307,)
    assert set(splits.test.tensors[1].tolist()) == set(range(10))
    (note,) = splits.notes
    assert "only the MNIST test set (10,000 images)" in note and str(folder) in note
    assert "'test' split" in note and "train-images-idx3-ubyte.gz" in note


def test_mnist_plain_idx_files_in_torchvision_layout(shared_data, tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (raw / name).write_bytes(gzip.decompress((shared_data / "mnist-t10k" / f"{name}.gz").read_bytes()))
    splits = load_dataset("mnist", DataOptions(data_dir=tmp_path))
    assert splits.train is None and len(splits.test) == 10_000
    assert str(raw) in splits.notes[0]


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_missing_data_dir_is_named(name, tmp_path):
    missing = tmp_path / "no-such-folder"
    with pytest.raises(DataError, match="no-such-folder"):
        load_dataset(name, DataOptions(data_dir=missing))


def test_data_dir_without_idx_files_lists_what_it_needs(tmp_path):
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz"):
        load_dataset("mnist", DataOptions(data_dir=tmp_path))


def test_corrupt_idx_file_is_named(tmp_path):
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x03" + b"\x00" * 20))
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"not an idx file"))
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz is truncated"):
        load_dataset("mnist", DataOptions(data_dir=tmp_path))


def test_not_found_anywhere_says_where_it_looked_and_how_to_get_it(tmp_path, monkeypatch):
    from archzoo.data import images as image_datasets

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    nowhere = tmp_path / "system"
    monkeypatch.setattr(image_datasets, "FASHION_MNIST", replace(image_datasets.FASHION_MNIST, system_dirs=(nowhere,)))
    with pytest.raises(DataError) as caught:
        load_dataset("fashion-mnist", DataOptions())
    message = str(caught.value)
    assert str(nowhere) in message and str(tmp_path / "cache" / "archzoo" / "fashion-mnist") in message
    for way in ("apt-get install dataset-fashion-mnist", "--data-dir", "--download"):
        assert way in message


# -- synthetic sets ----------------------------------------------------------------------


@pytest.mark.parametrize("name", TOY_SETS)
def test_synthetic_sets(name):
    splits = load_dataset(name, DataOptions())
    info = splits.info
    assert (info.task, info.input_shape, info.num_classes, len(info.class_names)) == (
        "tabular-classification",
        (2,),
        2,
        2,
    )
    assert split_sizes(splits) == (765, 85, 150)
    assert_item_types(splits.train, (2,))
    x, y = splits.train.tensors
    assert torch.allclose(x.mean(dim=0), torch.zeros(2), atol=1e-4)
    assert torch.allclose(x.std(dim=0, unbiased=False), torch.ones(2), atol=1e-3)
    assert 0.4 < y.float().mean().item() < 0.6  # balanced classes
    assert len(info.mean) == len(info.std) == 2

    clear_caches()
    again = load_dataset(name, DataOptions())
    assert torch.equal(again.train.tensors[0], x) and torch.equal(again.test.tensors[1], splits.test.tensors[1])


def test_xor_labels_follow_the_quadrant():
    splits = load_dataset("xor", DataOptions())
    x, y = splits.test.tensors
    raw = x * torch.tensor(splits.info.std) + torch.tensor(splits.info.mean)
    predicted = (raw[:, 0] * raw[:, 1] < 0).long()
    assert (predicted == y).float().mean().item() > 0.9


# -- image folders -----------------------------------------------------------------------


def write_image(path: Path, mode: str, size: tuple[int, int], value: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    colour = value if mode == "L" else (value, 255 - value, value // 2)
    Image.new(mode, size, colour).save(path)


@pytest.fixture
def image_folder(tmp_path) -> Path:
    """Three classes of 16x16 grayscale images, plus one of each awkward case."""
    root = tmp_path / "pets"
    for label, name in enumerate(("cat", "dog", "fish")):
        for i in range(4):
            write_image(root / name / f"{i}.png", "L", (16, 16), 40 * label + 10 * i)
    write_image(root / "cat" / "wide.png", "L", (20, 12), 200)  # another size: resized
    write_image(root / "dog" / "colour.jpg", "RGB", (16, 16), 90)  # one colour image: all RGB
    (root / "fish" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")  # unreadable: skipped
    (root / "fish" / "readme.txt").write_text("not an image")  # not an image: ignored
    return root


def test_image_folder_loads_through_load_dataset(image_folder):
    splits = load_dataset(str(image_folder), DataOptions())
    info = splits.info
    assert (info.name, info.task, info.class_names) == ("pets", "image-classification", ("cat", "dog", "fish"))
    assert info.input_shape == (3, 16, 16) and info.num_classes == 3
    assert len(info.mean) == len(info.std) == 3
    sizes = split_sizes(splits)
    assert sum(sizes) == 14 and sizes[2] == 1 and sizes[1] == 1  # 10% test, 10% of the rest val, at least one each
    assert_item_types(splits.train, (3, 16, 16))
    x = splits.train.tensors[0]
    assert torch.allclose(x.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-4)
    notes = " | ".join(splits.notes)
    assert "broken.png" in notes and "resized 1 of 14" in notes and "to RGB" in notes and "readme.txt" in notes


def test_image_folder_grayscale_and_image_size(image_folder):
    (image_folder / "dog" / "colour.jpg").unlink()
    splits = load_dataset(str(image_folder), DataOptions(image_size=8))
    assert splits.info.input_shape == (1, 8, 8)
    assert "resized 13 of 13" in " ".join(splits.notes)


def test_image_folder_without_class_subfolders(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="no class subfolders"):
        load_dataset(str(empty), DataOptions())


def test_class_folder_without_readable_images(image_folder):
    (image_folder / "bird").mkdir()
    (image_folder / "bird" / "bad.png").write_bytes(b"garbage")
    with pytest.raises(DataError, match=r"bird has no readable images.*bad\.png"):
        load_dataset(str(image_folder), DataOptions())


def test_image_folder_path_that_does_not_exist(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_dataset(str(tmp_path / "missing"), DataOptions())


def test_image_folder_labels_match_their_folders(image_folder):
    splits = load_dataset(str(image_folder), DataOptions(val_fraction=0.0))
    every = torch.cat([part.tensors[1] for part in (splits.train, splits.test)])
    assert np.bincount(every.numpy()).tolist() == [5, 5, 4]  # cat 4 + wide, dog 4 + colour, fish 4


@pytest.mark.parametrize("spec", CATALOGUE, ids=lambda spec: spec.name)
def test_catalogue_shapes_match_the_data(spec, fashion_mnist_dir, shared_data):
    data_dir = {
        "fashion-mnist": fashion_mnist_dir,
        "mnist": shared_data / "mnist-t10k",
        "sst2": shared_data / "sst2",
        "sst2-sentences": shared_data / "sst2",
    }.get(spec.name)
    info = load_dataset(spec.name, DataOptions(data_dir=data_dir)).info
    assert (spec.input_shape, spec.num_classes) == (info.input_shape, info.num_classes)
