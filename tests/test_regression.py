"""Regression as a task: the sine and CSV datasets, the linear-regression plugin's two solvers,
the rank error, the metrics, and predictions, residuals and reports of real checkpoints."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from archzoo import DataError, load
from archzoo.api import train
from archzoo.data.loading import load_dataset
from archzoo.errors import ArchzooError
from archzoo.registry.datanames import split_dataset_name
from archzoo.registry.host import get_host
from archzoo.registry.plans import plan_run
from archzoo.testing import ContractSuite
from archzoo.toolkit.regression import regression_scores

RUNS: dict[str, object] = {}


def fitted(name: str, dataset: str, **overrides):
    """A run trained once per module in its store (tiny: seconds)."""
    key = f"{name}-{dataset}-{sorted(overrides.items())}"
    if key not in RUNS:
        RUNS[key] = train(name, dataset=dataset, overrides=overrides, out=f"run{len(RUNS)}")
    return RUNS[key]


@pytest.fixture(autouse=True)
def _store(module_store):
    yield module_store


def weights(result) -> torch.Tensor:
    model = load(result.out_dir / "last").model
    return torch.cat([model.linear.bias.detach(), model.linear.weight.detach().flatten()])


# -- datasets -----------------------------------------------------------------------------


def test_sine_settings_in_its_name_change_its_size_and_noise():
    plain = load_dataset("sine")
    assert plain.info.task == "tabular-regression" and plain.info.num_classes == 1 and plain.info.class_names == ("y",)
    assert sum(len(s) for s in (plain.train, plain.val, plain.test)) == 200
    clean = load_dataset("sine:points=50,noise=0")
    x, y = clean.train.tensors
    assert sum(len(s) for s in (clean.train, clean.val, clean.test)) == 50
    assert torch.allclose(y, torch.sin(math.pi * x), atol=1e-6), "noise=0 is the sine itself"
    assert clean.info.name == "sine:points=50,noise=0", "the name with its settings brings the same data back"
    noisy = load_dataset("sine:points=2000,noise=0.5")
    x, y = noisy.train.tensors
    assert (y - torch.sin(math.pi * x)).std().item() == pytest.approx(0.5, rel=0.08)


def test_bad_dataset_settings_are_named():
    with pytest.raises(DataError, match=r"no setting 'size'.*points:.*noise:"):
        load_dataset("sine:size=50")
    with pytest.raises(DataError, match=r"points=5: must be between 10 and 100000"):
        load_dataset("sine:points=5")
    with pytest.raises(DataError, match=r"noise=loud: not a number"):
        load_dataset("sine:noise=loud")
    with pytest.raises(ArchzooError, match=r"has no setting 'size'"):
        plan_run("linear-regression", dataset="sine:size=3")  # refused before any data is read
    assert split_dataset_name("/data/run:2/points.csv") == ("/data/run:2/points.csv", {}), "a path stays a path"


def test_a_classifier_cannot_train_on_sine_and_the_regression_cannot_train_on_moons():
    with pytest.raises(ArchzooError, match=r"'logistic'.*cannot train on dataset 'sine:points=50'"):
        plan_run("logistic", dataset="sine:points=50")
    with pytest.raises(ArchzooError, match=r"'linear-regression'.*cannot train on dataset 'moons'"):
        plan_run("linear-regression", dataset="moons")


def plane_csv(path, rows=120, bad_row=None):
    """y = 2a - 3b + 1 exactly, with the target column in the middle."""
    rng = np.random.default_rng(0)
    lines = ["a,price,b"]
    for i in range(rows):
        a, b = rng.normal(size=2) * [10.0, 3.0] + [50.0, -4.0]
        target = "cheap" if i == bad_row else f"{2 * a - 3 * b + 1:.6f}"
        lines.append(f"{a:.6f},{target},{b:.6f}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_csv_with_a_numeric_target_column_is_regression_data(tmp_path):
    path = plane_csv(tmp_path / "plane.csv")
    plan = plan_run("linear-regression", dataset=str(path), overrides={"label_column": "price"})
    assert plan.dataset == f"{path}:task=regression", "a regression given a CSV reads its target as numbers"
    result = train(
        "linear-regression", dataset=str(path), overrides={"label_column": "price", "epochs": 1}, out="plane"
    )
    assert result.test_metrics["r2"] == pytest.approx(1.0, abs=1e-6) and result.test_metrics["mse"] < 1e-6
    model = load(result.out_dir / "best")
    assert model.info.class_names == ("price",) and model.info.input_shape == (2,)
    # Standardised inputs, predictions in the file's units: the plane itself at a new point.
    from archzoo.inference.regression import predict_values

    found = predict_values(result.out_dir, ["10, 2"])
    assert found.names == ["price"] and found.values[0][0] == pytest.approx(2 * 10 - 3 * 2 + 1, abs=1e-3)


def test_a_target_column_that_is_not_numeric_names_the_column_and_the_first_bad_row(tmp_path):
    path = plane_csv(tmp_path / "plane.csv", bad_row=6)
    with pytest.raises(DataError, match=r"plane.csv, row 8, target column 'price': 'cheap' is not a number"):
        load_dataset(f"{path}:task=regression", load_dataset_options("price"))
    with pytest.raises(DataError, match=r"task=guess is neither regression nor classification"):
        load_dataset(f"{path}:task=guess")


def load_dataset_options(label_column):
    from archzoo.data.types import DataOptions

    return DataOptions(label_column=label_column)


# -- the plugin: closed form, gradient descent, rank ----------------------------------------------


def test_closed_form_and_gradient_descent_agree():
    """The same degree and delta through the shared trainer: one pass of the closed form, and SGD
    on the same objective until it settles, land on the same coefficients."""
    shared = {"degree": 3, "ridge": 1e-3}
    closed = fitted("linear-regression", "sine", **shared, epochs=1)
    descent = fitted(
        "linear-regression", "sine", **shared, solver="gradient-descent", epochs=120, lr=0.5,
        schedule="constant", batch_size=256, grad_clip=0.0,
    )  # fmt: skip
    a, b = weights(closed), weights(descent)
    assert torch.allclose(a, b, atol=2e-3), f"closed form {a.tolist()} against gradient descent {b.tolist()}"
    assert (a.abs() > 0.05).sum() >= 3, "a fitted cubic through a sine, not zeros"


def test_the_closed_form_is_the_explainers_formula_on_the_training_split():
    """(X^T X + n delta D)^-1 X^T y, computed here with numpy from the training rows."""
    result = fitted("linear-regression", "sine", degree=5, ridge=1e-2, epochs=1)
    x, y = (t.double().numpy() for t in load_dataset("sine").train.tensors)
    design = np.hstack([x**p for p in range(6)])
    penalty = len(x) * 1e-2 * np.diag([0.0] + [1.0] * 5)
    expected = np.linalg.solve(design.T @ design + penalty, design.T @ y).ravel()
    assert np.allclose(weights(result).double().numpy(), expected, atol=1e-4)


def test_more_features_than_the_data_has_rank_is_an_error_that_suggests_ridge():
    with pytest.raises(DataError) as caught:
        train("linear-regression", dataset="sine:points=12", overrides={"degree": 15, "epochs": 1}, out="singular")
    message = str(caught.value)
    assert "degree 15" in message and "16 columns" in message and "rank of only" in message
    assert "ridge" in message and "delta > 0" in message
    result = train(
        "linear-regression", dataset="sine:points=12", overrides={"degree": 15, "ridge": 1e-4, "epochs": 1},
        out="ridged",
    )  # fmt: skip
    assert math.isfinite(result.test_metrics["mse"]), "with delta > 0 the same fit is solved"


def test_more_epochs_of_the_closed_form_give_the_same_fit():
    once = fitted("linear-regression", "sine", degree=4, epochs=1)
    thrice = fitted("linear-regression", "sine", degree=4, epochs=3)
    assert torch.allclose(weights(once), weights(thrice), atol=1e-6), "each pass starts its sums again"


# -- metrics ---------------------------------------------------------------------------------


def test_regression_scores_by_hand():
    true = torch.tensor([[1.0], [2.0], [3.0], [4.0]])
    predicted = torch.tensor([[1.5], [2.0], [2.0], [4.5]])
    scores = regression_scores(predicted, true)
    assert scores["mse"] == pytest.approx((0.25 + 0 + 1 + 0.25) / 4)
    assert scores["mae"] == pytest.approx((0.5 + 0 + 1 + 0.5) / 4)
    assert scores["r2"] == pytest.approx(1 - 1.5 / 5.0)
    assert regression_scores(torch.full((4, 1), 2.5), true)["r2"] == pytest.approx(0.0), "the mean explains nothing"


def test_r2_is_declared_higher_is_better_for_every_regression():
    from archzoo.registry.specs import metric_direction

    spec = get_host().architecture("linear-regression")
    assert spec.metrics["r2"] == "higher" and metric_direction("mse", spec.metrics) == "lower"


def test_classifiers_keep_one_train_step_implementation():
    """The regression defaults stay out of a classifier's calls, so its step is called directly."""
    host = get_host()
    host.hooks("logistic")
    impls = host.subset_caller(host.architecture("logistic"), "train_step").get_hookimpls()
    assert [i.plugin_name for i in impls] == ["archzoo-defaults"]


