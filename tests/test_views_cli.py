"""``archzoo show`` as a user runs it: a real subprocess, a real run trained from the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from PIL import Image

ARCHZOO = [sys.executable, "-m", "archzoo.cli"]


def run(*args: str, env: dict, check_rc: int = 0) -> subprocess.CompletedProcess:
    result = subprocess.run([*ARCHZOO, *args], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == check_rc, f"rc {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    store = tmp_path_factory.mktemp("store")
    env = {**os.environ, "ARCHZOO_CHECKPOINTS": str(store), "OMP_NUM_THREADS": "1"}
    run("train", "mlp-moons", "--set", "epochs=5", "--out", "moons", "--quiet", env=env)
    return env


def test_show_without_a_view_lists_the_views_the_model_offers(env):
    result = run("show", "moons", env=env)
    assert "mlp on moons" in result.stdout and "boundary" in result.stdout and "decision boundary" in result.stdout
    assert json.loads(run("show", "moons", "--json", env=env).stdout)["views"] == ["boundary"]


def test_show_writes_the_png_and_json_and_says_where(env, tmp_path):
    result = run("show", "moons", "boundary", "--out", str(tmp_path), "--resolution", "64", env=env)
    assert result.stdout.split() == ["wrote", str(tmp_path / "boundary.png"), "wrote", str(tmp_path / "boundary.json")]
    assert Image.open(tmp_path / "boundary.png").format == "PNG"
    data = json.loads((tmp_path / "boundary.json").read_text())
    assert data["view"] == "boundary" and len(data["x"]) == 64
    again = run("show", "moons", "boundary", "--out", str(tmp_path), env=env, check_rc=2)
    assert "boundary.png already exists" in again.stderr
    run("show", "moons", "boundary", "--out", str(tmp_path), "--overwrite", "--resolution", "32", env=env)
    assert len(json.loads((tmp_path / "boundary.json").read_text())["x"]) == 32


@pytest.mark.parametrize(
    "args, message",
    [
        (["filters"], "error: 'mlp' (moons) does not offer the view 'filters'; it offers: boundary"),
        (
            ["boundary", "--resolution", "1000"],
            "error: grid resolution (cells a side): 1,000 is more than the limit of 500",
        ),
        (["boundary", "--count", "5000"], "error: count: 5,000 is more than the limit of 2,000"),
    ],
)
def test_bad_input_is_one_line_naming_what_is_wrong(env, tmp_path, args, message):
    result = run("show", "moons", *args, "--out", str(tmp_path), env=env, check_rc=2)
    assert result.stderr.strip() == message
    assert not any(tmp_path.iterdir())


def test_a_run_of_a_missing_plugin_names_it(env, tmp_path):
    best = os.path.join(env["ARCHZOO_CHECKPOINTS"], "moons", "best", "config.json")
    meta = json.loads(open(best).read())
    meta["architecture"], meta["plugin"]["distribution"] = "hopfield", "archzoo-hopfield"
    folder = tmp_path / "copy"
    folder.mkdir()
    for name in os.listdir(os.path.dirname(best)):
        source = os.path.join(os.path.dirname(best), name)
        if os.path.isfile(source):
            (folder / name).write_bytes(open(source, "rb").read())
    (folder / "config.json").write_text(json.dumps(meta))
    result = run("show", str(folder), "boundary", "--out", str(tmp_path / "v"), env=env, check_rc=2)
    assert "architecture 'hopfield' is not installed: install archzoo-hopfield" in result.stderr
