"""The confusion matrix of a classifier checkpoint agrees with the evaluate hook's numbers;
per-class precision, recall, F1, their averages, ROC curves and AUROC are scikit-learn's, on
made-up predictions (a class never predicted, a class missing from the split, two classes)
and on a real MLP's probabilities."""

from __future__ import annotations

import json
from pathlib import Path

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
    assert rows["cat"] == {
        "class": "cat",
        "support": 10,
        "predicted": 9,
        "precision": pytest.approx(8 / 9),
        "recall": pytest.approx(0.8),
        "f1": pytest.approx(16 / 19),
        "note": "",
    }
    assert rows["bird"]["precision"] is None and rows["bird"]["recall"] is None and rows["bird"]["f1"] is None
    assert rows["bird"]["note"] == "not in the split and never predicted: nothing to measure"
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


def test_the_clicks_on_cells_after_the_first_read_the_split_once(digits_model):
    """The split behind a matrix is read on the first click and kept for the next ones; new
    weights in the checkpoint's folder read it again."""
    import os

    from archzoo.evaluation import metrics
    from archzoo.evaluation.metrics import cell_pictures

    matrix = confusion_matrix(digits_model)
    true, predicted, _ = matrix.cells()[0]
    metrics._SPLITS.clear()
    first = cell_pictures(digits_model, matrix, true, predicted, limit=2)
    (kept,) = metrics._SPLITS.values()
    again = cell_pictures(digits_model, matrix, *matrix.cells()[1][:2], limit=2)
    assert list(metrics._SPLITS.values()) == [kept] and first and again  # the same split, not read again
    weights = Path(digits_model) / "model.safetensors"
    os.utime(weights, ns=(weights.stat().st_atime_ns, weights.stat().st_mtime_ns + 1_000_000))
    cell_pictures(digits_model, matrix, true, predicted, limit=2)
    assert len(metrics._SPLITS) == 2  # new weights: read again, beside the old


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


# -- scikit-learn's numbers -------------------------------------------------------------------


def _probabilities(location, **where):
    """The checkpoint's class probabilities and the true classes of a split, from its ``sample``
    hook batch by batch (not through the evaluation code under test)."""
    import torch

    from archzoo.api import load
    from archzoo.inference.data import evaluation_loader
    from archzoo.inference.sampling import sample_checkpoint

    loaded = load(location)
    found, labels = [], []
    for inputs, y in evaluation_loader(loaded, **where):
        found.append(sample_checkpoint(loaded, {"inputs": inputs}).outputs["probabilities"].double().cpu())
        labels.append(y.long())
    return torch.cat(found).numpy(), torch.cat(labels).numpy()


def test_a_class_that_is_never_predicted_counts_in_the_macro_average():
    """The issue's case: the model never answers 'bird'. scikit-learn counts bird with F1 0;
    averaging only the classes with a defined precision (as before) reads higher."""
    import torch
    from sklearn.metrics import f1_score, precision_recall_fscore_support, precision_score, recall_score

    from archzoo.evaluation.accuracy import class_report, confusion_from

    true = [0] * 10 + [1] * 10 + [2] * 6
    predicted = [0] * 8 + [1] * 2 + [1] * 9 + [0] + [0] * 3 + [1] * 3  # never 2
    matrix = confusion_from(torch.tensor(predicted), torch.tensor(true), ["cat", "dog", "bird"])
    report = class_report(matrix)
    expected = f1_score(true, predicted, average="macro", labels=[0, 1, 2], zero_division=0)
    assert report["macro_f1"] == pytest.approx(expected)
    assert report["macro_precision"] == pytest.approx(
        precision_score(true, predicted, average="macro", zero_division=0)
    )
    assert report["macro_recall"] == pytest.approx(recall_score(true, predicted, average="macro", zero_division=0))
    assert report["weighted_f1"] == pytest.approx(f1_score(true, predicted, average="weighted", zero_division=0))
    defined = [r["f1"] for r in report["per_class"] if r["predicted"]]  # the old average left bird out
    assert len(defined) == 2 and sum(defined) / 2 == pytest.approx(0.7386, abs=1e-4)  # docs/evaluation.md's numbers
    assert report["macro_f1"] == pytest.approx(0.4924, abs=1e-4)
    precision, recall, f1, support = precision_recall_fscore_support(true, predicted, labels=[0, 1, 2], zero_division=0)
    for row, p, r, f, n in zip(report["per_class"], precision, recall, f1, support):
        assert (row["precision"], row["recall"], row["f1"], row["support"]) == pytest.approx((p, r, f, n))
    bird = report["per_class"][2]
    assert bird["predicted"] == 0 and bird["precision"] == 0.0 and bird["f1"] == 0.0 and bird["recall"] == 0.0
    assert bird["note"] == "never predicted: precision undefined, counted as 0"
    assert report["averaged_over"] == ["cat", "dog", "bird"] and report["zero_division"] == 0.0
    assert report["roc"] is None and report["macro_auroc"] is None  # no probabilities given


