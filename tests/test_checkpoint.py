"""Loading checkpoints safely: every way a checkpoint can be wrong gives one
clear error, and nothing on disk is changed by a failed load."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file

import archzoo
from archzoo.checkpoints.locate import output_dir, resolve_checkpoint
from archzoo.files import sha256_file


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One small MLP trained on digits, copied fresh for each test that edits it."""
    from archzoo.api import train
    from archzoo.registry.host import Host
    from archzoo.registry.settings import load_settings

    store = tmp_path_factory.mktemp("store")
    host = Host(settings=load_settings())
    result = train("mlp", overrides={"epochs": "2"}, out=str(store / "run"), host=host)
    return result.best_dir


@pytest.fixture
def ckpt(trained, tmp_path):
    copy = tmp_path / "ckpt"
    shutil.copytree(trained, copy)
    return copy


def test_load_gives_a_model_with_the_same_outputs(ckpt):
    loaded = archzoo.load(ckpt)
    assert loaded.spec.name == "mlp" and loaded.info.name == "digits"
    state = load_file(ckpt / "model.safetensors")
    for name, tensor in loaded.model.state_dict().items():
        assert torch.equal(tensor, state[name])


def test_a_truncated_weights_file_is_refused_by_its_hash(ckpt):
    data = (ckpt / "model.safetensors").read_bytes()
    (ckpt / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(archzoo.CheckpointError, match="does not match the sha256.*truncated or edited"):
        archzoo.load(ckpt)


def test_a_truncated_file_with_a_matching_hash_is_still_refused(ckpt):
    data = (ckpt / "model.safetensors").read_bytes()
    (ckpt / "model.safetensors").write_bytes(data[:100])
    meta = json.loads((ckpt / "config.json").read_text())
    meta["weights_sha256"] = sha256_file(ckpt / "model.safetensors")
    (ckpt / "config.json").write_text(json.dumps(meta))
    with pytest.raises(archzoo.CheckpointError, match="cannot be read as safetensors"):
        archzoo.load(ckpt)


def test_weights_of_the_wrong_shape_are_named(ckpt):
    state = load_file(ckpt / "model.safetensors")
    first = next(iter(state))
    state[first] = torch.zeros(3, 3)
    save_file(state, ckpt / "model.safetensors")
    meta = json.loads((ckpt / "config.json").read_text())
    meta["weights_sha256"] = sha256_file(ckpt / "model.safetensors")
    (ckpt / "config.json").write_text(json.dumps(meta))
    with pytest.raises(archzoo.CheckpointError, match=f"wrong shapes {first}: expected"):
        archzoo.load(ckpt)


def test_a_hand_edited_config_that_is_not_json_is_refused(ckpt):
    (ckpt / "config.json").write_text('{"format": "archzoo-checkpoint", ')
    with pytest.raises(archzoo.CheckpointError, match="not valid JSON"):
        archzoo.load(ckpt)


def test_a_config_value_out_of_bounds_names_the_field(ckpt):
    meta = json.loads((ckpt / "config.json").read_text())
    meta["config"]["dropout"] = 7
    (ckpt / "config.json").write_text(json.dumps(meta))
    with pytest.raises(archzoo.ConfigError, match="'dropout'"):
        archzoo.load(ckpt)


def test_an_architecture_that_is_not_installed_says_what_to_install(ckpt):
    meta = json.loads((ckpt / "config.json").read_text())
    meta["architecture"] = "capsule-net"
    meta["plugin"] = {"name": "capsules", "distribution": "archzoo-capsules", "version": "1.0"}
    (ckpt / "config.json").write_text(json.dumps(meta))
    with pytest.raises(archzoo.PluginMissingError, match="install archzoo-capsules"):
        archzoo.load(ckpt)


def test_a_folder_that_is_not_a_checkpoint(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(archzoo.CheckpointError, match="not an archzoo checkpoint"):
        archzoo.load(tmp_path)
    with pytest.raises(archzoo.CheckpointError, match="no checkpoint at"):
        archzoo.load(tmp_path / "missing")


def test_a_run_folder_resolves_to_its_best_checkpoint(trained):
    assert resolve_checkpoint(trained.parent) == trained


def test_output_names_cannot_climb_out_of_the_store(tmp_path):
    store = tmp_path / "store"
    assert output_dir("runs/a", store) == store / "runs" / "a"
    with pytest.raises(archzoo.ArchzooError, match="outside the checkpoint store"):
        output_dir("../elsewhere", store)
    with pytest.raises(archzoo.ArchzooError, match="outside the checkpoint store"):
        output_dir("runs/../../elsewhere", store)


def test_writes_are_atomic_and_leave_no_temporary_folders(ckpt):
    from archzoo.checkpoints.io import write_checkpoint
    from archzoo.checkpoints.meta import read_meta

    loaded = archzoo.load(ckpt)
    meta = {k: v for k, v in read_meta(ckpt).items() if k != "weights_sha256"}
    write_checkpoint(ckpt, loaded.model, meta)
    write_checkpoint(ckpt, loaded.model, meta)
    assert sorted(p.name for p in ckpt.parent.iterdir()) == ["ckpt"]
    assert archzoo.load(ckpt).meta["weights_sha256"] == sha256_file(ckpt / "model.safetensors")
