"""How fast the browser app is usable: from the server answering to a page a person can use.

Starts ``archzoo ui`` in its own process on a free loopback port (empty
checkpoint store) with Debian's chromium already running (playwright,
headless), and times, for several fresh browser contexts (cold cache each):

- server start: from launching ``archzoo ui`` to its first HTTP 200 (shown, not judged);
- loaded: from the server answering (first run) or from the navigation (later
  runs) to the page's ``load`` event;
- interactive: to the Models table showing the installed architectures and
  a click on the Train tab showing its Start button (target: within 3 s).

    python benchmarks/ui_page_load.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TARGET_S = 3.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    store = tempfile.mkdtemp(prefix="archzoo-bench-store-")
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        launched = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "archzoo.cli", "ui", "--port", str(port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "ARCHZOO_CHECKPOINTS": store},
        )
        try:
            while True:
                if process.poll() is not None:
                    raise SystemExit(f"archzoo ui exited early:\n{process.stdout.read()}")
                try:
                    with urllib.request.urlopen(url, timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    time.sleep(0.05)
            answered = time.perf_counter()
            server_start = answered - launched
            for repeat in range(args.repeats):
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                page = context.new_page()
                start = answered if repeat == 0 else time.perf_counter()
                page.goto(url, wait_until="load", timeout=30_000)
                loaded = time.perf_counter() - start
                page.locator("#az-models-table").get_by_text("mlp", exact=True).first.wait_for(timeout=30_000)
                page.get_by_role("tab", name="Train", exact=True).click(timeout=30_000)
                page.locator("#az-train-start").wait_for(state="visible", timeout=30_000)
                interactive = time.perf_counter() - start
                rows.append((repeat + 1, loaded, interactive))
                context.close()
        finally:
            process.terminate()
            process.wait(30)
            browser.close()
            shutil.rmtree(store, ignore_errors=True)

    load = os.getloadavg()  # other work on the machine slows every number here
    print(
        f"machine: {os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min)"
    )
    print(f"server start (launch to first HTTP 200): {server_start:.2f} s\n")
    print("| visit | loaded (s) | interactive (s) | within 3 s |")
    print("|---|---|---|---|")
    for visit, loaded, interactive in rows:
        note = " (timed from the server's first answer)" if visit == 1 else ""
        print(f"| {visit}{note} | {loaded:.2f} | {interactive:.2f} | {'yes' if interactive <= TARGET_S else 'NO'} |")
    worst = max(r[2] for r in rows)
    print(f"| median | {statistics.median(r[1] for r in rows):.2f} | {statistics.median(r[2] for r in rows):.2f} | |")
    print(f"\nworst interactive: {worst:.2f} s: {'PASS' if worst <= TARGET_S else 'FAIL'} (target {TARGET_S:.0f} s)")
    if worst > TARGET_S:
        sys.exit(1)


if __name__ == "__main__":
    main()
