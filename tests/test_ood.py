"""Out-of-distribution scores and shift curves: hand-computed cases, then a real
digits MLP against the real MNIST test set (resized to 8x8, and said so)."""

from __future__ import annotations

import math

import pytest
import torch

from archzoo.data import DataInfo
from archzoo.evaluation.ood import (
    OODDataError,
    auroc,
    energy_score,
    fpr_at_tpr,
    msp_score,
    prepare_ood_inputs,
)

# -- hand-computed -------------------------------------------------------------------------


def test_auroc_by_hand():
    # In 0.9, 0.8, 0.7, 0.6 against out 0.75, 0.5, 0.4: 0.9 and 0.8 beat all three (6 pairs),
    # 0.7 and 0.6 beat 0.5 and 0.4 (4 pairs): 10 of 12 pairs.
    assert auroc(torch.tensor([0.9, 0.8, 0.7, 0.6]), torch.tensor([0.75, 0.5, 0.4])) == pytest.approx(10 / 12)
    # Ties count half: in (1, 2) vs out (2, 0): 0 + 1 + 0.5 + 1 = 2.5 of 4.
    assert auroc(torch.tensor([1.0, 2.0]), torch.tensor([2.0, 0.0])) == pytest.approx(0.625)
    assert auroc(torch.tensor([3.0, 4.0]), torch.tensor([1.0, 2.0])) == 1.0
    assert auroc(torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0])) == 0.0
    assert auroc(torch.tensor([5.0, 5.0]), torch.tensor([5.0])) == 0.5


def test_fpr_at_95_tpr_by_hand():
    # Keeping 95% of 4 in-distribution scores means keeping all 4: threshold 0.6, and of the
    # out-of-distribution scores only 0.75 is at least 0.6: FPR 1/3.
    fpr, threshold = fpr_at_tpr(torch.tensor([0.9, 0.8, 0.7, 0.6]), torch.tensor([0.75, 0.5, 0.4]))
    assert threshold == pytest.approx(0.6) and fpr == pytest.approx(1 / 3)
    # 20 in-distribution scores 1..20: 95% is 19 of them, so the threshold is 2; out 1.5, 2.5, 10 -> 2 of 3 pass.
    fpr, threshold = fpr_at_tpr(torch.arange(1.0, 21.0), torch.tensor([1.5, 2.5, 10.0]))
    assert threshold == 2.0 and fpr == pytest.approx(2 / 3)


def test_msp_and_energy_by_hand():
    # logits (0, ln 3): softmax (1/4, 3/4), MSP 3/4; energy score log(e^0 + e^ln3) = ln 4.
    logits = torch.tensor([[0.0, math.log(3)], [2.0, 2.0]])
    assert msp_score(logits).tolist() == pytest.approx([0.75, 0.5])
    assert energy_score(logits).tolist() == pytest.approx([math.log(4), 2 + math.log(2)])
    # Adding a constant to every logit leaves MSP alone but moves energy: the logits' scale is information.
    assert msp_score(logits + 5).tolist() == pytest.approx([0.75, 0.5])
    assert energy_score(logits + 5).tolist() == pytest.approx([math.log(4) + 5, 7 + math.log(2)])


def test_other_images_are_converted_and_it_is_said():
    source = DataInfo("big", "image-classification", (3, 16, 16), 2, ("a", "b"), (0.5, 0.5, 0.5), (0.25, 0.25, 0.25))
    target = DataInfo("small", "image-classification", (1, 8, 8), 2, ("a", "b"), (0.2,), (0.4,))
    # Uniform grey 0.75 in pixels (normalised source value (0.75 - 0.5) / 0.25 = 1).
    images = torch.ones(5, 3, 16, 16)
    notes: list[str] = []
    out = prepare_ood_inputs(images, source, target, notes, "big")
    assert out.shape == (5, 1, 8, 8)
    assert torch.allclose(out, torch.full_like(out, (0.75 - 0.2) / 0.4), atol=1e-5)  # luminance of grey is grey
    assert notes == [
        "out-of-distribution set big: converted 3 channel(s) to the model's 1",
        "out-of-distribution set big: resized its images from 16x16 to the model's 8x8",
    ]
    rows = DataInfo("rows", "tabular-classification", (2,), 2, ("a", "b"))
    with pytest.raises(OODDataError, match=r"has inputs of shape \(3, 16, 16\), the model takes \(2,\)"):
        prepare_ood_inputs(images, source, rows, [], "big")


