"""``archzoo report`` on a real Fashion-MNIST MLP (trained for 60 steps on the
real data) against the real MNIST test set: the page, its PNG and JSON
figures, the checkpoint's stored temperature and card, and the bad inputs:
a folder holding other files, a non-classifier, a too-small validation
split, a cache folder, and a failure half-way through."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from archzoo.cli import main


@pytest.fixture(scope="module")
def fashion_model(tmp_path_factory, fashion_mnist_dir):
    from archzoo.api import train

    out = tmp_path_factory.mktemp("report") / "run"
    result = train("mlp-fashion", overrides={"epochs": 1, "max_steps": 60}, out=str(out))
    return result.best_dir


@pytest.fixture(scope="module")
def reported(fashion_model, tmp_path_factory, shared_data):
    """A copy of the checkpoint, reported on into an --out folder that already holds a file of the user's."""
    from archzoo.evaluation.report import write_report

    base = tmp_path_factory.mktemp("reported")
    folder = base / "ckpt"
    shutil.copytree(fashion_model, folder)
    out = base / "out"
    out.mkdir()
    (out / "my-notes.txt").write_text("keep me")
    original = {name: (folder / name).read_bytes() for name in ("model.safetensors", "config.json")}
    report = write_report(folder, out=out, ood="mnist", ood_data_dir=shared_data / "mnist-t10k", shift_examples=1000)
    return report, folder, out, original


def test_calibration_and_ood_on_fashion_mnist(reported):
    report, *_ = reported
    summary = report.assessment.summary()
    assert summary["test_examples"] == 10_000 and summary["dataset"] == "fashion-mnist"
    low, high = summary["accuracy_ci95"]
    assert low < summary["accuracy"] < high and high - low < 0.02  # 10,000 examples: about +/-0.008
    calibration = summary["calibration"]
    assert calibration["validation_examples"] == 6_000
    assert calibration["ece_after"] < calibration["ece_before"]  # measured on the test split, fitted on validation
    assert calibration["nll_after"] < calibration["nll_before"]
    ood = summary["ood"]
    assert ood["dataset"] == "mnist" and ood["examples"] == 10_000
    assert 0.5 < ood["msp_auroc"] <= 1.0 and 0.5 < ood["energy_auroc"] <= 1.0
    assert report.verdict["verdict"] in ("ship", "collect more data", "redesign") and report.verdict["reasons"]


def test_the_page_and_every_figure_are_written_without_clobbering(reported):
    report, folder, out, _ = reported
    assert (out / "my-notes.txt").read_text() == "keep me"
    assert report.page == out / "report.html"
    page = report.page.read_text()
    for name in ("confusion", "reliability", "ood", "shift"):
        with Image.open(out / f"{name}.png") as image:
            image.load()
            assert image.format == "PNG" and image.size[0] > 300 and image.size[1] > 200
        data = json.loads((out / f"{name}.json").read_text())
        assert data["figure"] == name
        assert f'src="{name}.png"' in page
    reliability = json.loads((out / "reliability.json").read_text())
    assert len(reliability["before"]["bins"]) == 10 and reliability["bin_width"] == 0.1
    assert sum(b["count"] for b in reliability["before"]["bins"]) == 10_000
    shift = json.loads((out / "shift.json").read_text())["models"]["mlp"]
    assert shift["rotation"]["strengths"] == [0, 15, 30, 45, 60, 75, 90] and shift["rotation"]["examples"] == 1000
    everything = json.loads((out / "report.json").read_text())
    assert everything["format"] == "archzoo-report" and everything["verdict"]["thresholds"]["min_accuracy"] == 0.85
    assert f"Verdict: {report.verdict['verdict']}" in page and "How the verdict is decided" in page
    # The same files inside the checkpoint, for its card.
    assert sorted(p.name for p in (folder / "evaluation").iterdir()) == sorted(report.files)


