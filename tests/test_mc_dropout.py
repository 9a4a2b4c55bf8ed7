"""MC-dropout predictions (notes, exercise 3.3): the mean and spread of passes with dropout
on, for a real MLP trained on the two moons, through Python and the CLI."""

from __future__ import annotations

import json

import pytest
import torch

import archzoo
from archzoo.api import predict_with_spread, train
from archzoo.cli.main import main
from archzoo.errors import ArchzooError
from archzoo.inference import classify_rows
from archzoo.inference.uncertainty import DROPOUT_LAYERS

ROWS = ["0.0,0.5", "1.0,-0.4", "2.0,0.3"]


@pytest.fixture(scope="module")
def moons(module_store):
    settings = {"hidden": "32,32", "dropout": "0.3", "norm": "batch", "epochs": "3", "lr": "1e-2"}
    train("mlp", dataset="moons", overrides=settings, out="drop")
    train("mlp", dataset="moons", overrides={"hidden": "8", "epochs": "1"}, out="plain")
    return module_store


def test_the_mean_and_spread_are_those_of_the_passes_with_dropout_on(moons):
    ranked, notes = predict_with_spread("drop", ROWS, passes=25, top_k=2, seed=3)
    loaded = archzoo.load(moons / "drop")
    inputs = torch.stack([torch.tensor([float(v) for v in row.split(",")]) for row in ROWS])
    mean, std = torch.tensor(loaded.info.mean), torch.tensor(loaded.info.std)
    for module in loaded.model.modules():
        if isinstance(module, DROPOUT_LAYERS):
            module.train()  # dropout on, batch norm left on its running statistics
    torch.manual_seed(3)
    with torch.no_grad():
        passes = torch.stack([torch.softmax(loaded.model((inputs - mean) / std), dim=1) for _ in range(25)])
    names = list(loaded.info.class_names)
    for row, found in enumerate(ranked):
        for label, probability, spread in found:
            k = names.index(label)
            assert probability == pytest.approx(passes[:, row, k].mean().item(), abs=1e-6)
            assert spread == pytest.approx(passes[:, row, k].std().item(), abs=1e-6)
        assert sum(p for _, p, _ in found) == pytest.approx(1.0, abs=1e-6)  # both classes shown
    assert any(s > 0.001 for row in ranked for _, _, s in row)  # the thinned networks disagree somewhere
    assert any("MC-dropout" in note for note in notes)


def test_the_same_seed_repeats_and_another_differs(moons):
    first, _ = predict_with_spread("drop", ROWS, passes=10, seed=0)
    assert predict_with_spread("drop", ROWS, passes=10, seed=0)[0] == first
    assert predict_with_spread("drop", ROWS, passes=10, seed=1)[0] != first


def test_the_app_widgets_carry_the_spread(moons):
    found = classify_rows("drop", "\n".join(ROWS), top_k=2, mc_dropout=20)
    assert found.spread is not None and len(found.spread) == 3 and len(found.spread[0]) == 2
    assert classify_rows("drop", ROWS[0], top_k=2).spread is None  # a plain pass has none


def test_a_model_without_dropout_and_a_single_pass_are_refused(moons):
    with pytest.raises(ArchzooError, match="no dropout to leave on"):
        predict_with_spread("plain", ROWS, passes=10)
    with pytest.raises(ArchzooError, match="passes must be a whole number between 2 and 1000"):
        predict_with_spread("drop", ROWS, passes=1)


def test_the_cli_prints_mean_and_spread(moons, capsys):
    assert main(["predict", "drop", *ROWS, "--mc-dropout", "20", "--top-k", "1"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and all(" ± " in line for line in lines)
    assert main(["predict", "drop", ROWS[0], "--mc-dropout", "20", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)[0]
    assert set(row["top_k"][0]) == {"label", "probability", "spread"}
