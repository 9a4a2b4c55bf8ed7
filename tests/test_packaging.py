"""The distribution ships what the checkout has: every plugin package and the registry."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed_in_pyproject():
    """pyproject.toml's packages are the one list of what archzoo ships; the host finds the built-in
    plugins by listing archzoo.plugins, so a plugin folder missing here would work in a checkout only."""
    packages = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {"archzoo", "archzoo.plugins", "archzoo.ui"}
    for root, prefix in ((REPO / "core", "archzoo"), (REPO / "plugins", "archzoo.plugins")):
        on_disk |= {f"{prefix}.{p.name}" for p in root.iterdir() if (p / "__init__.py").is_file()}
    assert on_disk == packages, f"add {sorted(on_disk - packages)}, drop {sorted(packages - on_disk)}"


def test_the_wheel_carries_plugins_registry_and_entry_points(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("archzoo-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "archzoo/registry.toml" in names
    assert {"archzoo/plugins/mlp/__init__.py", "archzoo/plugins/mlp/model.py", "archzoo/plugins/cnn/model.py"} <= names
    assert "archzoo/ui/__init__.py" in names
    assert {"archzoo/registry/host.py", "archzoo/checkpoints/io.py", "archzoo/cli/__main__.py"} <= names
    assert "archzoo/evaluation/fid_models/fashion-mnist/model.safetensors" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "archzoo = archzoo.cli:main" in text and "archzoo = archzoo.testing" in text


def test_archzoo_check_needs_nothing_a_plain_install_lacks():
    """The contract suite runs on pytest: archzoo itself requires it, so 'archzoo check' works
    after a plain 'pip install archzoo' (not only with the dev extra)."""
    from importlib import metadata

    required = [r for r in metadata.requires("archzoo") or [] if "extra ==" not in r]
    assert any(r.replace(" ", "").startswith("pytest>=") for r in required), required