def test_the_checkpoint_keeps_its_weights_and_gains_a_temperature_and_card(reported):
    from archzoo.checkpoints.io import load
    from archzoo.files import sha256_file

    report, folder, _, original = reported
    assert (folder / "model.safetensors").read_bytes() == original["model.safetensors"]
    meta = json.loads((folder / "config.json").read_text())
    before = json.loads(original["config.json"])
    assert meta["weights_sha256"] == before["weights_sha256"] == sha256_file(folder / "model.safetensors")
    assert meta["calibration"]["temperature"] == pytest.approx(report.assessment.temperature)
    assert meta["trust"]["verdict"] == report.verdict["verdict"]
    assert {k: v for k, v in meta.items() if k not in ("calibration", "trust")} == before
    card = (folder / "README.md").read_text()
    assert "## Trust: calibration, out-of-distribution inputs, shift" in card
    assert "![reliability](evaluation/reliability.png)" in card and f"**Verdict: {report.verdict['verdict']}**" in card
    assert card.startswith("---\nlibrary_name: archzoo")
    load(folder)  # still loads: the hash check passes
    # The Hub copy of the card has the numbers and the figure links (push uploads evaluation/).
    from archzoo.checkpoints.card import render_model_card

    hub_card = render_model_card(meta, repo_id="someone/model")
    # push uploads the evaluation/ folder beside the card, so the Hub card links the figures too
    assert "ECE before / after temperature scaling" in hub_card and "](evaluation/reliability.png)" in hub_card


def test_the_cli_report_and_calibrated_predict(reported, tmp_path, capsys, shared_data):
    _, folder, _, _ = reported
    out = tmp_path / "cli-report"
    assert (
        main(
            [
                "report",
                str(folder),
                "--out",
                str(out),
                "--no-save",
                "--no-shift",
                "--ood-data-dir",
                str(shared_data / "mnist-t10k"),
                "--json",
            ]
        )
        == 0
    )
    printed = json.loads(capsys.readouterr().out)
    assert printed["page"] == str(out / "report.html") and "energy_auroc" in printed["summary"]["ood"]
    assert not (out / "shift.png").exists() and (out / "ood.png").is_file()
    # A second report into the same folder replaces the first one's files (it is recognised as ours).
    assert main(["report", str(folder), "--out", str(out), "--no-save", "--no-shift", "--ood", "digits"]) == 0
    assert "resized its images from 8x8 to the model's 28x28" in capsys.readouterr().err
    # predict --calibrated on a real Fashion-MNIST image, saved as a PNG.
    from archzoo.data.images import FASHION_MNIST, _read_pair, _scan

    images, _ = _read_pair(_scan(FASHION_MNIST.system_dirs[0], FASHION_MNIST).test)
    path = tmp_path / "item.png"
    Image.fromarray(images[0]).save(path)
    assert main(["predict", str(folder), str(path), "--json"]) == 0
    plain = json.loads(capsys.readouterr().out)[0]["top_k"]
    assert main(["predict", str(folder), str(path), "--calibrated", "--json"]) == 0
    calibrated = json.loads(capsys.readouterr().out)[0]["top_k"]
    assert [r["label"] for r in plain] == [r["label"] for r in calibrated]
    assert plain[0]["probability"] != pytest.approx(calibrated[0]["probability"], abs=1e-4)


def test_eval_trust_prints_the_tables(fashion_model, capsys, shared_data):
    assert (
        main(["eval", str(fashion_model), "--trust", "--no-shift", "--ood-data-dir", str(shared_data / "mnist-t10k")])
        == 0
    )
    out = capsys.readouterr().out
    assert "ECE before / after temperature scaling" in out and "MSP vs mnist" in out and "ENERGY vs mnist" in out
    assert "Ankle boot" in out and "verdict: " in out


def test_an_out_folder_with_a_foreign_report_is_left_alone(fashion_model, tmp_path):
    from archzoo.evaluation.report import ReportOutputError, write_report

    out = tmp_path / "taken"
    out.mkdir()
    (out / "report.html").write_text("<p>someone else's page</p>")
    config = (fashion_model / "config.json").read_bytes()
    with pytest.raises(
        ReportOutputError, match="already holds report.html, not from an archzoo report; nothing was written"
    ):
        write_report(fashion_model, out=out, ood="digits")
    assert (out / "report.html").read_text() == "<p>someone else's page</p>" and len(list(out.iterdir())) == 1
    assert (fashion_model / "config.json").read_bytes() == config
    assert main(["report", str(fashion_model), "--out", str(out)]) == 2


