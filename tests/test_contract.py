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


def test_every_builtin_architecture_is_checked():
    assert {"mlp", "cnn"} <= set(BUILTIN)


def test_archzoo_check_runs_the_suite_from_the_command_line():
    result = subprocess.run(
        [sys.executable, "-m", "archzoo.cli", "check", "mlp"], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed" in result.stdout and "failed" not in result.stdout
