"""Every built-in architecture passes the same contract suite a third-party
plugin author runs (``archzoo.testing.ContractSuite``)."""

from __future__ import annotations

import subprocess
import sys

from archzoo.host import Host
from archzoo.testing import ContractSuite

BUILTIN = sorted(name for name, spec in Host(entry_points=False).architectures.items() if spec.distribution == "archzoo")

for _name in BUILTIN:
    _cls = type(f"TestContract_{_name.replace('-', '_')}", (ContractSuite,), {"architecture": _name})
    globals()[_cls.__name__] = _cls


def test_every_builtin_architecture_is_checked():
    assert {"mlp", "cnn"} <= set(BUILTIN)


def test_archzoo_check_runs_the_suite_from_the_command_line():
    result = subprocess.run([sys.executable, "-m", "archzoo.cli", "check", "mlp"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed" in result.stdout and "failed" not in result.stdout