def test_non_classifiers_are_told_what_these_metrics_are_for(tmp_path):
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from test_inference import fake_host, write_fake_checkpoint

    from archzoo.evaluation.logits import NotAClassifierError
    from archzoo.evaluation.report import write_report

    host = fake_host(tmp_path)
    folder = write_fake_checkpoint(host, "fake-gen", tmp_path / "gen")
    with pytest.raises(NotAClassifierError, match="apply to classifiers; 'fake-gen' is a image-generation model"):
        write_report(folder, out=tmp_path / "out", host=host)
    assert not (folder / "evaluation").exists()


def test_a_too_small_validation_split_is_a_note_and_keeps_an_earlier_temperature(tmp_path):
    from archzoo.api import train
    from archzoo.evaluation.report import write_report

    small = train(
        "mlp", dataset="digits", overrides={"epochs": 2, "val_fraction": 0.03}, out=str(tmp_path / "small")
    ).best_dir
    meta = json.loads((small / "config.json").read_text())
    meta["calibration"] = {
        "temperature": 1.5,
        "method": "an earlier fit",
    }  # as if fitted before; the weights are the same
    (small / "config.json").write_text(json.dumps(meta))
    report = write_report(small, ood="fashion-mnist", shift=False)
    assert any("validation split has 43 examples; fitting a temperature needs at least 100" in n for n in report.notes)
    verdict = report.verdict
    assert any("no temperature could be fitted" in r for r in verdict["collect"])
    saved = json.loads((small / "config.json").read_text())
    assert saved["calibration"] == {"temperature": 1.5, "method": "an earlier fit"}  # not lost
    assert saved["trust"]["calibration"]["error"].startswith("the validation split has 43 examples")
    assert "resized its images from 28x28 to the model's 8x8" in " ".join(report.notes)


def test_a_failure_half_way_leaves_the_checkpoint_as_it_was(fashion_model, tmp_path, monkeypatch):
    from archzoo.checkpoints import amend
    from archzoo.checkpoints.amend import amend_checkpoint

    folder = tmp_path / "ckpt"
    shutil.copytree(fashion_model, folder)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    def broken(meta, **_):
        raise OSError("disk full")

    monkeypatch.setattr(amend, "render_model_card", broken)
    with pytest.raises(OSError, match="disk full"):
        amend_checkpoint(folder, meta_updates={"calibration": {"temperature": 2.0}}, evaluation_files={"x.json": b"{}"})
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]  # no staging folder left
    monkeypatch.undo()
    from archzoo.errors import ArchzooError

    with pytest.raises(ArchzooError, match="may not change weights_sha256"):
        amend_checkpoint(folder, meta_updates={"weights_sha256": "0" * 64})


def test_a_folder_of_links_into_a_cache_is_not_changed(fashion_model, tmp_path):
    from archzoo.checkpoints.amend import NotAmendableError
    from archzoo.evaluation.report import write_report

    linked = tmp_path / "snapshot"
    linked.mkdir()
    for p in fashion_model.iterdir():
        if p.is_file():
            (linked / p.name).symlink_to(p)
    with pytest.raises(NotAmendableError, match="holds symbolic links"):
        write_report(linked, ood="digits", shift=False)
    report = write_report(linked, out=tmp_path / "elsewhere", ood="digits", shift=False)
    assert not report.checkpoint_updated and (tmp_path / "elsewhere" / "report.html").is_file()
    assert any("the checkpoint was left as it is" in n for n in report.notes)
    assert sorted(p.name for p in linked.iterdir()) == sorted(p.name for p in fashion_model.iterdir() if p.is_file())


def test_the_apps_card_names_the_report_and_figures_as_files_where_links_would_lead_nowhere(reported):
    from archzoo.checkpoints.store import card_body, read_card
    from archzoo.ui.checkpoints_tab import in_the_page

    _, folder, _, _ = reported
    body = card_body(read_card(folder))
    assert "](evaluation/report.html)" in body  # on the Hub, a link beside the card
    shown = in_the_page(body)
    assert "](evaluation/" not in shown and "`evaluation/report.html` (in the checkpoint folder)" in shown
    assert "*(figure: `evaluation/" in shown
    kept = "[the notes](https://example.org/notes) and [a section](#usage)"
    assert in_the_page(kept) == kept
