"""CSV files of numbers as datasets, on real files written here: scikit-learn's moons
saved with a header, in units of their own, read by path, trained on by a real MLP,
drawn by the boundary view, and the errors a person gets for a bad file or a badly
typed row.  No mocks."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.datasets import make_moons

from archzoo import DataError
from archzoo.api import available_views, draw_view, evaluate_checkpoint, load, predict, train
from archzoo.data import SPLIT_SEED, DataOptions, load_dataset
from archzoo.errors import ArchzooError
from archzoo.inference import classify_rows

#: The moons in units of their own: a model that read them unscaled, or a view that drew
#: them standardised, would be far off.
SCALE, SHIFT = np.array([40.0, 0.5]), np.array([1000.0, -20.0])


def write_csv(path: Path, header: list[str], rows) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def moons_csv(path: Path, n: int = 600, label: str = "kind", names=("upper", "lower")) -> Path:
    x, y = make_moons(n_samples=n, noise=0.15, random_state=0)
    x = x * SCALE + SHIFT
    return write_csv(path, ["width", "height", label], [(a, b, names[c]) for (a, b), c in zip(x, y)])


def csv_rows(path: Path) -> tuple[np.ndarray, list[str]]:
    with open(path, encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    return np.array([[float(a), float(b)] for a, b, _ in rows]), [label for *_, label in rows]


@pytest.fixture(scope="module", autouse=True)
def store(module_store):
    """One checkpoint store for the module's runs (conftest's ``module_store``)."""
    return module_store


@pytest.fixture(scope="module")
def points(tmp_path_factory) -> Path:
    return moons_csv(tmp_path_factory.mktemp("data") / "moons.csv")


@pytest.fixture(scope="module")
def model(points):
    """The notes' 2-32-32-2 MLP trained on the CSV for a few epochs, through the API."""
    result = train("mlp-moons", dataset=str(points), overrides={"epochs": 15}, out="csv-moons")
    return result.out_dir


# -- reading and splitting ----------------------------------------------------------------


def test_a_csv_of_numbers_is_a_tabular_set_split_and_scaled_as_the_toy_sets(tmp_path):
    from sklearn.datasets import make_moons as moons

    x, y = moons(n_samples=1000, noise=0.2, random_state=SPLIT_SEED)  # the points of the 'moons' set
    path = write_csv(tmp_path / "same-moons.csv", ["x1", "x2", "class"], [(a, b, c) for (a, b), c in zip(x, y)])
    from_csv, toy = load_dataset(str(path)), load_dataset("moons")
    info = from_csv.info
    assert (info.name, info.task, info.input_shape, info.class_names) == (
        "same-moons.csv",
        "tabular-classification",
        (2,),
        ("0", "1"),
    )
    for part in ("train", "val", "test"):
        (cx, cy), (tx, ty) = getattr(from_csv, part).tensors, getattr(toy, part).tensors
        assert torch.equal(cy, ty) and torch.allclose(cx, tx, atol=1e-5)
    assert np.allclose(info.mean, toy.info.mean, atol=1e-5) and np.allclose(info.std, toy.info.std, atol=1e-5)
    assert any("label column 'class'" in note for note in from_csv.notes)  # the last column, and it says so


def test_the_scaling_is_recorded_in_the_files_units(points):
    splits = load_dataset(str(points))
    x, _ = splits.train.tensors
    assert torch.allclose(x.mean(dim=0), torch.zeros(2), atol=1e-4)
    raw, _ = csv_rows(points)
    back = x.numpy() * np.array(splits.info.std) + np.array(splits.info.mean)
    assert np.abs(back[:, None, :] - raw[None, :, :]).max(axis=2).min(axis=1).max() < 1e-3  # each one a CSV row
    assert splits.info.class_names == ("lower", "upper")


def test_class_names_are_the_labels_sorted_numbers_by_value(tmp_path):
    rows = [(i, i % 5, ("10", "2", "1.5")[i % 3]) for i in range(60)]
    numeric = load_dataset(str(write_csv(tmp_path / "numeric.csv", ["a", "b", "grade"], rows)))
    assert numeric.info.class_names == ("1.5", "2", "10")
    words = [(i, i % 5, ("pear", "Apple", "fig")[i % 3]) for i in range(60)]
    assert load_dataset(str(write_csv(tmp_path / "words.csv", ["a", "b", "fruit"], words))).info.class_names == (
        "Apple",
        "fig",
        "pear",
    )


def test_the_label_column_is_named_or_label_or_the_last(tmp_path):
    rows = [(i % 2, i, i % 3) for i in range(60)]
    path = write_csv(tmp_path / "three.csv", ["label", "a", "b"], rows)
    assert load_dataset(str(path)).info.class_names == ("0", "1")  # the column called label
    named = load_dataset(str(path), DataOptions(label_column="b"))
    assert named.info.class_names == ("0", "1", "2") and named.info.input_shape == (2,)


def test_text_tables_stay_text_tables(tmp_path):
    texts = [(f"a fine film number {i}", i % 2) for i in range(40)]
    named = write_csv(tmp_path / "reviews.csv", ["text", "label"], texts)
    odd_name = write_csv(tmp_path / "odd.csv", ["review_body", "label"], texts)
    for path in (named, odd_name):
        assert load_dataset(str(path)).info.task == "text-classification"


