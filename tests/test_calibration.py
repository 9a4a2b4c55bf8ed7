"""Calibration and accuracy intervals: hand-computed cases first, then a real
checkpoint (a small MLP trained on scikit-learn's digits) whose temperature is
fitted, stored without touching its weights, and used by ``predict``."""

from __future__ import annotations

import json
import math

import pytest
import torch

from archzoo.evaluation.accuracy import class_report, f1, wilson_interval
from archzoo.evaluation.calibration import (
    CalibrationError,
    bin_index,
    expected_calibration_error,
    fit_temperature,
    negative_log_likelihood,
    reliability,
)
from archzoo.evaluation.metrics import ConfusionMatrix


def two_class(confidences: list[float], correct: list[bool]) -> tuple[torch.Tensor, torch.Tensor]:
    """Probabilities (c, 1 - c) with label 0 where correct, 1 where not."""
    probs = torch.tensor([[c, 1 - c] for c in confidences], dtype=torch.float64)
    labels = torch.tensor([0 if ok else 1 for ok in correct])
    return probs, labels


# -- hand-computed -------------------------------------------------------------------------


def test_bins_are_right_closed_tenths():
    # (0, 0.1] is bin 0, (0.2, 0.3] bin 2, 1.0 the top bin.
    values = torch.tensor([0.1, 0.25, 0.3, 0.55, 0.95, 1.0], dtype=torch.float64)
    assert bin_index(values).tolist() == [0, 2, 2, 5, 9, 9]


def test_ece_by_hand():
    # Four predictions: 0.95 right (bin 9), 0.85 wrong and 0.85 right (bin 8), 0.65 right (bin 6).
    #   bin 9: 1/4 * |1.0 - 0.95| = 0.0125
    #   bin 8: 2/4 * |0.5 - 0.85| = 0.175
    #   bin 6: 1/4 * |1.0 - 0.65| = 0.0875      ECE = 0.275
    probs, labels = two_class([0.95, 0.85, 0.85, 0.65], [True, False, True, True])
    assert expected_calibration_error(probs, labels) == pytest.approx(0.275, abs=1e-12)
    diagram = reliability(probs, labels)
    counts = [b.count for b in diagram.bins]
    assert counts == [0, 0, 0, 0, 0, 0, 1, 0, 2, 1]
    assert diagram.bins[8].accuracy == 0.5 and diagram.bins[8].confidence == pytest.approx(0.85)
    assert diagram.bins[0].accuracy is None and diagram.examples == 4
    # A perfectly calibrated set: 0.75 confidence, right 3 times in 4.
    probs, labels = two_class([0.75] * 4, [True, True, True, False])
    assert expected_calibration_error(probs, labels) == pytest.approx(0.0, abs=1e-12)


def test_nll_by_hand():
    # logits (1, 0): p(class 0) = sigmoid(1).  Labels 0, 0, 0, 1:
    # NLL = 3/4 * log(1 + e^-1) + 1/4 * log(1 + e) = 0.5632616...
    logits = torch.tensor([[1.0, 0.0]] * 4)
    labels = torch.tensor([0, 0, 0, 1])
    expected = 0.75 * math.log(1 + math.exp(-1)) + 0.25 * math.log(1 + math.e)
    assert negative_log_likelihood(logits, labels) == pytest.approx(expected, abs=1e-12)
    assert negative_log_likelihood(logits, labels, temperature=2.0) == pytest.approx(
        0.75 * math.log(1 + math.exp(-0.5)) + 0.25 * math.log(1 + math.exp(0.5)), abs=1e-12
    )


def test_temperature_fit_by_hand_two_classes():
    # Right 3 times in 4 with logit margin 1: the NLL is least where sigmoid(1 / T) = 3/4,
    # i.e. 1 / T = ln 3, T = 1 / ln 3 = 0.9102392...; NLL there = the entropy of (3/4, 1/4).
    logits = torch.tensor([[1.0, 0.0]] * 4)
    labels = torch.tensor([0, 0, 0, 1])
    fit = fit_temperature(logits, labels, min_examples=4)
    assert fit.temperature == pytest.approx(1 / math.log(3), rel=1e-6)
    assert fit.nll_after == pytest.approx(-(0.75 * math.log(0.75) + 0.25 * math.log(0.25)), abs=1e-9)
    assert fit.nll_after < fit.nll_before and fit.examples == 4 and fit.errors == 1
    # Margin 2, same hit rate: T doubles.
    assert fit_temperature(logits * 2, labels, min_examples=4).temperature == pytest.approx(2 / math.log(3), rel=1e-6)


