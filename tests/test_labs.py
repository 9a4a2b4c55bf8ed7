"""Translation and the FGSM attack in the trust report, on a real MLP trained on
scikit-learn's digits: the translation by whole pixels on a hand-made image, the
curves against the plain accuracy, the attack's step size, range and effect,
the report's sections and figures, and the command line's options and bad values."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image

from archzoo.cli import main
from archzoo.data.types import DataInfo
from archzoo.errors import ConfigError

#: A 28x28 grey image set normalised like Fashion-MNIST (pixels (x - 0.286) / 0.353).
FASHION_LIKE = DataInfo("f", "image-classification", (1, 28, 28), 10, tuple("abcdefghij"), (0.286,), (0.353,))


@pytest.fixture(scope="module")
def digits_model(module_store):
    from archzoo.api import train

    return train("mlp", dataset="digits", overrides={"epochs": 5}, out=str(module_store / "mlp")).best_dir


@pytest.fixture(scope="module")
def assessed(digits_model):
    from archzoo.evaluation.trust import assess

    return assess(digits_model, ood=False)


def normalised(pixels: torch.Tensor, info: DataInfo = FASHION_LIKE) -> torch.Tensor:
    return (pixels - info.mean[0]) / info.std[0]


def as_pixels(images: torch.Tensor, info: DataInfo = FASHION_LIKE) -> torch.Tensor:
    return images * info.std[0] + info.mean[0]


# -- translation --------------------------------------------------------------------------


def test_translating_a_centred_digit_moves_its_pixels_and_brings_in_background():
    from archzoo.evaluation.shift import translate

    pixels = torch.zeros(1, 1, 28, 28)
    pixels[0, 0, 10:18, 12:16] = 1.0  # a centred stroke: rows 10-17, columns 12-15
    image = normalised(pixels)

    moved = as_pixels(translate(image, 2, 3, FASHION_LIKE))  # 2 down, 3 right
    expected = torch.zeros(1, 1, 28, 28)
    expected[0, 0, 12:20, 15:19] = 1.0
    assert torch.allclose(moved, expected, atol=1e-5)

    back = as_pixels(translate(image, -4, -5, FASHION_LIKE))  # 4 up, 5 left
    expected = torch.zeros(1, 1, 28, 28)
    expected[0, 0, 6:14, 7:11] = 1.0
    assert torch.allclose(back, expected, atol=1e-5)

    # What comes in is background (black here), not the pixels rolled round from the other side.
    edge = torch.zeros(1, 1, 28, 28)
    edge[0, 0, :, 26:] = 1.0
    rolled = as_pixels(translate(normalised(edge), 0, 3, FASHION_LIKE))
    assert rolled.abs().max() < 1e-5
    assert torch.equal(translate(image, 0, 0, FASHION_LIKE), image)


def test_translation_limits_are_checked():
    from archzoo.evaluation.shift import check_max_shift, default_max_shift

    assert default_max_shift(FASHION_LIKE) == 6
    assert default_max_shift(DataInfo("d", "image-classification", (1, 8, 8), 10, (), (0.3,), (0.4,))) == 2
    for bad in (0, -1, 28, 2.5, True):
        with pytest.raises(ConfigError, match=r"'max_shift': a whole number of pixels from 1 to 27"):
            check_max_shift(bad, FASHION_LIKE)


def test_translation_by_zero_is_the_plain_accuracy_and_further_shifts_cost_an_mlp(assessed):
    curve = assessed.shift["translation"]
    assert curve["strengths"] == [0, 1, 2] and curve["unit"] == "pixels"  # 8x8 digits: up to a fifth of 8, rounded
    assert curve["examples"] == assessed.classes["examples"] == 359
    assert curve["accuracy"][0] == pytest.approx(assessed.classes["accuracy"], abs=1e-6)
    # An MLP on 8x8 digits: one pixel is an eighth of the image, and each pixel position is its own input.
    assert curve["accuracy"][2] < curve["accuracy"][1] < curve["accuracy"][0] - 0.1
    assert assessed.summary()["translation"] == {"strengths": curve["strengths"], "accuracy": curve["accuracy"]}


# -- FGSM ---------------------------------------------------------------------------------


def test_fgsm_steps_by_epsilon_in_pixel_space_within_valid_pixels_and_raises_the_loss(digits_model):
    from torch.utils.data import DataLoader

    from archzoo.checkpoints.io import load
    from archzoo.evaluation.adversarial import gradient_signs, perturb
    from archzoo.inference.data import evaluation_data

    loaded = load(digits_model)
    chosen, splits = evaluation_data(loaded, split="test")
    inputs, labels = next(iter(DataLoader(chosen, batch_size=128, collate_fn=splits.collate)))
    pixels, signs = gradient_signs(loaded.model, inputs, labels, loaded.info)
    assert pixels.min() >= 0 and pixels.max() <= 1 + 1e-6  # digits are 0..16 / 16: valid pixels
    for epsilon in (0.05, 0.3):
        attacked = perturb(pixels, signs, epsilon)
        change = attacked - pixels
        assert change.abs().max() <= epsilon + 1e-6 and attacked.min() >= 0 and attacked.max() <= 1
        free = (signs != 0) & ((pixels + epsilon * signs) >= 0) & ((pixels + epsilon * signs) <= 1)
        assert free.float().mean() > 0.3  # most pixels move by the whole step ...
        assert torch.allclose(change[free].abs(), torch.full_like(change[free], epsilon), atol=1e-6)
        # ... of epsilon in pixel units: in the model's normalised units that is epsilon / std.
        std = loaded.info.std[0]
        shifted = (attacked - loaded.info.mean[0]) / std - inputs
        assert torch.allclose(shifted[free].abs(), torch.full_like(shifted[free], epsilon / std), atol=1e-4)
    loss = torch.nn.functional.cross_entropy
    with torch.no_grad():
        before = loss(loaded.model(inputs), labels)
        after = loss(loaded.model((perturb(pixels, signs, 0.1) - loaded.info.mean[0]) / loaded.info.std[0]), labels)
    assert after > before + 0.2


def test_fgsm_at_zero_is_the_clean_accuracy_and_larger_steps_lower_it(assessed):
    curve = assessed.adversarial["fgsm"]
    assert curve["strengths"] == [0, 0.05, 0.1, 0.2, 0.3] and curve["examples"] == 359
    assert curve["accuracy"][0] == pytest.approx(assessed.classes["accuracy"], abs=1e-6)
    accuracy = curve["accuracy"]
    assert all(a >= b for a, b in zip(accuracy, accuracy[1:])) and accuracy[2] < accuracy[0] - 0.1
    assert accuracy[-1] < 0.3  # a step of 0.3 fools this MLP on most digits
    shown = assessed.adversarial["shown"]
    assert len(shown) == 4
    for example in shown:
        assert example["clean_prediction"] == example["label"]  # chosen among the images read right
        assert example["epsilon"] in curve["strengths"][1:]
        original, adversarial = torch.tensor(example["original"]), torch.tensor(example["adversarial"])
        assert original.shape == adversarial.shape == (1, 8, 8)
        assert (adversarial - original).abs().max() <= example["epsilon"] + 2e-3  # pixels kept to three decimals
        assert example["fooled"] == (example["adversarial_prediction"] != example["label"])
    assert assessed.summary()["fgsm"]["accuracy"] == accuracy


def test_bad_epsilons_are_refused_before_any_work(digits_model):
    from archzoo.evaluation.adversarial import check_epsilons
    from archzoo.evaluation.trust import assess

    assert check_epsilons([0.3, 0, 0.1, 0.1]) == (0.0, 0.1, 0.3)
    for bad in ([-0.1], [1.5], [], ["x"], [float("nan")]):
        with pytest.raises(ConfigError, match="'epsilons': one or more step sizes from 0 to 1 in pixel units"):
            check_epsilons(bad)
    with pytest.raises(ConfigError, match="'epsilons'"):
        assess(digits_model, ood=False, epsilons=(-0.05,))


def test_rows_of_numbers_get_neither_translation_nor_fgsm_and_are_told_why(module_store):
    from archzoo.api import train
    from archzoo.evaluation.trust import assess

    best = train("mlp", dataset="moons", overrides={"epochs": 2}, out=str(module_store / "moons")).best_dir
    assessment = assess(best, ood=False, max_shift=3)
    assert list(assessment.shift) == ["noise"] and assessment.adversarial is None
    assert "FGSM: not measured, the attack applies to image classifiers (steps in pixel units)" in assessment.notes
    assert "shift: rotation and translation apply to images; rows of numbers get the noise curve only" in (
        assessment.notes
    )
    assert assessment.summary()["translation"] is None and assessment.summary()["fgsm"] is None


# -- the report and the command line ---------------------------------------------------


def test_the_report_has_a_translation_and_an_fgsm_section_with_their_figures(digits_model, tmp_path):
    from archzoo.evaluation.report import write_report

    out = tmp_path / "report"
    report = write_report(digits_model, out=out, save=False, ood=False, max_shift=3, epsilons=(0, 0.1, 0.2))
    assert {"shift.png", "shift.json", "fgsm.png", "fgsm.json"} <= set(report.files)
    page = (out / "report.html").read_text()
    assert "<h3>Translation</h3>" in page and "<h2>Adversarial examples (FGSM)</h2>" in page
    assert 'src="fgsm.png"' in page and 'src="shift.png"' in page
    assert "accuracy at shift px 0/1/2/3" in page and "accuracy at FGSM ε 0/0.1/0.2" in page
    curves = json.loads((out / "shift.json").read_text())["models"]["mlp"]
    assert curves["translation"]["strengths"] == [0, 1, 2, 3] and curves["fgsm"]["strengths"] == [0, 0.1, 0.2]
    attack = json.loads((out / "fgsm.json").read_text())
    assert len(attack["shown"]) == 4 and attack["fgsm"]["accuracy"] == report.assessment.adversarial["fgsm"]["accuracy"]
    for name, least in (("shift.png", (900, 700)), ("fgsm.png", (900, 400))):
        with Image.open(out / name) as image:  # four panels in two rows; the curve beside the example grid
            assert image.size[0] >= least[0] and image.size[1] >= least[1]
    data = json.loads((out / "report.json").read_text())
    assert data["adversarial"]["fgsm"]["strengths"] == [0, 0.1, 0.2] and data["figures"]["fgsm"]["png"] == "fgsm.png"


def test_eval_trust_takes_max_shift_and_epsilons(digits_model, capsys):
    argv = ["eval", str(digits_model), "--trust", "--ood", "none"]
    assert main([*argv, "--max-shift", "1", "--epsilons", "0,0.2"]) == 0
    out = capsys.readouterr().out
    assert "accuracy at shift px 0/1 " in out and "accuracy at FGSM ε 0/0.2 " in out
    assert main([*argv, "--no-fgsm", "--no-shift", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["adversarial"] is None and data["shift"] == {}
    assert "FGSM: not measured (switched off)" in data["notes"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--epsilons=-0.1"], "--epsilons must each be from 0 to 1 (pixel units, pixels in [0, 1]), not -0.1"),
        (["--epsilons", "0,big"], "--epsilons takes numbers separated by commas (e.g. 0,0.05,0.1), and 'big' is not"),
        (["--max-shift", "0"], "--max-shift must be 1 pixel or more, not 0"),
        (["--max-shift", "8"], "invalid value 8 for 'max_shift': a whole number of pixels from 1 to 7"),
    ],
)
def test_bad_trust_options_are_named(digits_model, capsys, options, message):
    assert main(["eval", str(digits_model), "--trust", "--ood", "none", *options]) == 2
    assert message in capsys.readouterr().err
