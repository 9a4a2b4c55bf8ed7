"""Serving the browser app for the API and browser tests: one app per test
module, on a free loopback port, with an empty checkpoint store of its own."""

from __future__ import annotations

import contextlib
import json
import socket
from types import SimpleNamespace

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def served_app(tmp_path_factory, name: str):
    """The browser app on 127.0.0.1 with an empty checkpoint store of its own."""
    from archzoo.registry.host import reset_host
    from archzoo.registry.settings import SHIPPED
    from archzoo.ui.app import build_app, serve

    store = tmp_path_factory.mktemp(f"{name}-store")
    files = tmp_path_factory.mktemp(f"{name}-files")
    patch = pytest.MonkeyPatch()
    patch.setenv("ARCHZOO_CHECKPOINTS", str(store))
    # The tests' own files (uploads, checkpoints trained beside the app) are a data root the
    # operator allowed, as a teacher lists the class's data folder in registry.toml.
    registry = files.parent / f"{files.name}-registry.toml"
    registry.write_text(SHIPPED.read_text().replace("data_roots = []", f"data_roots = [{json.dumps(str(files))}]"))
    patch.setenv("ARCHZOO_REGISTRY", str(registry))
    reset_host()
    app = build_app()
    url = serve(app, port=free_port())
    try:
        yield SimpleNamespace(url=url, store=store, app=app, files=files)
    finally:
        app.archzoo.runs.shutdown()
        app.archzoo.drawer.shutdown()
        app.close()
        patch.undo()
        reset_host()