# -- using a checkpoint --------------------------------------------------------------------------


def cli(capsys, *args) -> tuple[int, str, str]:
    """``archzoo ARGS`` in this process (its parser and handlers, as the console script runs them)."""
    from archzoo.cli.main import main

    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_predict_eval_show_and_report_from_the_command_line(capsys, tmp_path):
    result = fitted("linear-regression", "sine", degree=5, epochs=1)
    folder = str(result.out_dir)
    capsys.readouterr()
    code, out, err = cli(capsys, "predict", folder, "0.5", "-0.5", "--json")
    assert code == 0, err
    values = [row["values"]["y"] for row in json.loads(out)]
    assert values[0] == pytest.approx(1.0, abs=0.25) and values[1] == pytest.approx(-1.0, abs=0.25)
    code, out, err = cli(capsys, "eval", folder, "--json")
    assert json.loads(out)["r2"] == pytest.approx(result.test_metrics["r2"], abs=1e-9)
    code, out, err = cli(capsys, "show", folder, "residuals", "--out", str(tmp_path / "views"))
    assert code == 0, err
    data = json.loads((tmp_path / "views" / "residuals.json").read_text())
    residual = np.asarray(data["true"]) - np.asarray(data["predicted"])
    assert np.mean(residual**2) == pytest.approx(result.test_metrics["mse"], rel=1e-5)
    assert (tmp_path / "views" / "residuals.png").read_bytes().startswith(b"\x89PNG")
    code, out, err = cli(capsys, "report", folder, "--no-save", "--out", str(tmp_path / "report"))
    assert code == 0, err
    page = (tmp_path / "report" / "report.html").read_text()
    assert "residuals.png" in page and "r2" in page
    code, out, err = cli(capsys, "predict", folder, "0.5", "--calibrated")
    assert code != 0 and "--calibrated is for classifiers" in err


