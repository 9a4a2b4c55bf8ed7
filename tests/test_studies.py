"""Studies: grids of ordinary runs on Optuna, through the real ``archzoo`` command.

Real runs of the real trainer on scikit-learn's digits, an SQLite storage in
the store, subprocesses as a user types them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import optuna
import pytest
from optuna.trial import TrialState

from archzoo.runs.record import read_record

ARCHZOO = [sys.executable, "-m", "archzoo.cli"]
GRID = ["study", "run", "--preset", "mlp", "--dataset", "digits", "--set", "batch_size=256"]


def archzoo(*args: str, env: dict, rc: int | None = 0) -> subprocess.CompletedProcess:
    done = subprocess.run([*ARCHZOO, *args], capture_output=True, text=True, env=env, timeout=600)
    if rc is not None:
        assert done.returncode == rc, f"rc {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture
def env(tmp_path):
    return {**os.environ, "ARCHZOO_CHECKPOINTS": str(tmp_path), "OMP_NUM_THREADS": "1"}


def trials(store, name):
    study = optuna.load_study(study_name=name, storage=f"sqlite:///{store / 'studies.sqlite3'}")
    return study.get_trials(deepcopy=False)


def test_a_grid_with_seeds_runs_each_cell_and_seed_once_as_a_run_and_tabulates_them(env, tmp_path):
    done = archzoo(*GRID, "--set", "epochs=2", "--grid", "lr=0.01,0.001", "--seeds", "2", "--name", "g", env=env)
    assert "2 cell(s) x 2 seed(s)" in done.stdout and "4/4 trials done" in done.stdout
    for index in range(4):
        record = read_record(tmp_path / "g" / f"{index:03d}")
        assert record["status"] == "finished" and record["tags"] == ["study:g"]
        assert record["train"]["seed"] == index % 2 and record["train"]["lr"] == (0.01 if index < 2 else 0.001)
    shown = json.loads(archzoo("study", "show", "g", "--json", "--out", str(tmp_path / "table"), env=env).stdout)
    first = shown["cells"][0]
    assert first["label"] == "lr=0.01" and len(first["values"]) == 2
    measured = [read_record(tmp_path / "g" / f"{i:03d}")["metrics"]["best"]["validation"]["accuracy"] for i in (0, 1)]
    assert sorted(first["values"]) == pytest.approx(sorted(measured))
    assert first["mean"] == pytest.approx(sum(measured) / 2) and first["std"] is not None
    assert (tmp_path / "table" / "study.png").stat().st_size > 5_000
    assert (
        "g" in archzoo("study", "list", env=env).stdout
        and "notes-1.7-width-depth" in archzoo("study", "list", env=env).stdout
    )
    # Run again with the same settings: nothing is missing, nothing runs again.
    again = archzoo(*GRID, "--set", "epochs=2", "--grid", "lr=0.01,0.001", "--seeds", "2", "--name", "g", env=env)
    assert "trial 0" not in again.stdout and "4/4 trials done" in again.stdout
    assert sum(t.state == TrialState.COMPLETE for t in trials(tmp_path, "g")) == 4


def test_bad_grids_names_and_storages_are_refused_before_any_trial(env, tmp_path):
    bad = archzoo(*GRID, "--grid", "epochs=2,0", "--name", "bad", env=env, rc=2).stderr
    assert "cell 'epochs=0'" in bad and "'epochs'" in bad and not (tmp_path / "bad").exists()
    assert "KEY=V1,V2" in archzoo(*GRID, "--grid", "lr", "--name", "bad", env=env, rc=2).stderr
    archzoo(*GRID, "--set", "epochs=1", "--grid", "lr=0.01", "--name", "taken", "--quiet", env=env)
    other = archzoo(*GRID, "--set", "epochs=1", "--grid", "lr=0.1", "--name", "taken", env=env, rc=2).stderr
    assert "already exists with other settings" in other
    url = f"sqlite:///{tmp_path}/no/such/folder/studies.db"
    unreachable = archzoo(*GRID, "--grid", "lr=0.01", "--name", "x", "--storage", url, env=env, rc=2).stderr
    assert "cannot open the study storage" in unreachable and "Traceback" not in unreachable
    assert "no study named 'nope'" in archzoo("study", "show", "nope", env=env, rc=2).stderr


def test_a_failed_trial_is_recorded_with_its_error_and_the_study_goes_on(env, tmp_path):
    # Without a validation split the run has no validation accuracy to report.
    done = archzoo(*GRID, "--set", "epochs=1", "--grid", "val_fraction=0.1,0", "--name", "f", env=env)
    assert "2/2 trials done, 1 failed" in done.stdout and "reported no validation.accuracy" in done.stdout
    states = {t.user_attrs["label"]: t.state for t in trials(tmp_path, "f")}
    assert states == {"val_fraction=0.1": TrialState.COMPLETE, "val_fraction=0": TrialState.FAIL}


def test_a_study_killed_midway_runs_only_the_missing_trials_when_started_again(env, tmp_path):
    args = [*GRID, "--set", "epochs=40", "--grid", "lr=0.01,0.003,0.001,0.0003", "--name", "k", "--quiet"]
    process = subprocess.Popen([*ARCHZOO, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while True:
            assert time.monotonic() < deadline and process.poll() is None
            if (tmp_path / "k" / "000").exists():  # the study's tables are made before its first trial
                try:
                    if sum(t.state == TrialState.COMPLETE for t in trials(tmp_path, "k")) >= 2:
                        break
                except KeyError:
                    pass
            time.sleep(0.2)
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    finally:
        process.kill()
    first_two = {i: (tmp_path / "k" / f"{i:03d}" / "run.json").stat().st_mtime_ns for i in (0, 1)}
    archzoo(*args, env=env)
    complete = [t.user_attrs["index"] for t in trials(tmp_path, "k") if t.state == TrialState.COMPLETE]
    assert sorted(complete) == [0, 1, 2, 3]  # each trial complete once
    assert {i: (tmp_path / "k" / f"{i:03d}" / "run.json").stat().st_mtime_ns for i in (0, 1)} == first_two


def test_two_workers_share_one_grid_and_no_trial_runs_twice(env, tmp_path):
    archzoo(*GRID, "--set", "epochs=2", "--grid", "lr=0.02,0.01,0.005,0.002", "--seeds", "2", "--name", "two",
            "--workers", "2", "--quiet", env=env)  # fmt: skip
    done = [t for t in trials(tmp_path, "two") if t.state == TrialState.COMPLETE]
    assert sorted(t.user_attrs["index"] for t in done) == list(range(8))
    assert all(t.state != TrialState.RUNNING and t.state != TrialState.WAITING for t in trials(tmp_path, "two"))
    for index in range(8):
        assert len(read_record(tmp_path / "two" / f"{index:03d}")["lineage"]["sessions"]) == 1


def test_every_shipped_study_plans_every_cell_and_names_its_source():
    from archzoo.studies.spec import shipped_studies

    studies = shipped_studies()
    notes = {
        "1.7-width-depth",
        "2.8-optimizers",
        "3.11-dropout-weight-decay",
        "5.9-rnn-cells",
        "7.9-transformer",
        "9.9-vae",
    }
    assert {f"notes-{n}" for n in notes} | {"workshop-day2-learning-rate"} <= set(studies)
    for spec in studies.values():
        spec.check()  # a bad value in shipped.toml would be refused here, naming the cell
        assert spec.about and set(spec.printed) <= {c.label for c in spec.cells}
    assert studies["notes-2.8-optimizers"].printed["AdamW"] == 0.9801
    assert studies["notes-9.9-vae"].direction == "minimize"  # a reconstruction loss: lower is better
    assert studies["notes-7.9-transformer"].printed["1 head"] == 0.848


def test_a_generator_trial_is_judged_by_the_fid_of_its_samples(store):
    """FID-<dataset> is measured on the trial's own samples (the losses of a GAN say nothing of them)."""
    from archzoo.api import train
    from archzoo.studies.trial import judged

    train("dcgan-fashion", overrides={"max_steps": "2", "batch_size": "16"}, out="gan")
    value = judged(store / "gan", "FID-fashion-mnist")
    assert 0 < value < 10_000
    assert read_record(store / "gan")["metrics"]["last"]["test"]["FID-fashion-mnist"] == value
    assert (
        judged(store / "gan", "validation.g_loss")
        == read_record(store / "gan")["metrics"]["best"]["validation"]["g_loss"]
    )


def test_each_worker_says_where_its_machine_keeps_the_data(env, tmp_path, shared_data):
    """--data-dir is a worker's, not the study's: each machine may keep the data elsewhere."""
    grid = ["study", "run", "--preset", "rnn", "--dataset", "sst2", "--set", "max_steps=2", "--set", "epochs=1",
            "--set", "tokenizer_vocab=200", "--grid", "hidden=8"]  # fmt: skip
    archzoo(*grid, "--name", "far", "--workers", "0", env=env)
    missing = archzoo("study", "work", "far", "--data-dir", str(tmp_path / "no-such-folder"), env=env)
    assert "failed" in missing.stdout and "does not exist" in missing.stdout  # the trial names what is missing
    archzoo(*grid, "--name", "text", "--workers", "0", env=env)
    archzoo("study", "work", "text", "--data-dir", str(shared_data / "sst2"), "--quiet", env=env)
    assert read_record(tmp_path / "text" / "000")["status"] == "finished"
