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


def test_each_cell_knows_its_examples_and_draws_their_images(digits_model):
    """The examples behind a cell are the split's own: each one's label is the cell's true
    class and the model's answer is its predicted class; the pictures are those images."""
    import torch

    from archzoo.api import load
    from archzoo.evaluation.metrics import cell_pictures
    from archzoo.inference.data import evaluation_data
    from archzoo.inference.sampling import sample_checkpoint

    matrix = confusion_matrix(digits_model)
    assert sum(len(found) for found in matrix.examples.values()) == matrix.total
    assert all(
        len(matrix.examples.get((t, p), [])) == c for t, row in enumerate(matrix.counts) for p, c in enumerate(row)
    )
    loaded = load(digits_model)
    split, _ = evaluation_data(loaded)
    true, predicted, count = matrix.cells()[0]
    assert true != predicted and count == max(c for t, p, c in matrix.cells())
    for index in matrix.examples[(true, predicted)]:
        image, label = split[index]
        answer = sample_checkpoint(loaded, {"inputs": image[None]}).outputs["probabilities"].argmax(1).item()
        assert (int(label), answer) == (true, predicted)
    pictures = cell_pictures(digits_model, matrix, true, predicted, limit=4)
    assert len(pictures) == min(4, count)
    image, caption = pictures[0]
    first = matrix.examples[(true, predicted)][0]
    assert caption == f"#{first}: {true} → {predicted}" and image.size == (24, 24)  # 8x8 digits, drawn 3x
    ink = torch.tensor(list(image.resize((8, 8)).get_flattened_data()), dtype=torch.float32).view(8, 8)
    original = split[first][0][0]
    assert torch.corrcoef(torch.stack([ink.flatten(), original.flatten()]))[0, 1] > 0.99
    with pytest.raises(ArchzooError, match="images per cell"):
        cell_pictures(digits_model, matrix, true, predicted, limit=10_000)


def test_a_click_on_the_picture_finds_its_cell():
    matrix = ConfusionMatrix(["cat", "dog", "bird"], [[8, 2, 0], [0, 10, 0], [0, 0, 0]], "pets", "test")
    image = matrix.to_image(cell=40)
    pixels = image.load()
    # The one mistake (cats taken for dogs) is the only red cell: find it by its colour.
    reds = [
        (x, y) for x in range(image.size[0]) for y in range(image.size[1]) if pixels[x, y][0] > 200 > pixels[x, y][2]
    ]
    x, y = reds[len(reds) // 2]
    assert matrix.cell_at(x, y) == (0, 1)
    assert matrix.cell_at(2, 2) is None and matrix.cell_at(image.size[0] - 1, image.size[1] - 1) is None
    assert matrix.cells() == [(0, 1, 2)]
