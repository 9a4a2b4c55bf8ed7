"""A sequence-to-sequence checkpoint in the app, in a real browser (Debian's chromium via playwright):
type sequences, read the outputs and the attention picture, have a bad token named, and draw the
``attention`` view in the Views panel.  Screenshots go to ``test-artifacts/ui-seq2seq/``."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from test_ui_browser import open_page
from ui_server import served_app

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "ui-seq2seq"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with served_app(tmp_path_factory, "seq2seq-browser") as app:
        yield app


@pytest.fixture(scope="module")
def page(served):
    with open_page(served.url, ARTIFACTS) as tab:
        yield tab


def test_a_sequence_in_its_output_and_attention_out(page, served, one_thread):
    from archzoo.api import train

    run = train(
        "seq2seq",
        dataset="copy:vocab=6,min_length=3,max_length=6,longer=9,examples=2000,test_examples=100",
        overrides={
            "hidden_size": 32,
            "embedding_dim": 16,
            "attention_dim": 32,
            "lr": 0.01,
            "batch_size": 32,
            "epochs": 50,
            "max_steps": 200,
            "schedule": "constant",
        },  # fmt: skip
        out=str(served.store / "copy"),
    )
    page.get_by_role("tab", name="Inference", exact=True).click()
    box = page.locator("#az-infer-checkpoint input")
    box.fill(str(run.best_dir))
    box.press("Enter")
    expect(page.locator("#az-infer-about")).to_contain_text("seq2seq on copy")
    sequences = page.locator("#az-sequences textarea")
    expect(page.locator("#az-sequences")).to_contain_text("at most 9 tokens of: 0 1 2 3 4 5")
    sequences.fill("3 1 4 1 5\n2 0 5")
    page.locator("#az-predict-sequences").click()
    table = page.locator("#az-sequence-outputs")
    expect(table).to_contain_text("3 1 4 1 5")
    expect(table).to_contain_text("2 0 5")
    page.locator("#az-sequence-attention img").wait_for()
    page.locator("#az-sequence-attention").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "01-sequence-and-attention.png"), full_page=True)
    sequences.fill("3 1 9")
    page.locator("#az-predict-sequences").click()
    expect(page.get_by_role("alert")).to_contain_text("token '9' is not in the vocabulary; it has 6 symbols")
    view = page.locator("#az-view-name input")
    view.click()
    page.get_by_role("option", name="attention", exact=True).click()
    page.locator("#az-view-draw").click()
    page.locator("#az-view-image img").wait_for()
    expect(page.locator("#az-view-message")).to_contain_text("attention maps of one input")
    page.locator("#az-views").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "02-attention-view.png"), full_page=True)
    assert page.errors == [], page.errors
