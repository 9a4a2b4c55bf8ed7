"""The unchanged ``archzoo train`` command under two processes.

``torchrun --nproc_per_node 2`` starts two CPU processes that Accelerate joins
over gloo; the training batches are sharded between them, gradients are
averaged, and only the main process writes checkpoints and prints progress.
(``accelerate launch --num_processes 2 --cpu`` wants MPI for multi-CPU runs and
starts a single process on these machines, hence torchrun.)
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TORCHRUN = shutil.which("torchrun", path=str(Path(sys.executable).parent)) or shutil.which("torchrun")


@pytest.mark.skipif(TORCHRUN is None, reason="torchrun is installed with torch")
def test_two_processes_shard_the_data_and_write_one_checkpoint(tmp_path):
    env = {**os.environ, "ARCHZOO_CHECKPOINTS": str(tmp_path), "OMP_NUM_THREADS": "1"}
    command = [
        TORCHRUN, "--standalone", "--nproc_per_node", "2", "-m", "archzoo.cli",
        "train", "mlp", "--dataset", "digits", "--set", "epochs=3", "--set", "batch_size=32",
        "--out", "ddp", "--quiet",
    ]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output

    # Printed once, by the main process only.
    assert output.count("finished in") == 1, output
    meta = json.loads((tmp_path / "ddp" / "best" / "config.json").read_text())
    assert meta["metrics"]["test"]["accuracy"] > 0.8, (meta["metrics"], output)

    # One run folder with exactly best/ and last/, no leftovers from a second writer.
    assert sorted(p.name for p in (tmp_path / "ddp").iterdir()) == ["best", "last"], output

    # Each process saw half of the training set per step count: ceil(1294 / (32 * 2)) steps per epoch.
    state = json.loads((tmp_path / "ddp" / "last" / "training_state.json").read_text())
    train_size = 1294
    assert state["loop"]["global_step"] == 3 * math.ceil(train_size / (32 * 2)), (state["loop"], output)


def test_the_same_run_on_one_process_takes_twice_the_steps(tmp_path):
    env = {**os.environ, "ARCHZOO_CHECKPOINTS": str(tmp_path)}
    command = [sys.executable, "-m", "archzoo.cli", "train", "mlp", "--set", "epochs=1", "--set", "batch_size=32", "--out", "one", "--quiet"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    state = json.loads((tmp_path / "one" / "last" / "training_state.json").read_text())
    assert state["loop"]["global_step"] == math.ceil(1294 / 32)


@pytest.mark.skipif(TORCHRUN is None, reason="torchrun is installed with torch")
def test_a_one_process_architecture_is_refused_by_name_under_two_processes(tmp_path):
    """The DCGAN steps its two networks separately, which DDP around the whole model
    cannot synchronise: the run stops at once with a message, not deep inside PyTorch."""
    env = {**os.environ, "ARCHZOO_CHECKPOINTS": str(tmp_path), "OMP_NUM_THREADS": "1"}
    command = [
        TORCHRUN, "--standalone", "--nproc_per_node", "2", "-m", "archzoo.cli",
        "train", "dcgan", "--dataset", "fashion-mnist", "--set", "max_steps=2", "--out", "gan", "--quiet",
    ]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "architecture 'dcgan' trains in one process only" in output and "this run has 2" in output, output
    assert "Expected to have finished reduction" not in output
    assert not (tmp_path / "gan").exists() or not any((tmp_path / "gan").rglob("model.safetensors"))
