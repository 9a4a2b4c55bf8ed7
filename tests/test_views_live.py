"""Live views: what a run keeps of its model each epoch (archzoo.inference.views.live), on real runs."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from archzoo import CheckpointError, api
from archzoo.checkpoints.io import load
from archzoo.inference.views import ViewError, live
from archzoo.inference.views.boundary import grid_probabilities
from archzoo.registry.host import get_host
from archzoo.runs.record import read_events


@pytest.fixture(autouse=True)
def store(store, one_thread):
    """The shared empty store (conftest), trained in on one thread."""
    return store


def test_the_boundary_is_kept_every_epoch_without_changing_what_training_computes(store, monkeypatch):
    monkeypatch.setattr(live, "BUDGET", 1.0)  # a loaded machine may otherwise skip epochs by design
    kept = api.train("logistic-moons", overrides={"epochs": 4}, out="watched")
    plain = api.train("logistic-moons", overrides={"epochs": 4}, out="plain", watch=None)
    assert kept.history == [{**h, "seconds": k["seconds"]} for h, k in zip(plain.history, kept.history)]
    assert live.kept(store / "watched") == {"boundary": [1, 2, 3, 4]} and live.kept(store / "plain") == {}
    saved = [e for e in read_events(store / "watched") if type(e).__name__ == "ViewSaved"]
    assert [(e.view, e.epoch) for e in saved] == [("boundary", e) for e in (1, 2, 3, 4)]
    # the last epoch's numbers are the final model's predictions on the grid
    view = live.draw(store / "watched")
    loaded = load(store / "watched" / "last")
    again = grid_probabilities(loaded, view.data["x"], view.data["y"], get_host())
    assert view.data["epoch"] == 4 and np.abs(view.data["probabilities"] - again).max() < 2e-3
    image = Image.open(io.BytesIO(view.png))
    assert image.format == "PNG" and image.width >= 400


def test_a_watch_over_its_budget_keeps_the_first_and_last_epochs_only(store, monkeypatch):
    monkeypatch.setattr(live, "BUDGET", 0.0)
    api.train("logistic-moons", overrides={"epochs": 5}, out="thrifty")
    assert live.kept(store / "thrifty") == {"boundary": [1, 5]}
    with pytest.raises(ViewError, match=r"epoch 3 of 'boundary' was not kept; kept epochs: 1, 5"):
        live.draw(store / "thrifty", "boundary", 3)
    with pytest.raises(ViewError, match="keeps no live 'samples' view; it keeps: boundary"):
        live.draw(store / "thrifty", "samples")


def test_a_point_generator_keeps_its_samples_and_an_image_generator_a_strip(store, monkeypatch):
    monkeypatch.setattr(live, "BUDGET", 1.0)
    api.train("ddpm-spirals", overrides={"epochs": 2}, out="points")
    view = live.draw(store / "points")
    assert view.name == "samples" and view.data["samples"].shape == (live.POINTS, 2)
    api.train("vae", dataset="digits", overrides={"epochs": 3}, out="images")
    strip = live.draw(store / "images", "samples")
    assert strip.data["shown"] == [1, 2, 3]
    first = live.draw(store / "images", "samples", 1)
    assert (
        first.data["shown"] == [1]
        and Image.open(io.BytesIO(first.png)).height < Image.open(io.BytesIO(strip.png)).height
    )


def test_a_run_of_no_live_view_keeps_nothing_and_says_so(store):
    api.train("mlp", dataset="digits", overrides={"epochs": 1}, out="digits")
    assert not (store / "digits" / "views").exists()
    with pytest.raises(ViewError, match="keeps no live views"):
        live.draw(store / "digits")


def test_a_folder_of_the_users_called_views_is_never_written_into_and_overwrite_retires_the_old_views(store):
    mine = store / "mine"
    (mine / "views").mkdir(parents=True)
    (mine / "views" / "holiday.jpg").write_bytes(b"not archzoo's")
    with pytest.raises(CheckpointError, match="not archzoo's live views folder"):
        api.train("logistic-moons", overrides={"epochs": 1}, out=str(mine))
    assert (mine / "views" / "holiday.jpg").read_bytes() == b"not archzoo's"
    api.train("logistic-moons", overrides={"epochs": 3}, out="again")
    api.train("logistic-moons", overrides={"epochs": 1}, out="again", overwrite=True)
    assert live.kept(store / "again") == {"boundary": [1]}  # none of the replaced run's epochs are left


def test_archzoo_show_epoch_writes_the_picture_a_run_kept(store, tmp_path):
    import os
    import subprocess
    import sys

    api.train("logistic-moons", overrides={"epochs": 2}, out="shown")
    out = tmp_path / "pictures"
    command = [sys.executable, "-m", "archzoo.cli", "show", "shown", "boundary", "--epoch", "1", "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    assert Image.open(out / "boundary.png").format == "PNG"
    assert '"epoch": 1' in (out / "boundary.json").read_text()
    command[7] = "9"
    refused = subprocess.run(command, capture_output=True, text=True)
    assert refused.returncode != 0 and "epoch 9 of 'boundary' was not kept; kept epochs: 1-2" in refused.stderr


def test_the_apps_drawing_process_draws_the_picture_a_run_kept(store, monkeypatch):
    """ui.live_drawing draws in another process: the same PNG as drawn here, and an epoch
    that was not kept comes back as the same ViewError; a drawer shut down starts again."""
    from archzoo.ui.live_drawing import Drawer

    monkeypatch.setattr(live, "BUDGET", 1.0)
    api.train("logistic-moons", overrides={"epochs": 2}, out="drawn")
    drawer = Drawer()
    try:
        assert drawer.draw(store / "drawn", "boundary", 2) == live.draw(store / "drawn", "boundary", 2).png
        with pytest.raises(ViewError, match="epoch 7 of 'boundary' was not kept; kept epochs: 1-2"):
            drawer.draw(store / "drawn", "boundary", 7)
        drawer.shutdown()
        assert Image.open(io.BytesIO(drawer.draw(store / "drawn", "boundary", 1))).format == "PNG"
    finally:
        drawer.shutdown()