def test_per_class_numbers_of_a_real_model_are_scikit_learns(digits_model):
    from sklearn.metrics import classification_report

    probabilities, labels = _probabilities(digits_model)
    predicted = probabilities.argmax(1)
    expected = classification_report(labels, predicted, output_dict=True, zero_division=0)
    matrix = confusion_matrix(digits_model)
    for row in matrix.per_class():
        theirs = expected[row["class"]]
        assert row["support"] == theirs["support"]
        assert (row["precision"], row["recall"], row["f1"]) == pytest.approx(
            (theirs["precision"], theirs["recall"], theirs["f1-score"])
        )
    scores = matrix.scores()
    assert scores["macro_f1"] == pytest.approx(expected["macro avg"]["f1-score"])
    assert scores["weighted_f1"] == pytest.approx(expected["weighted avg"]["f1-score"])


def test_auroc_of_a_real_model_is_roc_auc_score_and_the_report_draws_the_curves(digits_model, tmp_path):
    from sklearn.metrics import roc_auc_score, roc_curve

    from archzoo.evaluation.report import render_figures, render_html
    from archzoo.evaluation.trust import assess

    probabilities, labels = _probabilities(digits_model)
    assessment = assess(digits_model, ood=False, shift=False)
    classes = assessment.classes
    assert classes["macro_auroc"] == pytest.approx(roc_auc_score(labels, probabilities, multi_class="ovr"), abs=1e-6)
    assert 0.9 < classes["macro_auroc"] < 1.0  # a trained model, not a perfect one: the curves say something
    roc = classes["roc"]
    assert roc["method"] == "one-vs-rest" and roc["undefined"] == {} and len(roc["curves"]) == 10
    for row in classes["per_class"]:
        c = int(row["class"])
        assert row["auroc"] == pytest.approx(roc_auc_score(labels == c, probabilities[:, c]), abs=1e-6)
    fpr, tpr, _ = roc_curve(labels == 3, probabilities[:, 3])
    assert len(roc["curves"]["3"]["fpr"]) == pytest.approx(len(fpr), abs=2)  # float32 logits may merge a tie
    assert assessment.summary()["macro_auroc"] == classes["macro_auroc"]

    figures = render_figures(assessment, tmp_path)
    assert figures["roc"] == {"png": "roc.png", "json": "roc.json"}
    from PIL import Image

    with Image.open(tmp_path / "roc.png") as image:
        assert image.size[0] > 400 and image.size[1] > 400
    saved = json.loads((tmp_path / "roc.json").read_text())
    assert saved["figure"] == "roc" and saved["macro_auroc"] == classes["macro_auroc"]
    page = render_html(assessment, figures)
    assert 'src="roc.png"' in page and "<th>AUROC</th>" in page
    assert (
        f"macro AUROC (one-vs-rest, the mean over the classes with a curve): <strong>{roc['macro_auroc']:.4f}" in page
    )


