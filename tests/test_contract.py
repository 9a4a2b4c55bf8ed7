"""Every built-in architecture passes the same contract suite a third-party
plugin author runs (``archzoo.testing.ContractSuite``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from archzoo.registry.host import Host
from archzoo.testing import ContractSuite

BUILTIN = sorted(
    name for name, spec in Host(entry_points=False).architectures.items() if spec.distribution == "archzoo"
)

# Architectures on a pretrained encoder are checked on a tiny random BERT and real SST-2 rows
# (tests/tiny_bert.py): their default (the real MiniLM on all of SST-2) is for benchmarks.
sys.path.insert(0, str(Path(__file__).parent))
from tiny_bert import CONTRACT_OVERRIDES, contract_attributes  # noqa: E402

for _name in BUILTIN:
    _attributes = {"architecture": _name, **(contract_attributes(_name) if _name in CONTRACT_OVERRIDES else {})}
    _cls = type(f"TestContract_{_name.replace('-', '_')}", (ContractSuite,), _attributes)
    globals()[_cls.__name__] = _cls


class TestContract_ddpm_on_points(ContractSuite):
    """A generator of 2-D points passes the same suite: n points, and a picture of them."""

    architecture = "ddpm"
    dataset = "spirals"


def test_every_builtin_architecture_is_checked():
    assert {"mlp", "cnn"} <= set(BUILTIN)


def test_archzoo_check_runs_the_suite_from_the_command_line():
    result = subprocess.run(
        [sys.executable, "-m", "archzoo.cli", "check", "mlp"], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed" in result.stdout and "failed" not in result.stdout


def test_the_suite_draws_the_views_a_plugin_adds_and_names_one_it_cannot_draw(tmp_path, monkeypatch):
    """A cross-cutting plugin adds two views to every model: one whose frames are images
    (drawn), one whose frames are neither points nor images (the suite fails, naming it)."""
    import pytest
    import torch

    from archzoo import hookimpl
    from archzoo.registry import host as host_module

    class Views:
        @hookimpl
        def archzoo_views(self, spec, model, ctx):
            return {
                "noise": lambda request: {"frames": [torch.rand(request.count, 1, 8, 8)], "titles": ["noise"]},
                "broken": lambda request: {"frames": [torch.rand(3, 5, 7, 2, 2)], "titles": ["five dimensions"]},
            }

    monkeypatch.setattr(host_module, "_HOST", Host(entry_points=False, extra_plugins={"views": Views()}))
    suite = type("Suite", (ContractSuite,), {"architecture": "mlp"})()
    setup = suite._make_setup()
    with pytest.raises(pytest.fail.Exception, match="the view 'broken' from archzoo_views cannot be drawn"):
        suite.test_its_own_views_are_drawn(setup, tmp_path / "both")

    class GoodViews:
        @hookimpl
        def archzoo_views(self, spec, model, ctx):
            return {"noise": Views().archzoo_views(spec, model, ctx)["noise"]}

    monkeypatch.setattr(host_module, "_HOST", Host(entry_points=False, extra_plugins={"views": GoodViews()}))
    setup = suite._make_setup()
    suite.test_its_own_views_are_drawn(setup, tmp_path / "good")  # passes: nothing raised
