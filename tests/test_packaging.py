"""The distribution ships what the checkout has: every plugin package and the registry."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_every_plugin_package_is_listed_in_pyproject():
    packages = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {f"archzoo.plugins.{p.name}" for p in (REPO / "plugins").iterdir() if (p / "__init__.py").is_file()}
    assert on_disk <= packages, f"add {sorted(on_disk - packages)} to [tool.setuptools] packages"


def test_the_wheel_carries_plugins_registry_and_entry_points(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(REPO)],
        check=True, capture_output=True,
    )
    wheel = next(tmp_path.glob("archzoo-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "archzoo/registry.toml" in names
    assert {"archzoo/plugins/mlp/__init__.py", "archzoo/plugins/mlp/model.py", "archzoo/plugins/cnn/model.py"} <= names
    assert "archzoo/ui/__init__.py" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "archzoo = archzoo.cli:main" in text and "archzoo = archzoo.testing" in text
