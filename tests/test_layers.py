"""The architecture stays as docs/architecture.md draws it.

import-linter checks core/ (the contracts are in pyproject.toml): each layer
imports only the layers below it, the registry and the helpers import no
torch even inside functions, and no two modules of core import each other in
a circle.  ui/ and plugins/ live outside core/, where import-linter cannot
see them, so their imports are checked here from the source.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (inside functions too), as absolute names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_the_import_contracts_hold():
    result = subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout, result.stdout[-4000:]


@pytest.mark.parametrize("path", sorted((REPO / "plugins").rglob("*.py")), ids=lambda p: str(p.relative_to(REPO)))
def test_plugins_import_archzoo_and_its_toolkit_only(path):
    allowed = ("archzoo", "archzoo.toolkit")
    own = f"archzoo.plugins.{path.relative_to(REPO / 'plugins').parts[0]}"
    wrong = sorted(
        m
        for m in imported_modules(path)
        if m.startswith("archzoo.")
        and not m.startswith(("archzoo.toolkit", own))
        and m.split(".")[1] not in _root_names()
    )
    assert not wrong, f"{path.name} imports {wrong}: plugins import from {' and '.join(allowed)} only"


def _root_names() -> set[str]:
    """Names ``from archzoo import X`` may take: what archzoo's own __init__ exports."""
    import archzoo

    return set(archzoo.__all__)


@pytest.mark.parametrize(
    "path", [p for p in sorted((REPO / "plugins").glob("*/__init__.py"))], ids=lambda p: p.parent.name
)
def test_a_plugin_card_imports_only_archzoo(path):
    heavy = sorted(m for m in imported_modules(path) if m.split(".")[0] in ("torch", "numpy", "transformers", "peft"))
    toolkit = sorted(m for m in imported_modules(path) if m.startswith("archzoo.toolkit"))
    assert not heavy and not toolkit, f"{path}: a card module must stay light, yet imports {heavy + toolkit}"


def test_nothing_in_core_imports_the_ui_but_the_cli():
    users = sorted(
        str(p.relative_to(REPO))
        for p in (REPO / "core").rglob("*.py")
        if any(m == "archzoo.ui" or m.startswith("archzoo.ui.") for m in imported_modules(p))
    )
    assert users and all(u.startswith("core/cli/") for u in users), users


def test_core_and_plugins_never_import_the_old_module_paths():
    from archzoo.legacy import MOVED

    old = {f"archzoo.{name}" for name in MOVED}
    for root in ("core", "plugins", "ui"):
        for path in (REPO / root).rglob("*.py"):
            used = sorted(m for m in imported_modules(path) if m in old or any(m.startswith(o + ".") for o in old))
            assert not used, f"{path.relative_to(REPO)} imports the old paths {used}"


@pytest.mark.skipif(
    shutil.which("ruff") is None and not (Path(sys.executable).parent / "ruff").exists(),
    reason="ruff is a dev extra (pip install -e '.[dev]')",
)
def test_ruff_is_clean():
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    result = subprocess.run(
        [ruff, "check", "--no-cache", "core", "ui", "plugins", "tests", "benchmarks"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:]
