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


def test_every_library_archzoo_imports_is_declared():
    """Each third-party module imported anywhere in core/, ui/ or plugins/ comes from a
    distribution archzoo requires (or an extra, for the optional ones), not from one that
    happens to be installed because something else needed it."""
    import ast
    import re
    from importlib import metadata

    def norm(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    required, extras = set(), set()
    for requirement in metadata.requires("archzoo") or []:
        name = norm(re.split(r"[<>=;\[ !~(]", requirement, maxsplit=1)[0])
        (extras if "extra ==" in requirement else required).add(name)
    modules = set()
    for root in ("core", "ui", "plugins"):
        for path in (REPO / root).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    modules |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules.add(node.module.split(".")[0])
    modules -= {*sys.stdlib_module_names, "archzoo", "__future__"}
    providers = metadata.packages_distributions()
    undeclared = {
        module: providers.get(module)
        for module in modules
        if not any(norm(d) in required | extras for d in providers.get(module, []))
    }
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"
