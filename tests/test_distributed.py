"""The unchanged ``archzoo train`` command under two processes.

``torchrun --nproc_per_node 2`` starts two CPU processes that Accelerate joins
over gloo; the training batches are sharded between them, gradients are
averaged, and only the main process writes checkpoints and prints progress.
A GAN, whose step DistributedDataParallel cannot wrap, is synchronised by hand.
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

from archzoo.runs.record import read_record

TORCHRUN = shutil.which("torchrun", path=str(Path(sys.executable).parent)) or shutil.which("torchrun")


@pytest.mark.skipif(TORCHRUN is None, reason="torchrun is installed with torch")
def test_two_processes_shard_the_data_and_write_one_checkpoint(tmp_path):
    env = {**os.environ, "ARCHZOO_CHECKPOINTS": str(tmp_path), "OMP_NUM_THREADS": "1"}
    command = [
        TORCHRUN,
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "archzoo.cli",
        "train",
        "mlp",
        "--dataset",
        "digits",
        "--set",
        "epochs=3",
        "--set",
        "batch_size=32",
        "--out",
        "ddp",
        "--quiet",
    ]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output

    # Printed once, by the main process only.
    assert output.count("finished in") == 1, output
    meta = json.loads((tmp_path / "ddp" / "best" / "config.json").read_text())
    assert meta["metrics"]["test"]["accuracy"] > 0.8, (meta["metrics"], output)

    # One run folder with exactly best/ and last/, no leftovers from a second writer.
    assert sorted(p.name for p in (tmp_path / "ddp").iterdir()) == [".lock", "best", "events.jsonl", "last", "run.json"]
    record = read_record(tmp_path / "ddp")  # one record, written by the first process only
    assert record["status"] == "finished" and record["environment"]["processes"] == 2, output

    # Each process saw half of the training set per step count: ceil(1294 / (32 * 2)) steps per epoch.
    state = json.loads((tmp_path / "ddp" / "last" / "training_state.json").read_text())
    train_size = 1294
    assert state["loop"]["global_step"] == 3 * math.ceil(train_size / (32 * 2)), (state["loop"], output)


def test_the_same_run_on_one_process_takes_twice_the_steps(tmp_path):
    env = {**os.environ, "ARCHZOO_CHECKPOINTS": str(tmp_path)}
    command = [
        sys.executable,
        "-m",
        "archzoo.cli",
        "train",
        "mlp",
        "--set",
        "epochs=1",
        "--set",
        "batch_size=32",
        "--out",
        "one",
        "--quiet",
    ]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    state = json.loads((tmp_path / "one" / "last" / "training_state.json").read_text())
    assert state["loop"]["global_step"] == math.ceil(1294 / 32)


# Run under torchrun by the test below: trains a DCGAN for a few steps; each
# process notes a digest of its own copy of the model when training ends (before
# the run reloads the best checkpoint for testing, which every process reads from
# the same file) and a draw from its random stream.  The wrapper around
# Trainer._finish only looks; it changes nothing.
GAN_PROBE = """
import hashlib, json, os, sys
import torch
from archzoo.api import train
from archzoo.training.trainer import Trainer

seen = {}
finish = Trainer._finish
def look_then_finish(self, *args, **kwargs):
    digest = hashlib.sha256()
    for tensor in [*self.model.parameters(), *self.model.buffers()]:
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    seen.update(wrapped=hasattr(self.model, "module"), digest=digest.hexdigest(), draw=torch.rand(4).tolist())
    return finish(self, *args, **kwargs)
Trainer._finish = look_then_finish

result = train("dcgan", dataset="fashion-mnist", overrides={"max_steps": "3", "batch_size": "32"}, out="gan")
rank = os.environ["RANK"]
report = {**seen, "status": result.status}
open(os.path.join(sys.argv[1], f"rank{rank}.json"), "w").write(json.dumps(report))
"""


@pytest.mark.skipif(TORCHRUN is None, reason="torchrun is installed with torch")
def test_a_gan_trains_on_two_processes_with_one_model(tmp_path):
    """The DCGAN runs its networks and optimizers separately, which one
    DistributedDataParallel wrapper cannot synchronise; the trainer leaves it
    unwrapped and synchronises it by hand.  The processes train on different
    shards, so only real synchronisation leaves their models bit-identical,
    and each draws its own noise."""
    probe = tmp_path / "probe.py"
    probe.write_text(GAN_PROBE)
    env = {**os.environ, "ARCHZOO_CHECKPOINTS": str(tmp_path), "OMP_NUM_THREADS": "1"}
    command = [TORCHRUN, "--standalone", "--nproc_per_node", "2", str(probe), str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output

    first, second = (json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1))
    assert first["status"] == second["status"] == "finished", output
    assert not first["wrapped"] and not second["wrapped"]
    assert first["digest"] == second["digest"]  # weights and BatchNorm statistics agree
    assert first["draw"] != second["draw"]  # but the random streams do not
    state = json.loads((tmp_path / "gan" / "last" / "training_state.json").read_text())
    assert state["loop"]["global_step"] == 3
    meta = json.loads((tmp_path / "gan" / "last" / "config.json").read_text())
    assert 0.0 < meta["metrics"]["validation"]["d_real"] < 1.0, meta["metrics"]
    kept = sorted(p.name for p in (tmp_path / "gan").iterdir())
    assert kept == [".lock", "best", "events.jsonl", "last", "run.json", "views"]
    # the main process alone keeps the live samples, once per epoch
    views = sorted(p.name for p in (tmp_path / "gan" / "views").iterdir())
    assert views == ["samples-epoch-0001.safetensors", "samples.json"]