class TestContractGradientDescent(ContractSuite):
    """The suite on the other solver too (the built-in suite checks the default, the closed form)."""

    architecture = "linear-regression"
    overrides = {"solver": "gradient-descent", "degree": 3, "ridge": 1e-3}
    lr = 0.1


# -- the MLP on regression data ------------------------------------------------------------------


def test_the_mlp_fits_the_sine_with_one_output():
    result = fitted("mlp", "sine", hidden="64,64", epochs=60, lr=1e-2, batch_size=32)
    loaded = load(result.out_dir)
    assert loaded.info.task == "tabular-regression" and loaded.model.net[-1].out_features == 1
    assert result.test_metrics["r2"] > 0.6, result.test_metrics  # a line manages about 0.5 on this sine
    line = fitted("linear-regression", "sine", epochs=1)
    assert result.test_metrics["r2"] > line.test_metrics["r2"] + 0.1


class TestContractMLPOnSine(ContractSuite):
    """The MLP is checked on regression data too: one output, MSE, values as its sample."""

    architecture = "mlp"
    overrides = {"hidden": (16,)}

    def make_splits(self, spec):
        return load_dataset("sine")


def test_the_mlp_step_is_called_directly_in_pluggys_order():
    """Two task defaults answer for the MLP; the trainer's direct call asks them in pluggy's
    order, so the regression step (loss only) trains it on sine and the classification step
    (loss and accuracy) on moons."""
    host = get_host()
    host.hooks("mlp")
    impls = host.subset_caller(host.architecture("mlp"), "train_step").get_hookimpls()
    assert [i.plugin_name for i in reversed(impls)] == ["archzoo-regression-defaults", "archzoo-defaults"]
    sine = fitted("mlp", "sine", hidden="8", epochs=1)
    moons = fitted("mlp", "moons", hidden="8", epochs=1)
    assert set(sine.history[-1]["train"]) == {"loss"} and "r2" in sine.val_metrics
    assert "accuracy" in moons.history[-1]["train"] and "accuracy" in moons.val_metrics
