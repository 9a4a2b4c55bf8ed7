"""Every run keeps a record beside its checkpoints, read back by archzoo runs, compare and the app.

Real runs of the real trainer, through the real ``archzoo`` command (a
subprocess each time), on scikit-learn's digits.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archzoo.runs import events
from archzoo.runs.progress import RunProgress
from archzoo.runs.record import read_events, read_record

ARCHZOO = [sys.executable, "-m", "archzoo.cli"]


def run(*args: str, env: dict, rc: int | None = 0, stdin: str | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run([*ARCHZOO, *args], capture_output=True, text=True, env=env, timeout=300, input=stdin)
    if rc is not None:
        assert result.returncode == rc, f"rc {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Two finished runs that differ in their learning rate, in one store."""
    store = tmp_path_factory.mktemp("store")
    env = {**os.environ, "ARCHZOO_CHECKPOINTS": str(store), "OMP_NUM_THREADS": "1"}
    run("train", "mlp", "--set", "epochs=3", "--out", "slow", "--quiet", env=env)
    run("train", "mlp", "--set", "epochs=3", "--set", "lr=0.01", "--out", "fast", "--quiet", env=env)
    return store, env


def test_a_cli_run_writes_a_record_of_what_where_and_how_it_went(trained):
    store, _ = trained
    record = read_record(store / "fast")
    assert record["status"] == "finished" and record["architecture"] == "mlp" and record["dataset"] == "digits"
    assert record["train"]["lr"] == 0.01 and record["overrides"] == {"epochs": "3", "lr": "0.01"}
    assert record["config"]["hidden"] == [256]
    assert record["environment"]["device"] == "cpu" and record["environment"]["processes"] == 1
    assert record["environment"]["torch"] and record["environment"]["plugin"]["distribution"] == "archzoo"
    assert record["progress"] == {"epoch": 3, "epochs": 3, "step": 63, "total_steps": 63}
    assert record["metrics"]["best"]["test"]["accuracy"] > 0.8 and record["directions"]["loss"] == "lower"
    assert record["seconds"] > 0 and record["ended"] and len(record["lineage"]["sessions"]) == 1
    config = json.loads((store / "fast" / "best" / "config.json").read_text())
    assert record["metrics"]["best"]["test"] == config["metrics"]["test"]


def test_the_log_rebuilds_the_whole_curve_and_the_log_lines(trained):
    store, _ = trained
    history = read_events(store / "fast")
    kinds = [type(e).__name__ for e in history]
    assert kinds[0] == "RunStarted" and kinds[-1] == "RunEnded" and kinds.count("EpochEnded") == 3
    assert "StepEnded" not in kinds
    progress = RunProgress.of(history)
    assert [r["epoch"] for r in progress.epoch_rows] == [1, 2, 3]
    assert len(progress.step_losses) == 63 and progress.step_losses[-1][0] == pytest.approx(3.0)
    assert any(line.startswith("epoch 3: train loss") for line in progress.log)


def test_runs_lists_filters_sorts_and_speaks_json(trained):
    store, env = trained
    listing = run("runs", env=env).stdout
    assert "slow" in listing and "fast" in listing and "finished" in listing
    ranked = json.loads(run("runs", "--sort", "test.accuracy", "--json", env=env).stdout)
    assert [r["name"] for r in ranked] == ["fast", "slow"]
    assert json.loads(run("runs", "--status", "failed", "--json", env=env).stdout) == []
    assert "no run has a metric 'bleu'" in run("runs", "--sort", "bleu", env=env, rc=2).stderr
    shown = run("runs", "show", "fast", env=env).stdout
    assert "mlp on digits" in shown and "best test: accuracy" in shown and "checkpoints: best, last" in shown


def test_compare_shows_only_what_differs_and_each_best_value(trained, tmp_path):
    store, env = trained
    out = run("compare", "slow", "fast", "--out", str(tmp_path / "cmp"), env=env).stdout
    settings = out.split("\n\n")[0]
    assert "train.lr" in settings and "0.001" in settings and "0.01" in settings
    assert "train.epochs" not in settings and "model.hidden" not in settings
    assert "validation accuracy (best epoch)" in out and "test accuracy" in out
    assert (tmp_path / "cmp" / "compare.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert data["differing"] == {"train.lr": [0.001, 0.01]}
    fast = read_record(store / "fast")["metrics"]["best"]["test"]["accuracy"]
    assert data["best"]["test accuracy"]["values"][1] == pytest.approx(fast)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "mine.txt").write_text("keep")
    refused = run("compare", "slow", "fast", "--out", str(tmp_path / "other"), env=env, rc=2).stderr
    assert "already holds other files" in refused and (tmp_path / "other" / "mine.txt").read_text() == "keep"
    assert "at least two runs" in run("compare", "slow", env=env, rc=2).stderr


