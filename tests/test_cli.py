"""The ``archzoo`` command as a user runs it: a real subprocess each time."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ARCHZOO = [sys.executable, "-m", "archzoo.cli"]


def run(*args: str, env: dict | None = None, check_rc: int | None = 0) -> subprocess.CompletedProcess:
    result = subprocess.run([*ARCHZOO, *args], capture_output=True, text=True, env=env, timeout=300)
    if check_rc is not None:
        assert result.returncode == check_rc, (
            f"rc {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )
    return result


@pytest.fixture
def env(tmp_path):
    return {**os.environ, "ARCHZOO_CHECKPOINTS": str(tmp_path / "store")}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A CLI-trained MLP on digits, shared by the read-only tests."""
    store = tmp_path_factory.mktemp("store")
    env = {**os.environ, "ARCHZOO_CHECKPOINTS": str(store)}
    result = run("train", "mlp", "--set", "epochs=8", "--set", "lr=3e-3", "--out", "digits-run", "--quiet", env=env)
    assert "finished" in result.stdout and "test:" in result.stdout
    return store / "digits-run"


@pytest.mark.parametrize("args", [["--help"], ["list"], ["list", "--json"]])
def test_help_and_list_never_import_torch(args):
    code = (
        "import sys; from archzoo.cli import main; main(sys.argv[1:]); sys.stdout.flush(); "
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    assert result.returncode in (0,), result.stderr
    if args == ["list"]:
        assert "mlp" in result.stdout and "cnn" in result.stdout and "digits" in result.stdout
    if args == ["--help"]:
        assert "train" in result.stdout and "predict" in result.stdout


def test_list_shows_parameters_and_plugin_versions():
    out = json.loads(run("list", "--json").stdout)
    mlp = next(a for a in out["architectures"] if a["name"] == "mlp")
    assert mlp["parameters"] == 19210 and mlp["distribution"] == "archzoo" and mlp["version"]
    assert {p["name"] for p in out["presets"]} >= {"mlp-fashion-deep", "cnn-notes"}


def test_list_shows_a_broken_third_party_plugin_and_keeps_working(tmp_path):
    dist = tmp_path / "archzoo_broken-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: archzoo-broken\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[archzoo]\nbroken = archzoo_broken_module\n")
    (tmp_path / "archzoo_broken_module.py").write_text("raise ImportError('needs libfoo')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = run("list", env=env)
    assert "BROKEN PLUGIN" in result.stdout and "needs libfoo" in result.stdout and "archzoo-broken" in result.stdout
    assert "mlp" in result.stdout
    assert "broken" in result.stderr and "failed to load" in result.stderr


def test_info_describes_fields_recipe_and_size():
    result = run("info", "mlp-fashion-deep")
    assert "235,146" in result.stdout and "hidden" in result.stdout and "[256, 128]" in result.stdout
    assert "lr" in result.stdout and "recipe" in result.stdout


def test_train_eval_predict_from_the_command_line(run_dir, tmp_path):
    env = {**os.environ, "ARCHZOO_CHECKPOINTS": str(run_dir.parent)}
    metrics = json.loads(run("eval", "digits-run", "--json", env=env).stdout)
    assert metrics["accuracy"] > 0.9

    from sklearn.datasets import load_digits

    digits = load_digits()
    files = []
    for i in range(20):
        path = tmp_path / f"digit{i}_{digits.target[i]}.png"
        Image.fromarray((digits.images[i] * 255 / 16).astype(np.uint8), mode="L").save(path)
        files.append(str(path))
    out = json.loads(run("predict", "digits-run", *files, "--json", env=env).stdout)
    correct = sum(item["top_k"][0]["label"] == Path(item["input"]).stem.split("_")[1] for item in out)
    assert correct >= 17, out
    assert all(len(item["top_k"]) == 3 for item in out)


def test_predict_converts_and_resizes_and_says_so(run_dir, tmp_path):
    env = {**os.environ, "ARCHZOO_CHECKPOINTS": str(run_dir.parent)}
    big = tmp_path / "big.png"
    Image.new("RGB", (64, 64), (255, 255, 255)).save(big)
    result = run("predict", "digits-run", str(big), env=env)
    assert "converted from RGB to grayscale" in result.stderr and "resized from 64x64 to 8x8" in result.stderr
    not_image = tmp_path / "notes.png"
    not_image.write_text("not an image")
    bad = run("predict", "digits-run", str(not_image), env=env, check_rc=2)
    assert "is not an image" in bad.stderr


def test_predict_classifies_nodes_of_a_graph_checkpoint(env):
    run("train", "gnn-sbm", "--set", "epochs=20", "--out", "graph", env=env)
    chosen = run("predict", "graph", "3", "7", env=env).stdout.splitlines()
    assert chosen[0].startswith("node 3 (") and chosen[1].startswith("node 7 (") and "2 node(s): accuracy" in chosen[2]
    everyone = json.loads(run("predict", "graph", "--json", env=env).stdout)
    assert len(everyone) == 200 and {row["split"] for row in everyone} == {"test"}
    accuracy = sum(row["label"] == row["true"] for row in everyone) / len(everyone)
    assert f"every test node (200): accuracy {accuracy:.4f}" in run("predict", "graph", env=env).stdout
    assert "between 0 and 999, not '1000'" in run("predict", "graph", "1000", env=env, check_rc=2).stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "mpl"], "unknown architecture or preset 'mpl'; did you mean 'mlp'"),
        (["train", "mlp", "--set", "epochs=many"], "invalid value 'many' for 'epochs': an integer"),
        (["train", "mlp", "--set", "hidden=0"], "invalid value '0' for 'hidden'"),
        (["train", "mlp", "--set", "colour=blue"], "invalid value 'blue' for 'colour': no such setting"),
        (["train", "mlp", "--dataset", "fashion-mnist", "--data-dir", "/nonexistent/fm"], "/nonexistent/fm"),
        (["train", "mlp", "--out", "../outside"], "outside the checkpoint store"),
        (["eval", "no-such-run"], "no checkpoint at 'no-such-run'"),
    ],
)
def test_bad_input_gets_one_clear_message_and_a_non_zero_exit(env, args, message):
    result = run(*args, env=env, check_rc=2)
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_broken_checkpoints_are_reported_not_loaded(run_dir, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(run_dir / "best", copy)
    data = (copy / "model.safetensors").read_bytes()
    (copy / "model.safetensors").write_bytes(data[:-100])
    result = run("eval", str(copy), check_rc=2)
    assert "does not match the sha256" in result.stderr

    shutil.copytree(run_dir / "best", tmp_path / "other")
    meta = json.loads((tmp_path / "other" / "config.json").read_text())
    meta["architecture"] = "hopfield"
    meta["plugin"]["distribution"] = "archzoo-hopfield"
    (tmp_path / "other" / "config.json").write_text(json.dumps(meta))
    result = run("predict", str(tmp_path / "other"), "x.png", check_rc=2)
    assert "install archzoo-hopfield" in result.stderr


def test_an_existing_run_is_not_overwritten(run_dir):
    env = {**os.environ, "ARCHZOO_CHECKPOINTS": str(run_dir.parent)}
    before = (run_dir / "best" / "model.safetensors").read_bytes()
    result = run("train", "mlp", "--out", "digits-run", env=env, check_rc=2)
    assert "already holds a checkpoint" in result.stderr and "--overwrite" in result.stderr
    assert (run_dir / "best" / "model.safetensors").read_bytes() == before


def test_ctrl_c_keeps_a_resumable_checkpoint(env):
    command = [*ARCHZOO, "train", "mlp", "--set", "epochs=400", "--set", "batch_size=16", "--out", "long"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    output = []
    deadline = time.time() + 120
    for line in process.stdout:
        output.append(line)
        if "epoch 1:" in line:
            process.send_signal(signal.SIGINT)
            break
        assert time.time() < deadline, "training never finished an epoch"
    rest, _ = process.communicate(timeout=120)
    text = "".join(output) + rest
    assert process.returncode == 2, text
    assert "resumable checkpoint" in text and "--resume" in text
    state = json.loads((Path(env["ARCHZOO_CHECKPOINTS"]) / "long" / "last" / "training_state.json").read_text())
    assert state["loop"]["global_step"] > 0

    resumed = run("train", "--out", "long", "--resume", "--set", "epochs=2", "--quiet", env=env)
    assert "finished" in resumed.stdout
