"""Not part of the example plugin: lets archzoo's own test run check it.

A real plugin is tested after ``pip install -e .``.  When archzoo's checkout
runs its tests, this project is collected too but usually not installed; for
this module's tests the fixture below then makes it look installed, the way
pip would: a ``.dist-info`` folder with the entry point from pyproject.toml
on ``sys.path``.  When the plugin is installed it does nothing.
"""

from __future__ import annotations

import importlib
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def _installed(names: set[str]) -> bool:
    return bool(names & {ep.name for ep in metadata.entry_points(group="archzoo")})


@pytest.fixture(scope="module", autouse=True)
def example_plugin_installed(tmp_path_factory):
    from archzoo.host import reset_host

    project = tomllib.loads((HERE / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    entry_points = project["entry-points"]["archzoo"]
    if _installed(set(entry_points)):
        yield
        return
    root = tmp_path_factory.mktemp("site")
    info = root / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n", encoding="utf-8"
    )
    lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[archzoo]\n{lines}", encoding="utf-8")
    added = [str(root), str(HERE)]
    sys.path[:0] = added
    importlib.invalidate_caches()
    reset_host()
    try:
        yield
    finally:
        for path in added:
            sys.path.remove(path)
        for module in [m for m in sys.modules if m.split(".")[0] in set(entry_points.values())]:
            del sys.modules[module]
        importlib.invalidate_caches()
        reset_host()
