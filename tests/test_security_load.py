"""Security: the app under a stated request budget keeps answering, within a memory ceiling.

A real app on a loopback port (build_app + serve, in this process, so its memory is
this process's), a digits classifier in its store, and 48 requests in 4 parallel
streams, hostile and normal interleaved: over-limit text and rows, an image over the
pixel limit, a checkpoint path outside the store, a rebinding Host header, a foreign
Origin.  Every normal request gets its right answer, every hostile one a message
(or a refusal at the door), all within 60 s, and the server's resident memory grows
by less than LOAD_RSS_GROWTH_MB.  Bounded in count and time; nothing leaves loopback.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import psutil
import pytest
from gradio_client import Client, handle_file
from ui_server import served_app

from archzoo.registry.limits import MAX_IMAGE_PIXELS, MAX_TEXT_BYTES

REQUESTS = 48
STREAMS = 4
TIME_BUDGET_S = 60
#: The stated ceiling: how much the server's resident memory may grow under this load.
LOAD_RSS_GROWTH_MB = 400


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    with served_app(tmp_path_factory, "load") as app:
        yield app


@pytest.fixture(scope="module")
def setup(ui):
    from PIL import Image
    from sklearn.datasets import load_digits

    from archzoo.api import train

    best = train("mlp", dataset="digits", overrides={"epochs": "2"}, out=str(ui.store / "digits")).best_dir
    digits = load_digits()
    normal = []
    for index in range(4):
        path = ui.files / f"digit{index}.png"
        Image.fromarray((digits.images[index] * 16).clip(0, 255).astype("uint8")).resize((8, 8)).save(path)
        normal.append((path, str(digits.target[index])))
    side = int(MAX_IMAGE_PIXELS**0.5) + 16
    huge = ui.files / "huge.png"
    Image.new("L", (side, side)).save(huge)
    return best, normal, huge


def test_hostile_and_normal_requests_interleaved_keep_the_app_answering(ui, setup):
    best, normal, huge = setup
    port = ui.url.rstrip("/").rsplit(":", 1)[1]
    process = psutil.Process()
    clients = [Client(ui.url, verbose=False) for _ in range(STREAMS)]
    # What each normal request answers when the app is idle: under load it must answer the same.
    idle = [
        clients[0].predict(str(best), handle_file(str(path)), 3, False, api_name="/classify_image")[0]["label"]
        for path, _ in normal
    ]
    assert sum(label == digit for label, (_, digit) in zip(idle, normal)) >= 2  # a working classifier
    normal = [(path, label) for (path, _), label in zip(normal, idle)]
    before = process.memory_info().rss

    def normal_request(client, n):
        path, expected = normal[n % len(normal)]
        label, _, _ = client.predict(str(best), handle_file(str(path)), 3, False, api_name="/classify_image")
        return label["label"] == expected, "normal"

    hostile = [
        (
            "huge text",
            lambda c: (
                "more than the limit"
                in c.predict(str(best), "x" * (MAX_TEXT_BYTES + 10), 3, api_name="/classify_text")[2]
            ),
        ),
        (
            "many rows",
            lambda c: "more than the limit" in c.predict(str(best), "1,2\n" * 200_000, 3, api_name="/classify_rows")[2],
        ),
        (
            "many lines",
            lambda c: "more than the limit" in c.predict(str(best), "word\n" * 50_000, 3, api_name="/classify_text")[2],
        ),
        (
            "huge image",
            lambda c: (
                "more than the limit"
                in c.predict(str(best), handle_file(str(huge)), 3, False, api_name="/classify_image")[2]
            ),
        ),
        (
            "outside path",
            lambda c: (
                "outside the folders this app may read"
                in c.predict("/etc", handle_file(str(normal[0][0])), 3, False, api_name="/classify_image")[2]
            ),
        ),
        ("rebinding", lambda c: httpx.get(ui.url, headers={"host": f"evil.example:{port}"}).status_code == 421),
        (
            "foreign origin",
            lambda c: (
                httpx.post(
                    ui.url.rstrip("/") + "/gradio_api/queue/join", json={}, headers={"origin": "http://evil.example"}
                ).status_code
                == 403
            ),
        ),
    ]

    def request(n):
        client = clients[n % STREAMS]
        if n % 2 == 0:
            return normal_request(client, n)
        name, ask = hostile[(n // 2) % len(hostile)]
        return ask(client), name

    started = time.monotonic()
    with ThreadPoolExecutor(STREAMS) as pool:
        results = list(pool.map(request, range(REQUESTS)))
    elapsed = time.monotonic() - started
    growth_mb = (process.memory_info().rss - before) / 2**20

    failed = [name for ok, name in results if not ok]
    assert not failed, f"answered wrongly: {failed}"
    assert len(results) == REQUESTS and elapsed < TIME_BUDGET_S, elapsed
    assert growth_mb < LOAD_RSS_GROWTH_MB, f"the server grew by {growth_mb:.0f} MB"
    # ...and it still answers a normal request afterwards.
    assert normal_request(clients[0], 1)[0]
    counts = {name: sum(1 for _, n in results if n == name) for name in dict.fromkeys(n for _, n in results)}
    assert counts["normal"] == REQUESTS // 2 and all(v >= 1 for v in counts.values())
