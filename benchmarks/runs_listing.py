"""How fast a store of many runs lists: ``archzoo runs`` and the app's Runs tab.

Trains one real run (the MLP on digits, 2 epochs), then writes 1,000 records
made from its record (each its own id, name, learning rate, accuracy and time)
into a fresh store, and times:

- ``archzoo runs`` and ``archzoo runs --json``, as a user types them (a new
  process each time, start-up included; target under 1 s);
- ``archzoo.runs.listing.list_runs`` in one process (shown, not judged);
- the app: ``archzoo ui`` on that store, one more run written after it
  started, and a real browser (Debian's chromium) clicking the Runs tab, until
  the table shows that newest run (target within 2 s).

    python benchmarks/runs_listing.py [--runs 1000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
CLI_TARGET_S = 1.0
APP_TARGET_S = 2.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_store(store: Path, count: int) -> str:
    """``count`` runs made from one real run's record; returns the newest run's name."""
    env = {**os.environ, "ARCHZOO_CHECKPOINTS": str(store)}
    seed_run = ["train", "mlp", "--set", "epochs=2", "--out", "seed", "--quiet"]
    subprocess.run([sys.executable, "-m", "archzoo.cli", *seed_run], env=env, check=True, capture_output=True)
    record = json.loads((store / "seed" / "run.json").read_text())
    history = (store / "seed" / "events.jsonl").read_text()
    rng = random.Random(0)
    newest = ""
    for i in range(count):
        name = f"run-{i:04d}"
        folder = store / name
        folder.mkdir()
        accuracy = round(rng.uniform(0.80, 0.99), 4)
        data = json.loads(json.dumps(record))
        data |= {"id": f"{i:012x}", "name": name, "created": f"2026-11-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00"}
        data["train"]["lr"] = rng.choice([1e-3, 3e-3, 1e-2])
        data["metrics"]["best"]["test"]["accuracy"] = accuracy
        (folder / "run.json").write_text(json.dumps(data, indent=1))
        (folder / "events.jsonl").write_text(history)
        newest = max(newest, data["created"] + " " + name)
    shutil.rmtree(store / "seed")
    return newest.split(" ")[1]


def time_cli(store: Path, args: list[str], repeats: int) -> list[float]:
    env = {**os.environ, "ARCHZOO_CHECKPOINTS": str(store)}
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "archzoo.cli", *args], env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(done.stderr)
    return times


def time_listing(store: Path, repeats: int) -> list[float]:
    from archzoo.runs.listing import list_runs

    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        entries = list_runs(store)
        times.append(time.perf_counter() - start)
    assert entries, "no runs listed"
    return times


def time_app(store: Path, newest: str, repeats: int) -> list[float]:
    from playwright.sync_api import expect, sync_playwright

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {**os.environ, "ARCHZOO_CHECKPOINTS": str(store)}
    process = subprocess.Popen(
        [sys.executable, "-m", "archzoo.cli", "ui", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    times = []
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit("archzoo ui did not start") from None
                time.sleep(0.1)
        # One more run after the server started: the tab must read the store, not show what it held at start.
        latest = store / "run-latest"
        shutil.copytree(store / newest, latest)
        data = json.loads((latest / "run.json").read_text())
        data |= {"id": "f" * 12, "name": "run-latest", "created": "2026-12-31T23:59:00"}
        (latest / "run.json").write_text(json.dumps(data))
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            for _ in range(repeats):
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                page = context.new_page()
                page.goto(url, wait_until="load", timeout=60_000)
                page.locator("#az-models-table").get_by_text("mlp", exact=True).first.wait_for(timeout=60_000)
                start = time.perf_counter()
                page.get_by_role("tab", name="Runs", exact=True).click()
                listing = page.locator("#az-runs-table")
                expect(listing).to_be_visible(timeout=60_000)
                expect(listing).to_contain_text("run-latest", timeout=60_000)
                times.append(time.perf_counter() - start)
                context.close()
            browser.close()
    finally:
        process.terminate()
        process.wait(30)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    store = Path(tempfile.mkdtemp(prefix="archzoo-bench-runs-"))
    try:
        newest = make_store(store, args.runs)
        rows = [
            ("archzoo runs", time_cli(store, ["runs"], args.repeats), CLI_TARGET_S),
            ("archzoo runs --json", time_cli(store, ["runs", "--json"], args.repeats), CLI_TARGET_S),
            ("list_runs() in one process", time_listing(store, args.repeats), None),
            ("app: Runs tab clicked -> newest run shown", time_app(store, newest, args.repeats), APP_TARGET_S),
        ]
    finally:
        shutil.rmtree(store, ignore_errors=True)

    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
    print(f"{args.runs:,} runs in the store, {args.repeats} repeats each\n")
    print("| what | median (s) | worst (s) | target | met |")
    print("|---|---|---|---|---|")
    failed = False
    for what, times, target in rows:
        met = "" if target is None else ("yes" if statistics.median(times) < target else "NO")
        failed |= met == "NO"
        shown = "" if target is None else f"< {target:.0f} s"
        print(f"| {what} | {statistics.median(times):.3f} | {max(times):.3f} | {shown} | {met} |")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
