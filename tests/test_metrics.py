"""The confusion matrix of a classifier checkpoint agrees with the evaluate hook's numbers."""

from __future__ import annotations

import pytest

from archzoo.api import evaluate_checkpoint
from archzoo.errors import ArchzooError
from archzoo.evaluation.metrics import ConfusionMatrix, confusion_matrix


@pytest.fixture(scope="module")
def digits_model(tmp_path_factory):
    from archzoo.api import train

    out = tmp_path_factory.mktemp("metrics") / "run"
    return train("mlp", dataset="digits", overrides={"epochs": 3}, out=str(out)).best_dir


def test_the_confusion_matrix_agrees_with_evaluate(digits_model):
    matrix = confusion_matrix(digits_model)
    metrics = evaluate_checkpoint(digits_model)
    assert matrix.class_names == [str(i) for i in range(10)]
    assert matrix.total == 359  # digits: 20% of 1,797 held out for test
    assert matrix.accuracy == pytest.approx(metrics["accuracy"], abs=1e-6)
    assert matrix.dataset == "digits" and matrix.split == "test"
    validation = confusion_matrix(digits_model, split="validation")
    assert validation.accuracy == pytest.approx(
        evaluate_checkpoint(digits_model, split="validation")["accuracy"], abs=1e-6
    )


def test_per_class_numbers_and_pictures():
    matrix = ConfusionMatrix(["cat", "dog", "bird"], [[8, 2, 0], [1, 9, 0], [0, 0, 0]], "pets", "test")
    rows = {r["class"]: r for r in matrix.per_class()}
    assert rows["cat"] == {"class": "cat", "support": 10, "precision": 8 / 9, "recall": 0.8}
    assert rows["bird"]["precision"] is None and rows["bird"]["recall"] is None
    assert matrix.accuracy == pytest.approx(17 / 20)
    assert matrix.most_confused(1) == [("cat", "dog", 2)]
    image = matrix.to_image()
    assert image.mode == "RGB" and image.size[0] > 3 * 40 and image.size[1] > 3 * 40
    lines = matrix.to_text().splitlines()
    assert lines[1].split() == ["cat", "8", "2", "0"]


def test_a_split_that_does_not_exist_is_named(digits_model):
    with pytest.raises(ArchzooError, match="unknown split 'holdout'"):
        confusion_matrix(digits_model, split="holdout")
    with pytest.raises(ArchzooError, match="inputs of shape"):
        confusion_matrix(digits_model, dataset="moons")


def test_only_classifiers_have_one(tmp_path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from test_inference import fake_host, write_fake_checkpoint

    host = fake_host(tmp_path)
    folder = write_fake_checkpoint(host, "fake-gen", tmp_path / "gen")
    with pytest.raises(
        ArchzooError, match="a confusion matrix needs a classifier; 'fake-gen' is a image-generation model"
    ):
        confusion_matrix(folder, host=host)
