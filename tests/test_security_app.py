"""Security, classes 7 and 9 (the app's door): host names, origins, sign-in throttling, own temporary folders.

A real app (build_app + serve, as ``archzoo ui --auth`` runs it) on a loopback
port, asked with plain HTTP (httpx), as a browser or an attacker's page would.
"""

from __future__ import annotations

import time

import httpx
import pytest
from ui_server import free_port

USER, PASSWORD = "teacher", "correct horse battery"


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    from archzoo.registry.host import reset_host
    from archzoo.ui.app import build_app, serve

    patch = pytest.MonkeyPatch()
    patch.setenv("ARCHZOO_CHECKPOINTS", str(tmp_path_factory.mktemp("door-store")))
    reset_host()
    app = build_app()
    port = free_port()
    url = serve(app, port=port, auth=(USER, PASSWORD), allowed_hosts=("class.example.org",))
    try:
        yield url.rstrip("/"), port, app
    finally:
        app.archzoo.runs.shutdown()
        app.close()
        patch.undo()
        reset_host()


def get(url: str, **headers: str) -> httpx.Response:
    return httpx.get(url, headers=headers, timeout=30)


def test_a_host_name_nobody_allowed_is_refused(app_url):
    url, port, _ = app_url
    assert get(url + "/config").status_code == 401  # loopback IP: answered (sign-in wanted)
    for host in (f"localhost:{port}", f"class.example.org:{port}", f"10.1.2.3:{port}", f"[::1]:{port}"):
        assert get(url + "/config", host=host).status_code == 401, host
    refused = get(url + "/config", host=f"rebind.attacker.example:{port}")
    assert refused.status_code == 421
    assert refused.text == "This archzoo app does not answer for that host name."
    assert get(url + "/", host="").status_code in (400, 421)


def test_only_the_apps_own_origin_may_call_it(app_url):
    url, port, _ = app_url
    own = get(url + "/config", origin=f"http://127.0.0.1:{port}")
    assert own.status_code == 401 and own.headers.get("access-control-allow-origin") == f"http://127.0.0.1:{port}"
    for origin in (f"http://localhost:{port + 1}", "http://127.0.0.1:8000", "null", "https://evil.example"):
        refused = httpx.post(url + "/login", data={"username": USER, "password": PASSWORD}, headers={"origin": origin})
        assert refused.status_code == 403, origin
        assert "cookie" not in {k.lower() for k in refused.headers if k.lower() == "set-cookie"}


def test_failed_sign_ins_are_slowed_then_refused_per_client(app_url):
    url, _, _ = app_url
    started = time.monotonic()
    answers = [
        httpx.post(url + "/login", data={"username": USER, "password": f"guess{n}"}, timeout=30).status_code
        for n in range(8)
    ]
    elapsed = time.monotonic() - started
    assert answers[:5] == [400] * 5 and answers[5:] == [429] * 3, answers
    assert elapsed >= 5 * 0.5  # every failure waits before it is answered
    # Even the right password waits until the window has passed.
    late = httpx.post(url + "/login", data={"username": USER, "password": PASSWORD}, timeout=30)
    assert late.status_code == 429 and int(late.headers["retry-after"]) >= 1


def test_each_app_has_its_own_temporary_folder(app_url, tmp_path_factory):
    import os

    from archzoo.ui.app import build_app

    _, _, first = app_url
    second = build_app()
    try:
        assert first.archzoo_temp_dir != second.archzoo_temp_dir
        assert os.path.basename(first.archzoo_temp_dir).startswith("archzoo-ui-")
        assert first.server_app.uploaded_file_dir == first.archzoo_temp_dir
    finally:
        second.archzoo.runs.shutdown()


def test_the_port_and_the_host_header_of_the_cli(tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "archzoo.cli", "ui", "--port", "99999"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2 and "port 99999 is out of range: give 1-65535" in result.stderr
    assert "Traceback" not in result.stderr


def test_identical_pictures_made_at_once_never_share_a_file(app_url):
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np
    from PIL import Image

    from archzoo.ui.common import own_image_file

    _, _, app = app_url
    picture = np.arange(64 * 64, dtype=np.uint8).reshape(64, 64)
    with ThreadPoolExecutor(8) as pool:
        paths = list(pool.map(lambda _: own_image_file(app.archzoo, picture), range(30)))
    assert len(set(paths)) == 30
    assert all(path.startswith(app.archzoo_temp_dir) for path in paths)
    for path in paths:
        with Image.open(path) as image:
            assert np.array_equal(np.asarray(image), picture)


def test_a_request_body_over_the_limit_is_refused_at_the_door(app_url):
    from archzoo.registry.limits import MAX_REQUEST_BYTES

    url, _, _ = app_url
    body = b"x" * (MAX_REQUEST_BYTES + 1)
    refused = httpx.post(url + "/gradio_api/queue/join", content=body, timeout=60)
    assert refused.status_code == 413 and "at most" in refused.text

    def chunks():  # no Content-Length: the same limit holds while the body streams in
        for _ in range(MAX_REQUEST_BYTES // (1 << 20) + 2):
            yield b"y" * (1 << 20)

    def few():
        yield b"y" * 1000

    # The same garbage, small, reaches the route (which wants a sign-in first); big, it never does.
    small = httpx.post(url + "/gradio_api/queue/join", content=few(), timeout=60).status_code
    try:
        streamed = httpx.post(url + "/gradio_api/queue/join", content=chunks(), timeout=60).status_code
    except httpx.HTTPError:
        streamed = None  # the server ended the request
    assert small == 401 and streamed in (400, None)
