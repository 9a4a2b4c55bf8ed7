"""Security, class 3: nothing of the user's is replaced, and a replaced run goes as a whole.

One rule (archzoo.checkpoints.replace): only archzoo's own checkpoints are
replaced, only with --overwrite; one writer per run folder (its lock); a swap a
kill interrupted is put right on the next start.  Real training runs (a tiny MLP
on scikit-learn's digits), real files, real locks.
"""

from __future__ import annotations

import os
import threading

import pytest

from archzoo.api import train
from archzoo.errors import ArchzooError, CheckpointError
from archzoo.files import sha256_file
from archzoo.runs.lock import RunBusyError, RunLock

FAST = {"epochs": "1", "batch_size": "256"}


def _user_folders(root):
    """A run folder whose best/ and last/ are the user's own folders, not checkpoints."""
    for name in ("best", "last"):
        (root / name).mkdir(parents=True)
        (root / name / "thesis.txt").write_text(f"my {name} work\n")
    return root


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_user_folder_named_best_or_last_is_never_replaced(store, overwrite):
    out = _user_folders(store / "mine")
    with pytest.raises(CheckpointError, match="not an archzoo checkpoint.*left as it is"):
        train("mlp", dataset="digits", overrides=FAST, out="mine", overwrite=overwrite)
    assert (out / "best" / "thesis.txt").read_text() == "my best work\n"
    assert (out / "last" / "thesis.txt").read_text() == "my last work\n"


def test_a_file_or_a_foreign_record_as_output_is_refused(store):
    (store / "afile").write_text("keep me")
    with pytest.raises(CheckpointError, match="file or a link"):
        train("mlp", dataset="digits", overrides=FAST, out="afile", overwrite=True)
    assert (store / "afile").read_text() == "keep me"
    (store / "notes").mkdir()
    (store / "notes" / "run.json").write_text('{"my": "data"}')
    with pytest.raises(CheckpointError, match="not an archzoo run record"):
        train("mlp", dataset="digits", overrides=FAST, out="notes", overwrite=True)
    assert (store / "notes" / "run.json").read_text() == '{"my": "data"}'


def test_a_checkpoint_is_replaced_only_with_overwrite(store):
    first = train("mlp", dataset="digits", overrides=FAST, out="run")
    before = sha256_file(first.best_dir / "model.safetensors")
    with pytest.raises(ArchzooError, match="already holds a checkpoint; pass --overwrite"):
        train("mlp", dataset="digits", overrides={**FAST, "seed": "5"}, out="run")
    assert sha256_file(first.best_dir / "model.safetensors") == before


def test_a_second_training_into_a_busy_folder_is_refused_before_any_work(store):
    first = train("mlp", dataset="digits", overrides=FAST, out="busy")
    before = sha256_file(first.best_dir / "model.safetensors")
    # The lock a live training holds (a flock on RUN/.lock, as another process would hold it).
    with RunLock(store / "busy"), pytest.raises(RunBusyError, match="in use by another archzoo process"):
        train("mlp", dataset="digits", overrides=FAST, out="busy", overwrite=True)
    assert sha256_file(first.best_dir / "model.safetensors") == before


def test_overwrite_interrupted_in_its_first_epoch_leaves_no_old_best_beside_the_new_last(store):
    train("mlp", dataset="digits", overrides=FAST, out="over")
    stop = threading.Event()
    stop.set()  # the new run is stopped at its first step, before it has a best checkpoint
    result = train("mlp", dataset="digits", overrides={**FAST, "seed": "9"}, out="over", overwrite=True, stop=stop)
    assert result.status == "cancelled"
    assert not (store / "over" / "best").exists(), "the replaced run's best survived beside the new run"
    assert (store / "over" / "last" / "config.json").is_file()


def test_a_kill_between_the_two_renames_of_a_swap_is_recovered_on_the_next_start(store):
    run = store / "swap"
    train("mlp", dataset="digits", overrides=FAST, out="swap")
    weights = sha256_file(run / "last" / "model.safetensors")
    # What a SIGKILL between os.replace(dest, retired) and os.replace(staging, dest) leaves:
    os.replace(run / "last", run / ".last.old")
    (run / ".last.x1y2.tmp").mkdir()
    (run / ".last.x1y2.tmp" / "model.safetensors").write_bytes(b"half a file")
    result = train(out="swap", resume=True, overrides={"epochs": "2"})
    assert result.status == "finished"
    assert sorted(p.name for p in run.iterdir() if p.name.startswith(".last")) == []
    assert sha256_file(run / "last" / "model.safetensors") != weights  # it trained on from the recovered last


def test_write_checkpoint_itself_refuses_a_folder_that_is_not_a_checkpoint(tmp_path):
    import torch

    from archzoo.checkpoints.io import write_checkpoint

    (tmp_path / "dest").mkdir()
    (tmp_path / "dest" / "photo.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(CheckpointError, match="archzoo replaces only its own checkpoints"):
        write_checkpoint(tmp_path / "dest", torch.nn.Linear(2, 2), {"format": "archzoo-checkpoint"})
    assert (tmp_path / "dest" / "photo.jpg").read_bytes() == b"\xff\xd8"
