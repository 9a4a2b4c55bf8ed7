"""Runs outlive the page: in a real browser, reload mid-run, open a second browser,
stop from the reloaded page, queue a second run, and find every run in the Runs tab.

Debian's chromium driven by playwright; screenshots in ``test-artifacts/ui-runs/``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright
from ui_server import served_app

from archzoo.runs import events
from archzoo.runs.record import read_events, read_record

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts" / "ui-runs"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 90_000
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with served_app(tmp_path_factory, "runs") as app:
        yield app


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make system-packages does)")
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield launched
        launched.close()


def new_page(browser, url: str):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    return page


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def step_shown(page) -> int:
    text = page.locator("#az-train-progress").inner_text()
    found = re.search(r"step ([\d,]+) /", text)
    return int(found.group(1).replace(",", "")) if found else 0


def test_a_reloaded_page_and_a_second_browser_follow_the_run_and_stop_it(browser, served):
    page = new_page(browser, served.url)
    page.get_by_role("tab", name="Train", exact=True).click()
    page.get_by_label("hidden widths").fill("1024,1024")  # about 4 epochs a second
    page.get_by_label("epochs", exact=True).fill("3000")
    page.get_by_label("batch_size", exact=True).fill("16")
    page.get_by_text("Data and output").click()
    name = page.locator("#az-train-run-name textarea")
    name.fill("long")
    name.press("Tab")
    expect(name).to_have_value("long")
    page.locator("#az-train-start").click()
    expect(page.locator("#az-train-log textarea")).to_have_value(re.compile(r"epoch 2: train loss"))
    before = step_shown(page)

    page.reload()
    page.get_by_role("tab", name="Train", exact=True).click()
    expect(page.locator("#az-train-status")).to_contain_text(re.compile(r"Training mlp on digits into \S*/long"))
    expect(page.locator("#az-train-log textarea")).to_have_value(re.compile(r"epoch 1: train loss.*epoch 2:", re.S))
    page.locator('#az-loss-plot [aria-label*="series: train"]').first.wait_for()
    assert page.locator('#az-loss-plot [aria-label*="series: train"]').count() >= 20  # the whole curve, not its end
    deadline = time.monotonic() + 60
    while step_shown(page) <= before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert step_shown(page) > before, "the reloaded page does not follow the run"
    shot(page, "01-reloaded")

    other = new_page(browser, served.url)
    other.get_by_role("tab", name="Train", exact=True).click()
    expect(other.locator("#az-train-status")).to_contain_text(re.compile(r"Training mlp on digits into \S*/long"))
    shot(other, "02-second-browser")

    other.get_by_label("epochs", exact=True).fill("1")
    other.locator("#az-train-start").click()
    expect(other.locator("#az-train-status")).to_contain_text("Waiting in the queue")
    shot(other, "03-queued")

    page.locator("#az-train-stop").click()
    expect(page.locator("#az-train-status")).to_contain_text("Stopped. A resumable checkpoint is in")
    shot(page, "04-stopped")
    expect(other.locator("#az-train-status")).to_contain_text("Finished")
    assert read_record(served.store / "long")["status"] == "cancelled"


def test_the_runs_tab_lists_cli_runs_compares_them_and_resumes_a_killed_one(browser, served):
    env = {**os.environ, "ARCHZOO_CHECKPOINTS": str(served.store), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "archzoo.cli", "train", "mlp", "--set", "batch_size=16", "--quiet"]
    subprocess.run(
        [*command, "--set", "epochs=2", "--set", "lr=0.01", "--out", "cli-fast"],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    killed = subprocess.Popen(
        [*command, "--set", "epochs=300", "--out", "killed"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while sum(isinstance(e, events.EpochEnded) for e in read_events(served.store / "killed")) < 2:
            assert time.monotonic() < deadline and killed.poll() is None
            time.sleep(0.2)
        killed.send_signal(signal.SIGKILL)
        killed.wait(30)
    finally:
        killed.kill()

    page = new_page(browser, served.url)
    page.get_by_role("tab", name="Runs", exact=True).click()
    table = page.locator("#az-runs-table")
    expect(table).to_contain_text("cli-fast")
    expect(table).to_contain_text("interrupted")
    expect(table).to_contain_text("long")
    shot(page, "05-runs")

    compare = page.locator("#az-runs-compare")
    for name in ("cli-fast", "long"):
        compare.locator("input").fill(name)
        page.get_by_role("option", name=name, exact=True).click()
    page.locator("#az-runs-compare-button").click()
    page.locator('#az-runs-metrics [aria-label*="series: cli-fast: accuracy"]').first.wait_for()
    expect(page.get_by_text("train.lr")).to_be_visible()
    shot(page, "06-compared")

    one = page.locator("#az-runs-one")
    one.locator("input").fill("killed")
    page.get_by_role("option", name="killed", exact=True).click()
    expect(page.locator("#az-run-summary")).to_contain_text("interrupted")
    epochs = read_record(served.store / "killed")["progress"]["epoch"]
    page.locator("#az-runs-action input").fill("resume")
    page.get_by_role("option", name="resume", exact=True).click()
    page.locator("#az-runs-value textarea").fill(f"epochs={epochs + 1}")
    page.locator("#az-runs-apply").click()
    expect(page.locator("#az-runs-changed")).to_contain_text("killed")
    deadline = time.monotonic() + 180
    while read_record(served.store / "killed")["status"] != "finished":
        assert time.monotonic() < deadline, json.dumps(read_record(served.store / "killed"))
        time.sleep(0.5)
    expect(table).to_contain_text(f"{epochs + 1}/{epochs + 1}")
    shot(page, "07-resumed")


def test_the_boundary_is_drawn_while_it_trains_and_two_runs_show_theirs_side_by_side(browser, served):
    env = {**os.environ, "ARCHZOO_CHECKPOINTS": str(served.store), "OMP_NUM_THREADS": "1"}
    logistic = [sys.executable, "-m", "archzoo.cli", "train", "logistic-moons", "--set", "epochs=10", "--quiet"]
    subprocess.run([*logistic, "--out", "logistic"], env=env, check=True, capture_output=True, timeout=300)

    page = new_page(browser, served.url)
    page.get_by_role("tab", name="Train", exact=True).click()
    name = page.locator("#az-train-name")
    name.locator("input").fill("mlp-moons")
    page.get_by_role("option", name=re.compile(r"^mlp-moons \(preset")).click()
    epochs = page.get_by_label("epochs", exact=True)
    expect(epochs).to_have_value("100")  # the preset's own, filled in first; then ours
    epochs.fill("40")
    page.get_by_text("Data and output").click()
    page.locator("#az-train-run-name textarea").fill("mlp-live")
    page.locator("#az-train-start").click()
    live = page.locator("#az-train-live")
    expect(live.locator("img")).to_be_visible()  # while it trains
    shot(page, "08-live-boundary")
    expect(page.locator("#az-train-status")).to_contain_text("Finished")
    expect(live).to_contain_text("decision boundary after epoch 40")
    assert page.locator("#az-train-status").bounding_box()["y"] < 900 + page.evaluate("window.scrollY")

    page.get_by_role("tab", name="Runs", exact=True).click()
    compare = page.locator("#az-runs-compare")
    for run in ("logistic", "mlp-live"):
        compare.locator("input").fill(run)
        page.get_by_role("option", name=run, exact=True).click()
    page.locator("#az-runs-compare-button").click()
    pictures = page.locator("#az-runs-pictures img")
    expect(pictures).to_have_count(2)
    shot(page, "09-boundaries-side-by-side")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(pictures.first).to_be_visible()
    shot(page, "10-boundaries-phone")