def test_tags_a_note_a_rename_and_a_delete_that_asks(trained):
    store, env = trained
    run("train", "mlp", "--set", "epochs=1", "--out", "scratch", "--quiet", env=env)
    run("runs", "tag", "scratch", "baseline", "lr-sweep", env=env)
    run("runs", "note", "scratch", "the first try", env=env)
    assert [r["name"] for r in json.loads(run("runs", "--tag", "baseline", "--json", env=env).stdout)] == ["scratch"]
    run("runs", "tag", "scratch", "lr-sweep", "--remove", env=env)
    run("runs", "rename", "scratch", "scratch-2", env=env)
    record = read_record(store / "scratch-2")
    assert record["tags"] == ["baseline"] and record["note"] == "the first try" and record["name"] == "scratch-2"
    assert not (store / "scratch").exists()
    assert "not allowed" in run("runs", "rename", "scratch-2", "../up", env=env, rc=2).stderr
    assert "already exists" in run("runs", "rename", "scratch-2", "fast", env=env, rc=2).stderr
    assert "pass --yes" in run("runs", "delete", "scratch-2", env=env, rc=2).stderr
    assert (store / "scratch-2" / "best").is_dir()
    assert "deleted" in run("runs", "delete", "scratch-2", "--yes", env=env).stdout
    assert not (store / "scratch-2").exists()
    assert "did you mean" in run("runs", "show", "fsat", env=env, rc=2).stderr


def test_delete_never_reaches_outside_the_store(trained, tmp_path):
    store, env = trained
    outside = tmp_path / "elsewhere"
    run("train", "mlp", "--set", "epochs=1", "--out", str(outside), "--quiet", env=env)
    message = run("runs", "delete", str(outside), "--yes", env=env, rc=2).stderr
    assert "not a run folder inside the checkpoint store" in message and (outside / "best").is_dir()


def test_a_corrupt_or_hand_edited_record_is_listed_as_unreadable(trained):
    store, env = trained
    broken = store / "broken"
    broken.mkdir()
    (broken / "run.json").write_text('{"format": "archzoo-run", "id": 3}')
    edited = store / "edited"
    edited.mkdir()
    (edited / "run.json").write_text("{not json")
    rows = {r["name"]: r for r in json.loads(run("runs", "--json", env=env).stdout)}
    assert "'id' is missing or not a str" in rows["broken"]["error"]
    assert "cannot be read" in rows["edited"]["error"] and rows["fast"]["status"] == "finished"
    assert "unreadable" in run("runs", env=env).stdout
    assert "cannot be read" in run("runs", "show", "edited", env=env, rc=2).stderr


def _train_in_background(env: dict, out: str, epochs: int = 400) -> subprocess.Popen:
    return subprocess.Popen(
        [*ARCHZOO, "train", "mlp", "--set", f"epochs={epochs}", "--set", "batch_size=16", "--out", out, "--quiet"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_epochs(folder: Path, count: int, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(isinstance(e, events.EpochEnded) for e in read_events(folder)) >= count:
            return
        assert process.poll() is None, process.communicate()
        time.sleep(0.2)
    raise AssertionError(f"{folder} did not reach {count} epochs")


def test_a_killed_run_is_interrupted_refuses_a_second_writer_and_resumes(tmp_path):
    store = tmp_path / "store"
    env = {**os.environ, "ARCHZOO_CHECKPOINTS": str(store), "OMP_NUM_THREADS": "1"}
    process = _train_in_background(env, "long")
    try:
        _wait_for_epochs(store / "long", 2, process)
        assert read_record(store / "long")["status"] == "running"
        second = run("train", "mlp", "--out", "long", "--overwrite", "--quiet", env=env, rc=2).stderr
        assert "in use by another archzoo process" in second and f"process {process.pid}" in second
        assert "is running" in run("runs", "delete", "long", "--yes", env=env, rc=2).stderr
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    finally:
        process.kill()
    record = read_record(store / "long")
    assert record["status"] == "interrupted"
    epochs_before = record["progress"]["epoch"]
    assert "interrupted" in run("runs", "--status", "interrupted", env=env).stdout
    assert f"resumable: archzoo train --out {store / 'long'} --resume" in run("runs", "show", "long", env=env).stdout
    run("train", "--out", "long", "--resume", "--set", f"epochs={epochs_before + 1}", "--quiet", env=env)
    again = read_record(store / "long")
    assert again["status"] == "finished" and again["id"] == record["id"]
    assert len(again["lineage"]["sessions"]) == 2 and again["lineage"]["sessions"][1]["from_step"] > 0
    shown = run("runs", "show", "long", env=env).stdout
    assert "lineage:   resumed 1 time(s), from step" in shown and "resumable:" not in shown
    progress = RunProgress.of(read_events(store / "long"))
    assert [r["epoch"] for r in progress.epoch_rows] == list(range(1, epochs_before + 2))


def test_the_record_keeps_the_model_as_built_on_its_data(tmp_path, monkeypatch):
    """An MLP's defaults are for 8x8 digits; on the moons (a preset) or a CSV of points its
    record says what was built: 2 inputs, 2 classes, a tabular classifier."""
    import csv

    from sklearn.datasets import make_moons

    from archzoo.api import train

    monkeypatch.setenv("ARCHZOO_CHECKPOINTS", str(tmp_path / "store"))
    moons = train("mlp-moons", overrides={"epochs": 1}, out="moons", watch=None)
    record = read_record(moons.out_dir)
    assert record["config"]["input_shape"] == [2] and record["config"]["num_classes"] == 2
    assert record["task"] == "tabular-classification"
    points = tmp_path / "points.csv"
    x, y = make_moons(n_samples=120, noise=0.1, random_state=0)
    with open(points, "w", newline="") as handle:
        csv.writer(handle).writerows([["a", "b", "label"], *[[p, q, c] for (p, q), c in zip(x, y)]])
    table = train("mlp", dataset=str(points), overrides={"epochs": 1}, out="table", watch=None)
    record = read_record(table.out_dir)
    assert record["task"] == "tabular-classification" and record["config"]["input_shape"] == [2]
