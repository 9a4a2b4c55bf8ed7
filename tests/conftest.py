"""Shared fixtures: where the real test data lives, and a clean checkpoint store.

The data sets come from ``../shared/data`` beside the checkout (MNIST test set,
SST-2) and from Debian's ``dataset-fashion-mnist`` package, which ``.ci/run``
installs.  The product never needs either; tests use them so they run offline
on real data.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"test data folder {SHARED_DATA} is missing: it comes with the checkout's shared/ folder")
    return SHARED_DATA


@pytest.fixture(scope="session")
def fashion_mnist_dir() -> Path:
    if not FASHION_MNIST_DIR.is_dir():
        pytest.fail(f"{FASHION_MNIST_DIR} is missing: install Debian's dataset-fashion-mnist (.ci/run does)")
    return FASHION_MNIST_DIR


@pytest.fixture
def store(tmp_path, monkeypatch) -> Path:
    """A fresh, empty checkpoint store for one test."""
    path = tmp_path / "checkpoints"
    path.mkdir()
    monkeypatch.setenv("ARCHZOO_CHECKPOINTS", str(path))
    from archzoo.registry.host import reset_host

    reset_host()
    yield path
    reset_host()


@pytest.fixture
def one_thread():
    """One intra-op thread for the test (tiny models on a busy machine), restored after."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def module_store(tmp_path_factory):
    """One checkpoint store for a whole module's runs, trained in on one thread (tiny models,
    a busy machine): for modules whose tests share models trained once."""
    import torch

    from archzoo.registry.host import reset_host

    path = tmp_path_factory.mktemp("checkpoints")
    patch = pytest.MonkeyPatch()
    patch.setenv("ARCHZOO_CHECKPOINTS", str(path))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    reset_host()
    yield path
    reset_host()
    torch.set_num_threads(threads)
    patch.undo()