def test_temperature_fit_by_hand_three_classes():
    # logits (2, 0, 0), right 4 times in 5: softmax(2/T)[0] = e^(2/T) / (e^(2/T) + 2) = 4/5
    # -> e^(2/T) = 8 -> T = 2 / ln 8 = 0.9617966...
    logits = torch.tensor([[2.0, 0.0, 0.0]] * 5)
    labels = torch.tensor([0, 0, 0, 0, 2])
    assert fit_temperature(logits, labels, min_examples=5).temperature == pytest.approx(2 / math.log(8), rel=1e-6)


def test_an_overconfident_model_is_cooled_and_keeps_its_predictions():
    # Margins of 4 (99.97% sure with 10 classes... and right only 70% of the time): T must exceed 1.
    generator = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 10, (400,), generator=generator)
    predicted = torch.where(torch.rand(400, generator=generator) < 0.7, labels, (labels + 1) % 10)
    logits = torch.nn.functional.one_hot(predicted, 10).float() * 8.0
    fit = fit_temperature(logits, labels)
    assert fit.temperature > 1.5
    assert fit.ece_after < fit.ece_before and fit.nll_after < fit.nll_before
    assert torch.equal((logits / fit.temperature).argmax(1), logits.argmax(1))


def test_a_temperature_needs_enough_examples_and_some_mistakes():
    logits = torch.tensor([[1.0, 0.0]] * 40)
    labels = torch.tensor([0] * 30 + [1] * 10)
    with pytest.raises(CalibrationError, match="has 40 examples; fitting a temperature needs at least 100"):
        fit_temperature(logits, labels)
    with pytest.raises(CalibrationError, match="makes no mistake on the 120 validation examples"):
        fit_temperature(torch.tensor([[1.0, 0.0]] * 120), torch.zeros(120, dtype=torch.long))


def test_wilson_interval_by_hand():
    # 8 of 10, z = 1.96: centre (0.8 + z^2/20) / (1 + z^2/10) = 0.716735,
    # half-width z / (1 + z^2/10) * sqrt(0.016 + z^2/400) = 0.226579 -> (0.490156, 0.943314).
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.490156, abs=1e-5) and high == pytest.approx(0.943314, abs=1e-5)
    # All right still leaves room below 1: 10/10 -> (1 / (1 + z^2/10), 1) = (0.722467, 1).
    low, high = wilson_interval(10, 10)
    assert low == pytest.approx(0.722467, abs=1e-5) and high == pytest.approx(1.0)


def test_per_class_f1_by_hand():
    matrix = ConfusionMatrix(["cat", "dog", "bird"], [[8, 2, 0], [1, 9, 0], [0, 0, 0]], "pets", "test")
    report = class_report(matrix)
    rows = {r["class"]: r for r in report["per_class"]}
    # cat: precision 8/9, recall 8/10 -> F1 = 2PR/(P+R) = 16/19; dog: precision 9/11, recall 9/10 -> 6/7.
    assert rows["cat"]["f1"] == pytest.approx(16 / 19)
    assert rows["dog"]["f1"] == pytest.approx(6 / 7)
    assert rows["bird"]["f1"] is None
    assert report["macro_f1"] == pytest.approx((16 / 19 + 6 / 7) / 2)
    assert report["accuracy"] == pytest.approx(17 / 20)
    assert report["accuracy_ci95"] == pytest.approx(list(wilson_interval(17, 20)))
    assert f1(0.0, 0.0) == 0.0


# -- a real checkpoint ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits_model(tmp_path_factory):
    from archzoo.api import train

    out = tmp_path_factory.mktemp("calibration") / "run"
    return train("mlp", dataset="digits", overrides={"epochs": 4}, out=str(out)).best_dir


