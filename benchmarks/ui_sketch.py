"""A sketch's prediction in a real browser: from the click, and while the digit is drawn.

Starts ``archzoo ui`` in its own process on a free loopback port, with a
checkpoint store holding one MLP trained on digits (the default run), opens
the Inference tab in Debian's chromium (playwright, headless) and times, each
``--repeats`` times (median reported):

1. **click**: a digit drawn, then from the click on *Classify the drawing* to the
   new picture of what the model saw on the page (target: under 0.5 s);
2. **follow**: no click at all, from the end of a stroke (mouse up) to the
   prediction for the whole drawing (target: under 0.5 s), the way in-browser
   demos follow the pen.  The pad also asks while a stroke is drawn, so answers
   may arrive before and just after mouse up for the drawing so far; the time
   taken is that of the *last* answer (the one for the finished stroke), read
   once the page has had no new answer for a second.

A new answer is recognised by the *What the model saw* picture changing its
address: every answer is written under a fresh name, so even the same
prediction twice is seen as two answers.  The page itself stamps each answer
and the mouse up with its own clock.

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


#: In the page: the time of each new answer and of the last mouse up, on the page's clock.
STAMPS_JS = """
() => {
  window.azAnswers = []; window.azUp = 0; let last = '';
  document.addEventListener('pointerup', () => { window.azUp = performance.now(); }, true);
  new MutationObserver(() => {
    const i = document.querySelector('#az-seen img');
    if (i && i.src && i.src !== last) { last = i.src; window.azAnswers.push(performance.now()); }
  }).observe(document.body, {subtree: true, childList: true, attributes: true, attributeFilter: ['src']});
}
"""


def last_answer_after_mouse_up(page, quiet_s: float = 1.0, timeout: float = 30.0) -> float:
    """Seconds from the last mouse up to the last answer, once none has come for ``quiet_s``."""
    page.wait_for_function(
        "(quiet) => { const a = window.azAnswers; return a.length && a[a.length - 1] > window.azUp "
        "&& performance.now() - a[a.length - 1] > quiet; }",
        arg=quiet_s * 1000,
        polling=50,
        timeout=timeout * 1000,
    )
    return page.evaluate("() => (window.azAnswers[window.azAnswers.length - 1] - window.azUp) / 1000")


def clear(page) -> None:
    page.locator('#az-sketch button[aria-label="Clear canvas"]').click()
    page.wait_for_timeout(300)  # the answer to the cleared canvas arrives before the next drawing


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
                page.evaluate(STAMPS_JS)
                for trial in range(args.repeats + 1):  # the first is a warm-up
                    digit = SEVEN if trial % 2 else ONE
                    clear(page)
                    for points in digit[:-1]:
                        stroke(page, points)
                    stroke(page, digit[-1])
                    follow = last_answer_after_mouse_up(page)
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