def test_rotation_and_noise_act_in_pixel_space():
    from archzoo.evaluation.shift import add_noise, rotate

    info = DataInfo("d", "image-classification", (1, 5, 5), 2, ("a", "b"), (0.5,), (0.5,))
    pixels = torch.zeros(1, 1, 5, 5)
    pixels[0, 0, 0, 2] = 1.0  # one bright pixel at the top centre
    normalised = (pixels - 0.5) / 0.5
    turned = rotate(normalised, 90, info) * 0.5 + 0.5  # counter-clockwise: top centre -> left centre
    assert turned[0, 0, 2, 0] == pytest.approx(1.0, abs=1e-5) and turned[0, 0, 0, 2] == pytest.approx(0.0, abs=1e-5)
    assert torch.equal(rotate(normalised, 0, info), normalised)
    noisy = add_noise(normalised, 0.3, info, torch.Generator().manual_seed(0)) * 0.5 + 0.5
    assert noisy.min() >= 0 and noisy.max() <= 1  # clipped to valid pixels
    again = add_noise(normalised, 0.3, info, torch.Generator().manual_seed(0))
    assert torch.equal(again * 0.5 + 0.5, noisy)  # reproducible from its seed


# -- a real model against real MNIST ----------------------------------------------------------


@pytest.fixture(scope="module")
def digits_model(tmp_path_factory):
    from archzoo.api import train

    out = tmp_path_factory.mktemp("ood") / "run"
    return train("mlp", dataset="digits", overrides={"epochs": 5}, out=str(out)).best_dir


def test_digits_against_mnist(digits_model, shared_data):
    from archzoo.evaluation.trust import assess

    assessment = assess(digits_model, ood="mnist", ood_data_dir=shared_data / "mnist-t10k", shift=True)
    ood = assessment.ood
    assert ood["dataset"] == "mnist" and ood["examples"] == 10_000 and ood["in_examples"] == 359
    assert "out-of-distribution set mnist: resized its images from 28x28 to the model's 8x8" in assessment.notes
    for score in ("msp", "energy"):
        result = ood["scores"][score]
        assert 0.6 < result["auroc"] <= 1.0  # 8x8 sklearn digits and downsized MNIST digits differ, but not wholly
        assert 0.0 <= result["fpr_at_95_tpr"] <= 1.0
        roc = result["roc"]
        assert roc["fpr"][0] == 0.0 and roc["tpr"][0] == 0.0 and roc["fpr"][-1] == 1.0 and roc["tpr"][-1] == 1.0
    rotation = assessment.shift["rotation"]
    assert rotation["strengths"] == [0, 15, 30, 45, 60, 75, 90]
    assert rotation["accuracy"][0] == pytest.approx(assessment.classes["accuracy"])  # 0 degrees: the plain test set
    assert rotation["accuracy"][-1] < rotation["accuracy"][0] - 0.3  # a digit on its side is mostly misread
    assert assessment.shift["noise"]["strengths"] == [0, 0.1, 0.2, 0.3, 0.4, 0.5]


def test_an_ood_set_that_is_not_an_image_set_is_named(digits_model):
    from archzoo.evaluation.trust import assess

    with pytest.raises(
        OODDataError, match=r"out-of-distribution set 'moons' has inputs of shape \(2,\), the model takes \(1, 8, 8\)"
    ):
        assess(digits_model, ood="moons", shift=False)
    with pytest.raises(OODDataError, match="must differ from the model's own dataset"):
        assess(digits_model, ood="digits", shift=False)
