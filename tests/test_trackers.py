"""--log-with: the run's metrics also go to an external tracker through Accelerate.

A real run through the real ``archzoo`` command, read back with TensorBoard's
own event reader; the numbers must be the run record's.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

from archzoo.runs import events
from archzoo.runs.record import read_events, read_record
from archzoo.training.trackers import NEEDS, flat_settings

ARCHZOO = [sys.executable, "-m", "archzoo.cli"]


def archzoo(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([*ARCHZOO, *args], capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture
def env(tmp_path):
    return {**os.environ, "ARCHZOO_CHECKPOINTS": str(tmp_path), "OMP_NUM_THREADS": "1"}


def scalars(folder) -> dict[str, list[tuple[int, float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    found: dict[str, list[tuple[int, float]]] = {}
    for events_file in sorted(folder.rglob("events.out.tfevents.*")):
        reader = EventAccumulator(str(events_file), size_guidance={"scalars": 0})
        reader.Reload()
        for tag in reader.Tags()["scalars"]:
            found.setdefault(tag, []).extend((e.step, e.value) for e in reader.Scalars(tag))
    return found


def test_tensorboard_event_files_hold_the_numbers_of_the_run_record(env, tmp_path):
    done = archzoo(
        "train", "mlp", "--set", "epochs=2", "--set", "batch_size=256", "--log-with", "tensorboard", "--out", "tb",
        "--quiet", env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    run = tmp_path / "tb"
    assert read_record(run)["train"]["log_with"] == "tensorboard"
    seen = scalars(run / "trackers")
    epochs = [e for e in read_events(run) if isinstance(e, events.EpochEnded)]
    assert [int(v) for _, v in seen["epoch"]] == [1, 2]
    for epoch in epochs:
        for split, metrics in (("train", epoch.train_metrics), ("validation", epoch.val_metrics)):
            for key, value in metrics.items():
                assert (epoch.global_step, pytest.approx(value, rel=1e-6)) in seen[f"{split}/{key}"], (split, key)
    step_losses = [(s, pytest.approx(v, rel=1e-6)) for e in epochs for s, v in e.step_losses]
    assert seen["train/step_loss"] == step_losses and len(step_losses) == 12  # 1,437 digits at 256 a step, 2 epochs
    test = read_record(run)["metrics"]["best"]["test"]
    assert seen["test/accuracy"] == [(epochs[-1].global_step, pytest.approx(test["accuracy"], rel=1e-6))]

    # A resumed run continues the same step axis in the same folder.
    more = archzoo("train", "--out", "tb", "--resume", "--set", "epochs=3", "--quiet", env=env)
    assert more.returncode == 0, more.stderr
    assert [(s, int(v)) for s, v in scalars(run / "trackers")["epoch"]] == [(6, 1), (12, 2), (18, 3)]


def test_a_tracker_that_is_not_installed_names_the_extra_before_anything_runs(env, tmp_path):
    missing = [name for name, module in NEEDS.items() if importlib.util.find_spec(module) is None]
    if not missing:
        pytest.skip("every tracker is installed here: none to miss")
    done = archzoo("train", "mlp", "--log-with", missing[0], "--out", "nope", env=env)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert f"pip install 'archzoo[{missing[0]}]'" in done.stderr
    assert not (tmp_path / "nope").exists()


def test_settings_are_flattened_to_scalars_trackers_accept():
    assert flat_settings({"model": {"hidden": [256, 128], "dropout": 0.1}, "name": None, "ok": True}) == {
        "model.hidden": "[256, 128]",
        "model.dropout": 0.1,
        "name": "",
        "ok": True,
    }
