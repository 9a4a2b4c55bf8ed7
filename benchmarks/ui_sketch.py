"""A sketch's prediction in a real browser: from the click, and while the digit is drawn.

Starts ``archzoo ui`` in its own process on a free loopback port, with a
checkpoint store holding one MLP trained on digits (the default run), opens
the Inference tab in Debian's chromium (playwright, headless) and times, each
``--repeats`` times (median reported):

1. **click**: a digit drawn, then from the click on *Classify the drawing* to the
   new picture of what the model saw on the page (target: under 0.5 s);
2. **follow**: no click at all, from the end of a stroke (mouse up) to the
   prediction for the drawing so far (target: under 0.5 s), the way in-browser
   demos follow the pen.

A new answer is recognised by the *What the model saw* picture changing its
address: every answer is written under a fresh name, so even the same
prediction twice is seen as two answers.

    python benchmarks/ui_sketch.py [--repeats 20]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ui_inference_latency import free_port, wait_for_server
from ui_page_load import CHROMIUM, CHROMIUM_ARGS

TARGET_S = 0.5
SEEN = "#az-seen img"
#: A "7": the top bar, then the stroke down; and a "1".
SEVEN = [[(0.25, 0.2), (0.5, 0.2), (0.75, 0.2)], [(0.75, 0.2), (0.6, 0.5), (0.45, 0.85)]]
ONE = [[(0.5, 0.15), (0.5, 0.5), (0.5, 0.85)]]


def stroke(page, points) -> None:
    box = page.locator("#az-sketch canvas").first.bounding_box()
    side = min(box["width"], box["height"]) * 0.8
    left, top = box["x"] + (box["width"] - side) / 2, box["y"] + (box["height"] - side) / 2
    xy = [(left + x * side, top + y * side) for x, y in points]
    page.mouse.move(*xy[0])
    page.mouse.down()
    for x, y in xy[1:]:
        page.mouse.move(x, y, steps=2)
    page.mouse.up()


def seen_address(page) -> str:
    found = page.locator(SEEN)
    return found.first.get_attribute("src") if found.count() else ""


def until_new_answer(page, before: str, started: float, timeout: float = 30.0) -> float:
    """Seconds from ``started`` (perf_counter) until the seen picture's address is no longer ``before``."""
    page.wait_for_function(
        "(before) => { const i = document.querySelector('#az-seen img'); return i && i.src && i.src !== before; }",
        arg=before,
        polling="raf",
        timeout=timeout * 1000,
    )
    return time.perf_counter() - started


def clear(page) -> None:
    page.locator('#az-sketch button[aria-label="Clear canvas"]').click()
    page.wait_for_function(
        """() => {
            const brush = document.querySelector('#az-sketch button[aria-label="Brush"]');
            window.azSteady = brush && brush.classList.contains('highlight') ? (window.azSteady || 0) + 1 : 0;
            return window.azSteady > 5;
        }""",
        polling=100,
    )
    page.wait_for_timeout(300)  # an answer to the cleared canvas, if any, arrives before the next drawing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from archzoo.api import train

    work = Path(tempfile.mkdtemp(prefix="archzoo-bench-sketch-"))
    store = work / "store"
    try:
        train(out=str(store / "sketch-mlp"))
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        env = {**os.environ, "ARCHZOO_CHECKPOINTS": str(store)}
        server = subprocess.Popen(
            [sys.executable, "-m", "archzoo.cli", "ui", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            env=env,
        )
        clicks, follows = [], []
        try:
            wait_for_server(url, server)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 1000})
                page.goto(url)
                page.get_by_role("tab", name="Inference", exact=True).click()
                page.locator("#az-sketch canvas").first.wait_for()
                for trial in range(args.repeats + 1):  # the first is a warm-up
                    digit = SEVEN if trial % 2 else ONE
                    clear(page)
                    for points in digit[:-1]:
                        stroke(page, points)
                    before = seen_address(page)
                    stroke(page, digit[-1])
                    follow = until_new_answer(page, before, time.perf_counter())
                    page.wait_for_timeout(300)  # a second answer for the same stroke would land here
                    before = seen_address(page)
                    started = time.perf_counter()
                    page.locator("#az-classify-sketch").click()
                    click = until_new_answer(page, before, started)
                    if trial:
                        follows.append(follow)
                        clicks.append(click)
                browser.close()
        finally:
            server.terminate()
            server.wait(30)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} CPUs, load average {load[0]:.1f} (1 min); {args.repeats} drawings, chromium")
    print()
    print("| from | to | median | 90th percentile | target |")
    print("|---|---|---|---|---|")
    failed = False
    for what, times in (("the click on Classify", clicks), ("the end of a stroke (no click)", follows)):
        median = statistics.median(times)
        p90 = statistics.quantiles(times, n=10)[-1] if len(times) > 1 else median
        verdict = "PASS" if median < TARGET_S else "FAIL"
        failed |= median >= TARGET_S
        print(f"| {what} | the prediction shown | {median:.3f} s | {p90:.3f} s | < {TARGET_S} s: {verdict} |")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
