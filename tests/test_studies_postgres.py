"""Two study workers on a real PostgreSQL server: the storage that lets a study
span machines.

The server is Debian's ``postgresql`` (``make system-packages`` installs it),
started for this module in a temporary folder on a free local port with trust
authentication, and stopped afterwards. As root the server runs as the
``postgres`` user the package creates, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from archzoo.runs.record import read_record

ARCHZOO = [sys.executable, "-m", "archzoo.cli"]
BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    if not BIN:
        pytest.skip("Debian's postgresql is not installed (make system-packages installs it)")
    bin_dir = Path(BIN[-1])
    as_user = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
    data = Path(tempfile.mkdtemp(prefix="archzoo-pg-"))
    if as_user:
        shutil.chown(data, "postgres")
    port = _free_port()
    subprocess.run([*as_user, bin_dir / "initdb", "-D", data / "db", "-U", "postgres", "--auth=trust"],
                   check=True, capture_output=True)  # fmt: skip
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run([*as_user, bin_dir / "pg_ctl", "-D", data / "db", "-o", options, "-w", "-l", data / "log", "start"],
                   check=True, capture_output=True)  # fmt: skip
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, bin_dir / "pg_ctl", "-D", data / "db", "-m", "fast", "stop"], capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


def test_two_workers_share_one_grid_on_postgresql_and_no_trial_runs_twice(postgres_url, tmp_path):
    env = {**os.environ, "ARCHZOO_CHECKPOINTS": str(tmp_path), "OMP_NUM_THREADS": "1"}
    grid = ["study", "run", "--preset", "mlp", "--dataset", "digits", "--set", "batch_size=256", "--set", "epochs=1",
            "--grid", "lr=0.02,0.01,0.005,0.002", "--name", "pg", "--storage", postgres_url, "--quiet"]  # fmt: skip
    # The first command only creates the study; two workers started together then share it.
    created = subprocess.run([*ARCHZOO, *grid, "--workers", "0"], capture_output=True, text=True, env=env, timeout=300)
    assert created.returncode == 0, created.stderr
    work = [*ARCHZOO, "study", "work", "pg", "--storage", postgres_url, "--quiet"]
    workers = [subprocess.Popen(work, env=env, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for worker in workers:
        assert worker.wait(timeout=600) == 0, worker.stderr.read()
    study = optuna.load_study(study_name="pg", storage=postgres_url)
    done = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
    assert sorted(t.user_attrs["index"] for t in done) == [0, 1, 2, 3]
    for index in range(4):
        record = read_record(tmp_path / "pg" / f"{index:03d}")
        assert record["status"] == "finished" and len(record["lineage"]["sessions"]) == 1
    assert not (tmp_path / "studies.sqlite3").exists()  # nothing went to the default storage
    shown = subprocess.run([*ARCHZOO, "study", "show", "pg", "--storage", postgres_url], capture_output=True,
                           text=True, env=env, timeout=300)  # fmt: skip
    assert shown.returncode == 0 and "lr=0.005" in shown.stdout