BAD_FILES = {
    "empty": ("", r"empty\.csv is empty: a CSV dataset needs a header row"),
    "one-column": ("x\n1\n2\n", r"one-column\.csv has a single column \('x'\)"),
    "header-only": ("a,b,label\n", r"header-only\.csv has a header but no rows"),
    "not-a-number": (
        "a,b,label\n1,2,0\n3,4,1\n1,oops,1\n",
        r"not-a-number\.csv, row 4, column 'b': 'oops' is not a number",
    ),
    "empty-cell": ("a,b,label\n1,2,0\n,4,1\n", r"empty-cell\.csv, row 3, column 'a': the cell is empty"),
    "not-finite": ("a,b,label\n1,2,0\n1,nan,1\n", r"not-finite\.csv, row 3, column 'b': 'nan' is not a finite number"),
    "ragged": ("a,b,label\n1,2,0\n\n1,2\n", r"ragged\.csv, row 4: 2 cells, but the header has 3 columns"),
    "no-label": ("a,b,label\n1,2,0\n3,4,\n", r"no-label\.csv, row 3: the label \('label'\) is empty"),
    "one-class": (
        "a,b,label\n1,2,yes\n3,4,yes\n5,6,yes\n",
        r"one-class\.csv: the label column 'label' holds a single class",
    ),
}


@pytest.mark.parametrize("name", BAD_FILES)
def test_a_bad_file_is_refused_naming_the_file_the_row_and_the_column(tmp_path, name):
    content, message = BAD_FILES[name]
    path = tmp_path / f"{name}.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        load_dataset(str(path))


def test_a_label_column_that_is_not_there_lists_the_columns(points):
    with pytest.raises(DataError, match=r"no label column 'grade'; its columns are 'width', 'height', 'kind'"):
        load_dataset(str(points), DataOptions(label_column="grade"))


# -- training, evaluating, drawing, predicting -------------------------------------------


def test_an_mlp_learns_the_csv_and_is_judged_on_it_again(model):
    assert evaluate_checkpoint(model)["accuracy"] > 0.85  # chance is 0.5


def test_predictions_read_raw_numbers_in_the_files_units(model, points):
    raw, labels = csv_rows(points)
    ranked, _ = predict(model, [f"{a}, {b}" for a, b in raw[:200]], top_k=1)
    right = sum(r[0][0] == label for r, label in zip(ranked, labels[:200]))
    assert right / 200 > 0.85


def test_the_boundary_is_offered_and_drawn_in_the_files_units(model, points):
    loaded = load(model)
    assert "boundary" in available_views(loaded)
    view = draw_view(loaded, "boundary")
    drawn = np.asarray(view.data["points"])
    raw, labels = csv_rows(points)
    nearest = np.abs(drawn[:, None, :] - raw[None, :, :]).max(axis=2)
    assert nearest.min(axis=1).max() < 1e-3  # every point drawn is a row of the CSV, as written
    assert [labels[i] for i in nearest.argmin(axis=1)] == [view.data["class_names"][c] for c in view.data["labels"]]
    assert view.data["x"][0] < raw[:, 0].min() and view.data["x"][-1] > raw[:, 0].max()
    assert view.data["y"][0] < raw[:, 1].min() and view.data["y"][-1] > raw[:, 1].max()


def test_typed_rows_that_are_wrong_are_named_by_their_row(model):
    with pytest.raises(ArchzooError, match=r"row 3: expected 2 numbers, got 3 \('1, 2, 3'\)"):
        classify_rows(model, "1000, -20\n\n1, 2, 3")  # the line in the box, blank lines counted
    with pytest.raises(ArchzooError, match=r"row 2: 'abc' is not a number \('abc, 2'\)"):
        classify_rows(model, "1000, -20\nabc, 2")
    with pytest.raises(ArchzooError, match=r"row 1: 'inf' is not a finite number \('inf, 2'\)"):
        classify_rows(model, "inf, 2")
    with pytest.raises(ArchzooError, match=r"row 2: expected 2 numbers, got 1 \('7'\)"):
        predict(model, ["1000, -20", "7"])  # what 'archzoo predict RUN ROW ...' calls: rows by position
    assert len(classify_rows(model, "1000, -20\n\n1040; -19.5\n").top_k) == 2


def test_the_command_line_trains_on_a_csv_shows_its_boundary_and_names_a_bad_row(tmp_path):
    path = moons_csv(tmp_path / "cli.csv", n=400, label="species", names=("a", "b"))
    env = {**os.environ, "ARCHZOO_CHECKPOINTS": str(tmp_path / "store"), "OMP_NUM_THREADS": "1"}

    def archzoo(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "archzoo.cli", *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)

    trained = archzoo(
        "train", "mlp-moons", "--dataset", str(path), "--set", "label_column=species", "--set", "epochs=10",
        "--out", "cli-run", "--quiet",
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    shown = archzoo("show", "cli-run", "boundary", "--out", str(tmp_path / "views"), "--resolution", "40")
    assert shown.returncode == 0, shown.stderr
    data = json.loads((tmp_path / "views" / "boundary.json").read_text())
    raw, _ = csv_rows(path)
    drawn = np.asarray(data["points"])
    assert np.abs(drawn[:, None, :] - raw[None, :, :]).max(axis=2).min(axis=1).max() < 1e-3
    assert data["class_names"] == ["a", "b"]
    wrong = archzoo("predict", "cli-run", "1000,-20", "1,2,3")
    assert wrong.returncode != 0 and "row 2: expected 2 numbers, got 3 ('1,2,3')" in wrong.stderr
