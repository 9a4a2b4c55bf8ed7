"""Studies in a real browser: a bad grid value and a grid over the limit refused,
a 2 x 1 grid on digits started, its trials filling the table and plot, the page
reloaded mid-study (the Train tab says a study trains), stopped, continued (only
the missing trial runs), and a trial opened as a run in the Runs tab.

Debian's chromium driven by playwright; screenshots at desktop and phone width in
``test-artifacts/ui-studies/``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright
from ui_server import served_app

from archzoo.registry.limits import MAX_STUDY_TRIALS
from archzoo.runs.record import read_record

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts" / "ui-studies"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]  # fmt: skip
TIMEOUT_MS = 90_000
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with served_app(tmp_path_factory, "studies") as app:
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


def studies_page(browser, url: str, width: int = 1280, height: int = 900):
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    page.get_by_role("tab", name="Studies", exact=True).click()  # on a phone too: the tab bar wraps
    return page


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def choose(page, dropdown: str, option: str) -> None:
    page.locator(f"{dropdown} input").fill(option)
    page.get_by_role("option", name=option, exact=True).click()


def type_into(page, box: str, text: str) -> None:
    field = page.locator(f"{box} textarea, {box} input").first
    field.fill(text)
    field.press("Tab")


def trial_row(index: str, cell: str, seed: str, state: str, value: str = "") -> re.Pattern:
    """A trial's row as the table renders it: trial, cell, seed, state, value."""
    return re.compile(rf"{index}\s+{re.escape(cell)}\s+{seed}\s+{state}\b" + (rf"\s+{value}" if value else ""))


def test_a_grid_study_fills_survives_a_reload_stops_continues_and_opens_a_trial(browser, served):
    page = studies_page(browser, served.url)
    expect(page.locator("#az-study-card")).to_contain_text("A one-minute study to try studies with")
    expect(page.locator("#az-study-card")).to_contain_text("3 cells x 2 seed(s) = 6 trials")
    page.get_by_text("a grid of my own").click()
    answer = page.locator("#az-study-answer")

    type_into(page, "#az-study-values-0", "0.01, fast")
    page.locator("#az-study-start").click()
    expect(answer).to_contain_text("cell 'lr=fast': training: invalid value 'fast' for 'lr': a number")

    type_into(page, "#az-study-values-0", ", ".join(f"0.0{i}" for i in range(1, 10)))
    choose(page, "#az-study-field-1", "epochs")
    type_into(page, "#az-study-values-1", ",".join(str(i) for i in range(1, 9)))
    page.locator("#az-study-start").click()
    expect(answer).to_contain_text(
        f"the study's trials (cells x seeds = 72 x 1): 72 is more than the limit of {MAX_STUDY_TRIALS}"
    )
    shot(page, "01-refused")

    # Two cells x two seeds: the first cell's trials end in two epochs, the second's trains until stopped.
    choose(page, "#az-study-field-0", "epochs")
    type_into(page, "#az-study-values-0", "2, 3000")
    type_into(page, "#az-study-values-1", "")  # a row without values is left out of the grid
    type_into(page, "#az-study-seeds", "2")
    type_into(page, "#az-study-shared", "batch_size=16")
    type_into(page, "#az-study-name", "grid-a")
    page.locator("#az-study-start").click()
    expect(answer).to_contain_text("Started study grid-a: 2 cell(s) x 2 seed(s) = 4 trials")
    trials, cells = page.locator("#az-study-trials"), page.locator("#az-study-cells")
    expect(trials).to_contain_text(trial_row("000", "epochs=2", "0", "complete", r"0\.\d{4}"))
    expect(trials).to_contain_text(trial_row("001", "epochs=2", "1", "complete", r"0\.\d{4}"))
    expect(trials).to_contain_text(trial_row("002", "epochs=3000", "0", "running", r"epoch \d+/3000"))
    expect(trials).to_contain_text(trial_row("003", "epochs=3000", "1", "waiting"))
    expect(cells).to_contain_text(re.compile(r"epochs=2\s+epochs=2\s+0\.\d{4} ± 0\.\d{4} \(n=2\)"))
    expect(cells).to_contain_text(re.compile(r"epochs=3000\s+epochs=3000\s+running"))
    first = read_record(served.store / "grid-a" / "000")
    assert first["status"] == "finished" and first["tags"] == ["study:grid-a"]
    plot = page.locator("#az-study-plot img")
    expect(plot).to_be_visible()
    assert page.evaluate("img => img.naturalWidth", plot.element_handle()) > 300
    shot(page, "02-running")

    page.reload()
    page.get_by_role("tab", name="Train", exact=True).click()
    expect(page.locator("#az-train-status")).to_contain_text("study grid-a is training on this server")
    page.get_by_role("tab", name="Studies", exact=True).click()
    status = page.locator("#az-study-status")
    expect(status).to_contain_text(
        "Study grid-a is running on this server: 2/4 trials done; training epochs=3000, seed 0"
    )
    accuracy = first["metrics"]["best"]["validation"]["accuracy"]
    expect(trials).to_contain_text(trial_row("000", "epochs=2", "0", "complete", f"{accuracy:.4f}"))
    shot(page, "03-reloaded")

    page.locator("#az-study-stop").click()
    expect(answer).to_contain_text("study 'grid-a' stopped: the running trial kept a resumable checkpoint")
    expect(trials).to_contain_text(trial_row("002", "epochs=3000", "0", "stopped"))
    expect(page.locator("#az-study-continue")).to_have_text("Continue: run the 2 missing trial(s)")
    assert read_record(served.store / "grid-a" / "002")["status"] == "cancelled"
    finished = {i: read_record(served.store / "grid-a" / i) for i in ("000", "001")}
    shot(page, "04-stopped")

    page.locator("#az-study-continue").click()
    expect(answer).to_contain_text("Continuing study grid-a: 2 of 4 trials are done; the missing ones run now")
    expect(trials).to_contain_text(trial_row("003", "epochs=3000", "1", "running", r"epoch \d+/3000"))
    expect(trials).to_contain_text(trial_row("002", "epochs=3000", "0", "waiting"))
    assert {i: read_record(served.store / "grid-a" / i) for i in finished} == finished  # they did not run again
    page.locator("#az-study-stop").click()
    expect(answer).to_contain_text("study 'grid-a' stopped")
    expect(page.locator("#az-study-continue")).to_have_text("Continue: run the 2 missing trial(s)")
    shot(page, "05-continued-and-stopped")

    trials.get_by_role("row").filter(has_text="grid-a/001").get_by_role("gridcell").first.click()
    summary = page.locator("#az-run-summary")
    expect(summary).to_contain_text("grid-a/001 · finished")
    expect(summary).to_contain_text("settings given: batch_size=16, epochs=2, seed=1")
    expect(page.get_by_role("tab", name="Runs", exact=True)).to_have_attribute("aria-selected", "true")
    shot(page, "06-trial-as-run")

    phone = studies_page(browser, served.url, width=390, height=844)
    expect(phone.locator("#az-study-trials")).to_contain_text(trial_row("003", "epochs=3000", "1", "stopped"))
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390 + 1  # nothing wider than the phone
    shot(phone, "07-phone")
