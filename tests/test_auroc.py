"""AUROC where a reader looks: each class's in ``archzoo eval --trust``, the macro AUROC on
the model card, and the ROC curves in the app's Evaluate tab.

One MLP and one logistic regression are trained for an epoch on real data (scikit-learn's
digits, ten classes; moons, two), and every number is checked against scikit-learn's
``roc_auc_score`` on the model's own test-split probabilities, computed here apart from archzoo.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.metrics import roc_auc_score

from archzoo.api import load, train
from archzoo.inference.data import evaluation_loader


@pytest.fixture(scope="module")
def checkpoints(module_store):
    """(digits MLP, moons logistic regression), each trained for one epoch."""
    digits = train("mlp", dataset="digits", overrides={"hidden": (16,), "epochs": 1, "batch_size": 64}, watch=None)
    moons = train("logistic", dataset="moons", overrides={"epochs": 1}, watch=None)
    return digits.best_dir, moons.best_dir


def _sklearn(location) -> tuple[list[float], float]:
    """Each class's AUROC (that class against the rest) and their mean, by scikit-learn,
    from the checkpoint's softmax probabilities on its test split."""
    loaded = load(location)
    labels, probabilities = [], []
    with torch.no_grad():
        for x, y in evaluation_loader(loaded):
            probabilities.append(torch.softmax(loaded.model(x), dim=1))
            labels.append(y)
    y, p = torch.cat(labels).numpy(), torch.cat(probabilities).numpy()
    if p.shape[1] == 2:
        area = float(roc_auc_score(y, p[:, 1]))
        return [area, area], area
    per_class = [float(roc_auc_score(y == c, p[:, c])) for c in range(p.shape[1])]
    macro = float(roc_auc_score(y, p, multi_class="ovr", average="macro"))
    assert macro == pytest.approx(np.mean(per_class))
    return per_class, macro


def test_trust_numbers_are_scikit_learns(checkpoints):
    from archzoo.evaluation.trust import assess

    for location in checkpoints:
        per_class, macro = _sklearn(location)
        assessment = assess(location, ood=False, shift=False, fgsm=False)
        rows = assessment.classes["per_class"]
        assert [r["auroc"] for r in rows] == pytest.approx(per_class, abs=1e-9)
        assert assessment.summary()["macro_auroc"] == pytest.approx(macro, abs=1e-9)


def test_eval_trust_prints_an_auroc_column_and_the_macro_row(checkpoints):
    from archzoo.cli.main import main

    per_class, macro = _sklearn(checkpoints[0])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["eval", str(checkpoints[0]), "--trust", "--ood", "none", "--no-shift", "--no-fgsm"]) == 0
    lines = out.getvalue().splitlines()
    header = next(line for line in lines if line.startswith("CLASS"))
    assert header.split() == ["CLASS", "SUPPORT", "PRECISION", "RECALL", "F1", "AUROC"]
    start = lines.index(header)
    rows = [line.split() for line in lines[start + 1 : start + 11] if not set(line) <= {"-", " "}]
    assert [row[0] for row in rows] == [str(d) for d in range(10)]
    assert [row[-1] for row in rows] == [f"{a:.3f}" for a in per_class]
    assert any(line.startswith("macro AUROC") and line.split()[-1] == f"{macro:.4f}" for line in lines)


def test_card_and_evaluate_tab_show_the_auroc(checkpoints, module_store):
    from archzoo.registry.host import get_host
    from archzoo.training.queue import RunManager
    from archzoo.ui.common import AppContext
    from archzoo.ui.evaluate_tab import NO_OOD, OWN, judge

    location = checkpoints[0]
    _, macro = _sklearn(location)
    host = get_host()
    answer = judge(AppContext(host=host, runs=RunManager(host)), str(location), OWN, "test", NO_OOD, "", True)
    assert "az-ok" in answer[0] or "Judged" in answer[0], answer[0]
    card = (location / "README.md").read_text()
    results = card.split("## Evaluation results", 1)[1].split("##", 1)[0]
    header = next(line for line in results.splitlines() if line.startswith("| split"))
    columns = [c.strip() for c in header.strip("|").split("|")]
    test_row = next(line for line in results.splitlines() if line.startswith("| test"))
    cells = [c.strip() for c in test_row.strip("|").split("|")]
    assert cells[columns.index("macro_auroc")] == f"{macro:.4f}"
    assert f"| macro AUROC (each class against the rest) | {macro:.4f} |" in card

    roc = answer[-1]
    assert isinstance(roc, Image.Image)
    with Image.open(location / "evaluation" / "roc.png") as saved:
        assert np.array_equal(np.asarray(roc.convert("RGB")), np.asarray(saved.convert("RGB")))

    # ... and the page puts that last answer in the tab's ROC picture.
    from archzoo.ui.app import build_app

    wired = next(f for f in build_app(host).fns.values() if f.api_name == "judge")
    assert len(wired.outputs) == len(answer) and wired.outputs[-1].elem_id == "az-eval-roc"
    assert "ROC" in wired.outputs[-1].label
