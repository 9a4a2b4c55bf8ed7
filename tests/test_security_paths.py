"""Security, class 2: one path policy for everything a browser user (or someone's checkpoint) names.

The app (build_app) sets the host's policy: datasets, data folders and checkpoints
in the store or the operator's data roots, runs and merges in the store.  The tests
go through the app's own objects (its run queue, its tabs' functions) with real
files; a refusal must not show what is on the disk.
"""

from __future__ import annotations

import json
import shutil

import pytest

from archzoo.registry.paths import PathRefused

FAST = {"epochs": "1", "batch_size": "256"}


@pytest.fixture
def app(store, tmp_path, monkeypatch):
    """The app's context, with one data root the operator allowed."""
    from archzoo.registry.host import reset_host
    from archzoo.registry.settings import SHIPPED
    from archzoo.ui.app import build_app

    allowed = tmp_path / "class-data"
    allowed.mkdir()
    registry = tmp_path / "registry.toml"
    registry.write_text(SHIPPED.read_text().replace("data_roots = []", f"data_roots = [{json.dumps(str(allowed))}]"))
    monkeypatch.setenv("ARCHZOO_REGISTRY", str(registry))
    reset_host()
    built = build_app()
    yield built.archzoo, allowed
    built.archzoo.runs.shutdown()
    reset_host()


@pytest.fixture
def server_secrets(tmp_path):
    """Files of the server's that no browser user may read: a table, and a folder of folders."""
    secret = tmp_path / "private"
    (secret / "salaries" / "2026").mkdir(parents=True)
    (secret / "grades.csv").write_text("text,label\n" + "".join(f"student {i},grade-{i % 3}\n" for i in range(60)))
    return secret


def test_a_dataset_path_outside_the_store_and_data_roots_is_refused_without_listing_it(app, server_secrets):
    ctx, _ = app
    for dataset in (str(server_secrets / "grades.csv"), str(server_secrets), "/etc/passwd", "../../private"):
        with pytest.raises(PathRefused, match="outside the folders this app may read") as refused:
            ctx.runs.submit("rnn", dataset=dataset, overrides=FAST)
        assert "salaries" not in str(refused.value) and "grade-1" not in str(refused.value)
    with pytest.raises(PathRefused, match="data folder '/' is outside"):
        ctx.runs.submit("mlp", dataset="fashion-mnist", data_dir="/", overrides=FAST)
    assert not ctx.runs.rows()  # nothing was queued


def test_a_run_name_may_not_write_outside_the_store(app, tmp_path):
    ctx, _ = app
    with pytest.raises(PathRefused, match="run name .* is outside the checkpoint store"):
        ctx.runs.submit("mlp", dataset="digits", overrides=FAST, out=str(tmp_path / "elsewhere"))
    with pytest.raises(Exception, match="outside the checkpoint store"):
        ctx.runs.submit("mlp", dataset="digits", overrides=FAST, out="../../elsewhere")
    assert not (tmp_path / "elsewhere").exists()


def test_a_path_inside_a_data_root_is_allowed(app):
    from archzoo.training.queue import RunRequest, confine_request

    ctx, allowed = app
    (allowed / "reviews.csv").write_text("text,label\ngood,1\n")
    confine_request(RunRequest(name="rnn", dataset=str(allowed / "reviews.csv"), data_dir=str(allowed)), ctx.host)


def test_a_merge_destination_outside_the_store_is_refused(app, tmp_path):
    from archzoo.ui import checkpoints_tab

    ctx, _ = app
    message = checkpoints_tab.merge(ctx, str(ctx.host.settings.checkpoint_dir / "run" / "best"), str(tmp_path / "x"))
    assert "merge destination" in message and "outside the checkpoint store" in message
    assert not (tmp_path / "x").exists()


def test_a_checkpoint_outside_the_store_is_not_opened_from_the_app(app, tmp_path):
    from archzoo.api import train
    from archzoo.ui import checkpoints_tab

    ctx, _ = app
    ctx.host.paths = None  # trained by the operator on the command line, outside the store
    best = train("mlp", dataset="digits", overrides=FAST, out=str(tmp_path / "outside")).best_dir
    from archzoo.registry.paths import PathPolicy

    ctx.host.paths = PathPolicy.for_app(ctx.host.settings)
    assert "outside the folders this app may read" in checkpoints_tab.card(ctx, str(best))


def _checkpoint_recording(store, recorded: str):
    from archzoo.api import train

    best = train("mlp", dataset="digits", overrides=FAST, out=str(store / "recorded")).best_dir
    meta = json.loads((best / "config.json").read_text())
    meta["dataset"]["name"] = recorded
    (best / "config.json").write_text(json.dumps(meta))
    return best


def test_a_recorded_dataset_path_is_not_read_by_the_app(app, server_secrets):
    from archzoo.api import evaluate_checkpoint

    ctx, _ = app
    ctx.host.paths, policy = None, ctx.host.paths
    best = _checkpoint_recording(ctx.host.settings.checkpoint_dir, str(server_secrets / "grades.csv"))
    ctx.host.paths = policy
    with pytest.raises(PathRefused, match="the checkpoint's recorded dataset .* is outside"):
        evaluate_checkpoint(best, host=ctx.host)


def test_a_downloaded_checkpoint_does_not_choose_which_file_the_cli_reads(store, server_secrets, tmp_path, monkeypatch):
    from huggingface_hub import constants

    from archzoo.api import evaluate_checkpoint

    best = _checkpoint_recording(store, str(server_secrets / "grades.csv"))
    cache = tmp_path / "hf-cache"
    snapshot = cache / "models--alice--x" / "snapshots" / ("0" * 40)
    shutil.copytree(best, snapshot)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    with pytest.raises(PathRefused, match="came from the Hub and records its dataset as the path"):
        evaluate_checkpoint(snapshot)


def test_the_app_pushes_no_checkpoint_from_outside_the_store(app, tmp_path):
    from archzoo.api import train
    from archzoo.ui import checkpoints_tab

    ctx, _ = app
    ctx.host.paths, policy = None, ctx.host.paths
    best = train("mlp", dataset="digits", overrides=FAST, out=str(tmp_path / "operators-own")).best_dir
    ctx.host.paths = policy
    # Refused before any request: no Hub is running here, and none is needed.
    message = checkpoints_tab.push(ctx, str(best), "student/exfiltrated", False, "hf_student")
    assert "outside the folders this app may read" in message


def test_a_study_reads_its_data_folder_only_inside_the_data_roots(app, tmp_path):
    """The Studies tab's data folder goes to every trial, under the same policy as the Train tab's."""
    import optuna

    from archzoo.ui import studies_tab
    from archzoo.ui.study_view import PlotCache

    ctx, allowed = app
    grid = ("mlp", "mnist", "lr", "0.01", None, "", None, "", 1, "epochs=1", "mnist-folder")

    answer = studies_tab.start(ctx, PlotCache(str(tmp_path)), studies_tab.GRID, None, *grid, "/etc")[0]
    assert "outside the folders this app may read" in answer and ctx.studies.running() is None

    folder = allowed / "mnist-files"  # inside the data root, and holding no MNIST
    answer = studies_tab.start(ctx, PlotCache(str(tmp_path)), studies_tab.GRID, None, *grid, str(folder))[0]
    assert "Started study mnist-folder" in answer
    ctx.studies._thread.join(120)
    assert "1 failed" in ctx.studies.outcome.text
    (trial,) = optuna.load_study(study_name="mnist-folder", storage=ctx.studies.storage()).get_trials()
    assert f"data folder {folder} does not exist" in trial.user_attrs["error"]  # the trial read that folder