def test_the_fitted_temperature_is_stored_without_touching_the_weights(digits_model, tmp_path):
    import shutil

    from archzoo.checkpoints.io import load
    from archzoo.evaluation.trust import calibrate_checkpoint
    from archzoo.files import sha256_file

    folder = tmp_path / "ckpt"
    shutil.copytree(digits_model, folder)
    before = json.loads((folder / "config.json").read_text())
    weights = (folder / "model.safetensors").read_bytes()
    entry = calibrate_checkpoint(folder)
    after = json.loads((folder / "config.json").read_text())
    assert (folder / "model.safetensors").read_bytes() == weights
    assert after["weights_sha256"] == before["weights_sha256"] == sha256_file(folder / "model.safetensors")
    assert after["calibration"]["temperature"] == entry["temperature"] > 0
    assert after["calibration"]["validation_examples"] == 144  # digits: 10% of the 1,438 non-test examples
    assert after["calibration"]["validation_nll_after"] <= after["calibration"]["validation_nll_before"]
    assert {k: v for k, v in after.items() if k != "calibration"} == before
    assert "Fitted temperature" in (folder / "README.md").read_text()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left behind
    load(folder)  # the hash check passes


def test_predict_uses_the_stored_temperature(digits_model, tmp_path):
    import shutil

    import numpy as np
    from PIL import Image

    from archzoo.api import predict
    from archzoo.checkpoints.io import load
    from archzoo.errors import ArchzooError
    from archzoo.evaluation.trust import calibrate_checkpoint
    from archzoo.inference.inputs import prepare_image

    folder = tmp_path / "ckpt"
    shutil.copytree(digits_model, folder)
    from sklearn.datasets import load_digits

    path = tmp_path / "digit.png"
    Image.fromarray((load_digits().images[3] * 255 / 16).astype(np.uint8), mode="L").save(path)
    with pytest.raises(ArchzooError, match="has no fitted temperature: run 'archzoo report"):
        predict(folder, [str(path)], calibrated=True)
    temperature = calibrate_checkpoint(folder)["temperature"]
    plain, _ = predict(folder, [str(path)], top_k=10)
    calibrated, _ = predict(folder, [str(path)], top_k=10, calibrated=True)
    loaded = load(folder)
    with torch.no_grad():
        logits = loaded.model(prepare_image(str(path), loaded.info, []).unsqueeze(0))[0]
    expected = torch.softmax(logits / temperature, dim=0)
    assert [label for label, _ in calibrated[0]] == [label for label, _ in plain[0]]  # same ranking
    for label, p in calibrated[0]:
        assert p == pytest.approx(float(expected[int(label)]), abs=1e-5)
    assert calibrated[0][0][1] != pytest.approx(plain[0][0][1], abs=1e-3)
    from archzoo.inference.classify import classify_image

    shown = classify_image(folder, str(path), top_k=10, match_polarity=False, calibrated=True)
    assert [label for label, _ in shown.top_k[0]] == [label for label, _ in calibrated[0]]
    assert [p for _, p in shown.top_k[0]] == pytest.approx(
        [p for _, p in calibrated[0]], abs=1e-6
    )  # the app's upload path agrees
    with pytest.raises(ArchzooError, match="temperature must be above 0"):
        predict(folder, [str(path)], temperature=0)


def test_a_validation_split_too_small_is_a_clear_error(tmp_path, digits_model):
    from archzoo.api import train
    from archzoo.evaluation.trust import calibrate_checkpoint

    small = train(
        "mlp", dataset="digits", overrides={"epochs": 1, "val_fraction": 0.03}, out=str(tmp_path / "small")
    ).best_dir
    config = (small / "config.json").read_bytes()
    with pytest.raises(
        CalibrationError, match=r"validation split has 43 examples; fitting a temperature needs at least 100"
    ):
        calibrate_checkpoint(small)
    assert (small / "config.json").read_bytes() == config  # nothing written


def test_an_accuracy_no_better_than_guessing_gets_a_word_and_a_real_one_none():
    from archzoo.evaluation.accuracy import chance_note

    said = chance_note(0.507, 2)
    assert said.startswith("An accuracy of 0.507 is about chance for 2 classes (0.500 by guessing)")
    assert chance_note(0.76, 2) == "" and chance_note(0.14, 10) != "" and chance_note(0.9, 10) == ""
    assert chance_note(None, 2) == "" and chance_note(0.5, 1) == ""


def test_the_train_forms_float_arrows_step_by_a_tenth_of_the_value_not_by_one():
    from archzoo.ui.train_tab import float_step

    assert float_step(0.001) == pytest.approx(0.0001) and float_step(0.9) == pytest.approx(0.01)
    assert float_step(0.0) == 0.01 and float_step("x") == 0.01 and float_step(3.0) == pytest.approx(0.1)