def test_a_split_missing_a_class_says_so(digits_model):
    """The real model's test split without its nines: no curve for 9, the macro AUROC is over the
    other nine classes, and precision, recall and F1 still match scikit-learn's."""
    import torch
    from sklearn.metrics import f1_score, roc_auc_score

    from archzoo.evaluation.accuracy import class_report, confusion_from

    probabilities, labels = _probabilities(digits_model)
    keep = labels != 9
    probabilities, labels = probabilities[keep], labels[keep]
    predicted = probabilities.argmax(1)
    names = [str(i) for i in range(10)]
    matrix = confusion_from(torch.tensor(predicted), torch.tensor(labels), names)
    report = class_report(matrix, labels=torch.tensor(labels), probabilities=torch.tensor(probabilities))
    roc = report["roc"]
    assert roc["per_class"]["9"] is None and "9" not in roc["curves"]
    assert roc["undefined"] == {"9": "not in the split: no positives, so no ROC curve (AUROC undefined)"}
    expected = sum(roc_auc_score(labels == c, probabilities[:, c]) for c in range(9)) / 9
    assert report["macro_auroc"] == pytest.approx(expected)
    nine = report["per_class"][9]
    assert nine["support"] == 0 and nine["auroc"] is None
    # scikit-learn's own label set (the classes in the split or the predictions) and average:
    assert report["macro_f1"] == pytest.approx(f1_score(labels, predicted, average="macro", zero_division=0))
    if nine["predicted"]:
        assert nine["note"] == "not in the split: recall undefined, counted as 0" and nine["precision"] == 0.0
    else:
        assert nine["f1"] is None and report["averaged_over"] == names[:9]
    # a split of one class only: no class has a curve, and nothing crashes
    only = labels == 0
    single = class_report(
        confusion_from(torch.tensor(predicted[only]), torch.tensor(labels[only]), names),
        labels=torch.tensor(labels[only]),
        probabilities=torch.tensor(probabilities[only]),
    )
    assert single["macro_auroc"] is None and single["roc"]["curves"] == {}
    assert (
        single["roc"]["undefined"]["0"]
        == "the only class in the split: no negatives, so no ROC curve (AUROC undefined)"
    )


def test_a_binary_classifier_has_the_usual_single_roc():
    import numpy as np
    from sklearn.metrics import roc_auc_score, roc_curve

    from archzoo.evaluation.metrics import roc_scores

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 200)
    positive = np.clip(0.5 + 0.3 * (labels - 0.5) + rng.normal(0, 0.25, 200), 0, 1)
    probabilities = np.stack([1 - positive, positive], axis=1)
    roc = roc_scores(labels, probabilities, ["no", "yes"])
    assert roc["method"] == "binary" and roc["positive_class"] == "yes" and list(roc["curves"]) == ["yes"]
    assert roc["macro_auroc"] == pytest.approx(roc_auc_score(labels, positive))
    assert roc["per_class"] == {"no": roc["macro_auroc"], "yes": roc["macro_auroc"]}
    fpr, tpr, _ = roc_curve(labels, positive)
    assert roc["curves"]["yes"] == {"fpr": pytest.approx(fpr.tolist()), "tpr": pytest.approx(tpr.tolist())}
    assert 0.7 < roc["macro_auroc"] < 1.0


def test_scores_of_the_wrong_shape_are_named():
    import numpy as np

    from archzoo.evaluation.metrics import class_scores, roc_scores

    with pytest.raises(ArchzooError, match="ROC needs one probability per class for each example: 4 x 3, not 4 x 2"):
        roc_scores([0, 1, 2, 0], np.full((4, 2), 0.5), ["a", "b", "c"])
    with pytest.raises(ArchzooError, match=r"class index 3 is outside the 3 classes \(a, b, c\)"):
        class_scores([0, 1, 3], [0, 1, 2], ["a", "b", "c"])
    with pytest.raises(ArchzooError, match="3 true classes but 2 predictions"):
        class_scores([0, 1, 2], [0, 1], ["a", "b", "c"])
    with pytest.raises(ArchzooError, match="one class index per example"):
        class_scores([0.5, 1.0], [0, 1], ["a", "b"])


def test_long_curves_are_thinned_for_the_figures_but_the_auroc_uses_every_score():
    import numpy as np
    from sklearn.metrics import roc_auc_score, roc_curve

    from archzoo.evaluation.metrics import CURVE_POINTS, roc_scores

    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, 10_000)
    logits = rng.normal(0, 1, (10_000, 3)) + 1.5 * np.eye(3)[labels]
    probabilities = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    roc = roc_scores(labels, probabilities, ["a", "b", "c"])
    full_fpr, full_tpr, _ = roc_curve(labels == 0, probabilities[:, 0])
    assert len(full_fpr) > 4 * CURVE_POINTS  # scikit-learn's own curve is long here
    curve = roc["curves"]["a"]
    assert len(curve["fpr"]) == CURVE_POINTS and (curve["fpr"][0], curve["tpr"][0]) == (0.0, 0.0)
    assert (curve["fpr"][-1], curve["tpr"][-1]) == (1.0, 1.0)
    assert all(np.diff(curve["fpr"]) >= 0) and all(np.diff(curve["tpr"]) >= 0)
    assert set(zip(curve["fpr"], curve["tpr"])) <= set(zip(full_fpr.tolist(), full_tpr.tolist()))
    assert roc["macro_auroc"] == pytest.approx(roc_auc_score(labels, probabilities, multi_class="ovr"))
