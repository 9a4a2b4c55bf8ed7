"""The app in a real browser: Debian's chromium driven by playwright, as a newcomer uses it.

Open the page, read the Models table, get a bad setting answered, train the
default and watch its curves appear, draw a digit with mouse strokes and
read the prediction, upload a digit, get an empty sketch and a file that is
not an image answered, evaluate, and list the checkpoints.  The tests share
one page and run in order, like one visit.  Screenshots go to
``test-artifacts/ui/``.
"""

from __future__ import annotations

import contextlib
import math
import re
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect, sync_playwright
from ui_server import served_app

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts" / "ui"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 60_000
expect.set_options(timeout=TIMEOUT_MS)  # generous but bounded: the machine may be busy


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with served_app(tmp_path_factory, "browser") as app:
        yield app


@pytest.fixture(scope="module")
def page(served):
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make system-packages does)")
    with open_page(served.url, ARTIFACTS) as tab:
        yield tab


@contextlib.contextmanager
def open_page(url: str, artifacts: Path):
    """A desktop-sized chromium tab on ``url`` that keeps its page errors (``tab.errors``), with
    ``artifacts`` emptied for its screenshots."""
    shutil.rmtree(artifacts, ignore_errors=True)
    artifacts.mkdir(parents=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        tab = browser.new_page(viewport={"width": 1280, "height": 900})
        tab.set_default_timeout(TIMEOUT_MS)
        errors: list[str] = []
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.goto(url)
        tab.errors = errors
        yield tab
        browser.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()


def stroke(page, points: list[tuple[float, float]]) -> None:
    """One mouse stroke on the sketchpad, through points given in [0, 1] canvas coordinates."""
    box = page.locator("#az-sketch canvas").first.bounding_box()
    side = min(box["width"], box["height"]) * 0.8
    left, top = box["x"] + (box["width"] - side) / 2, box["y"] + (box["height"] - side) / 2
    xy = [(left + x * side, top + y * side) for x, y in points]
    page.mouse.move(*xy[0])
    page.mouse.down()
    for x, y in xy[1:]:
        page.mouse.move(x, y, steps=2)  # each move repaints the canvas: slow without a GPU
    page.mouse.up()


def ready_to_draw(page) -> None:
    """Wait until the sketchpad is on the page: it draws from the first touch, no tool to pick."""
    page.locator("#az-sketch canvas").first.wait_for()


def classify_drawing(page, expected: str, name: str) -> None:
    """Press Classify and wait for ``expected`` as the top class; a screenshot either way."""
    page.locator("#az-classify-sketch").click()
    try:
        expect(page.locator("#az-image-label [data-testid=label-output-value]")).to_have_text(expected)
    except AssertionError:
        shot(page, f"{name}-FAILED")
        raise
    shot(page, name)


def prediction(page) -> str:
    return page.locator("#az-image-label [data-testid=label-output-value]").inner_text().strip()


def test_the_page_opens_on_the_models_table(page):
    table = page.locator("#az-models-table")
    expect(table).to_contain_text("mlp")
    expect(table).to_contain_text("19,210")
    expect(table).to_contain_text("cnn")
    expect(page.locator("#az-broken-note")).to_contain_text("Every installed plugin loaded")
    shot(page, "01-models")


def test_a_bad_setting_is_answered_in_the_page(page):
    open_tab(page, "Train")
    epochs = page.get_by_label("epochs", exact=True)
    epochs.fill("0")
    page.locator("#az-train-start").click()
    expect(page.locator("#az-train-status")).to_contain_text("invalid value 0 for 'epochs': between 1 and 100000")
    marked = page.locator(".az-bad")  # the refused setting itself is marked, and says why under its box
    expect(marked).to_have_count(1)
    expect(marked).to_contain_text("epochs")
    expect(marked).to_contain_text("0 is refused: between 1 and 100000")
    shot(page, "02-bad-setting")
    epochs.fill("5")
    epochs.press("Tab")


def choose_in(page, dropdown: str, shown: str) -> None:
    page.locator(f"{dropdown} input").fill(shown.split(" ")[0])
    page.get_by_role("option", name=shown, exact=True).click()


def test_the_form_shows_only_the_settings_the_dataset_reads(page):
    """The DDPM's U-Net settings for images, its MLP denoiser's for 2-D points; the tokenizer
    settings for text only."""
    open_tab(page, "Train")
    choose_in(page, "#az-train-name", "ddpm (image-generation)")
    expect(page.locator("#az-train-dataset input")).to_have_value("fashion-mnist")
    channels = page.get_by_label("channels").first  # the U-Net's widths; channels_last comes later
    toy = page.get_by_label("toy_hidden", exact=True)
    expect(channels).to_be_visible()
    expect(toy).to_be_hidden()
    choose_in(page, "#az-train-dataset", "spirals")
    expect(toy).to_be_visible()
    expect(channels).to_be_hidden()
    expect(page.get_by_label("timesteps", exact=True)).to_be_visible()  # both denoisers read it
    shot(page, "02b-ddpm-on-points")
    page.get_by_text("More training settings").click()
    tokenizer = page.get_by_label("tokenizer_vocab", exact=True)
    expect(tokenizer).to_be_hidden()
    choose_in(page, "#az-train-name", "rnn (text-classification)")
    expect(tokenizer).to_be_visible()
    choose_in(page, "#az-train-name", "mlp (image-classification)")
    expect(page.locator("#az-train-dataset input")).to_have_value("digits")
    expect(tokenizer).to_be_hidden()
    expect(page.get_by_label("epochs", exact=True)).to_have_value("5")
    page.get_by_text("More training settings").click()


def test_training_the_default_draws_its_curves_as_it_goes(page, served):
    started = time.monotonic()
    page.locator("#az-train-start").click()
    expect(page.locator("#az-train-progress")).to_contain_text(re.compile(r"step \d+ / \d+"))
    expect(page.locator(".az-bad")).to_have_count(0)  # the setting fixed, nothing is marked
    # The curve appears while the run is going: points of the training loss in the plot.
    page.locator('#az-loss-plot [aria-label*="series: train"]').first.wait_for()
    expect(page.locator("#az-train-status")).to_contain_text("Finished", timeout=TIMEOUT_MS)
    seconds = time.monotonic() - started
    assert seconds < 30, f"the default took {seconds:.1f}s in the browser"
    expect(page.locator("#az-train-progress")).to_contain_text("100% · step")
    expect(page.locator("#az-train-log textarea")).to_have_value(re.compile(r"epoch 5: train loss"))
    # The log follows its newest line: scrolled to the bottom, not left at the top.
    page.wait_for_function(
        "() => { const t = document.querySelector('#az-train-log textarea');"
        " return t.scrollHeight > t.clientHeight && t.scrollTop + t.clientHeight >= t.scrollHeight - 4; }"
    )
    assert page.locator('#az-loss-plot [aria-label*="series: train"]').count() >= 20
    page.locator('#az-epoch-plot [aria-label*="series: validation"]').first.wait_for()
    page.locator('#az-metric-plot [aria-label*="series: validation accuracy"]').first.wait_for()
    expect(page.locator("#az-train-queue")).to_contain_text("finished")
    shot(page, "03-trained")
    assert list(served.store.glob("mlp-digits-*/best/model.safetensors"))


def test_a_digit_drawn_with_the_mouse_is_recognised(page):
    open_tab(page, "Inference")
    expect(page.locator("#az-infer-checkpoint input")).to_have_value(re.compile(r"mlp-digits-.*/best"))
    expect(page.locator("#az-infer-about")).to_contain_text("mlp on digits")
    ready_to_draw(page)  # the page picked the brush: a newcomer can draw at once
    stroke(page, [(0.5, 0.1), (0.5, 0.5), (0.5, 0.9)])
    classify_drawing(page, "1", "04-drawn-one")
    notes = page.locator("#az-image-notes")
    expect(notes).to_contain_text("inverted the colours")
    expect(notes).to_contain_text("resized from")

    page.locator('#az-sketch button[aria-label="Clear canvas"]').click()
    ready_to_draw(page)
    ring = [
        (0.5 + 0.28 * math.sin(2 * math.pi * t / 12), 0.5 - 0.4 * math.cos(2 * math.pi * t / 12)) for t in range(13)
    ]
    stroke(page, ring)
    classify_drawing(page, "0", "05-drawn-zero")


def test_an_uploaded_digit_is_recognised(page, served):
    from sklearn.datasets import load_digits

    digits = load_digits()
    index = 3  # a '3'
    path = served.files / "three.png"
    Image.fromarray((digits.images[index] * 255 / 16).astype(np.uint8), mode="L").resize(
        (28, 28), Image.Resampling.NEAREST
    ).save(path)
    page.locator("#az-upload input[type=file]").set_input_files(str(path))
    # Shown as it is, and read at once, cropped and centred as a drawing (a grayscale model).
    page.locator("#az-upload-preview img").wait_for()
    expect(page.locator("#az-upload-centre input")).to_be_checked()
    expect(page.locator("#az-image-notes")).to_contain_text("upload: cropped to the strokes")
    assert prediction(page) == str(digits.target[index])
    shot(page, "06-uploaded")

    page.locator("#az-upload-centre input").uncheck()
    page.locator("#az-classify-upload").click()
    expect(page.locator("#az-image-notes")).to_contain_text("resized from 28x28 to 8x8")
    expect(page.locator("#az-image-notes")).not_to_contain_text("cropped")
    assert prediction(page) == str(digits.target[index])
    page.locator("#az-upload-centre input").check()


def test_the_prediction_follows_the_drawing_without_a_click(page):
    page.locator('#az-sketch button[aria-label="Clear canvas"]').click()
    ready_to_draw(page)
    # Read in one step: Clear may take the previous answer away at any moment.
    before = page.evaluate("() => document.querySelector('#az-seen img')?.src ?? null")
    stroke(page, [(0.5, 0.1), (0.5, 0.5), (0.5, 0.9)])  # no click: the stroke's end asks
    page.wait_for_function(
        "(before) => { const i = document.querySelector('#az-seen img'); return i && i.src !== before; }", arg=before
    )
    expect(page.locator("#az-image-label [data-testid=label-output-value]")).to_have_text("1")
    shot(page, "06b-followed")


def test_the_prediction_follows_the_pen_before_the_stroke_ends(page):
    """While a slow stroke is drawn the pad asks every quarter second: an answer arrives with the button still down."""
    page.locator('#az-sketch button[aria-label="Clear canvas"]').click()
    ready_to_draw(page)
    before = page.evaluate("() => document.querySelector('#az-seen img')?.src ?? null")
    box = page.locator("#az-sketch canvas").first.bounding_box()
    x = box["x"] + box["width"] / 2
    page.mouse.move(x, box["y"] + box["height"] * 0.1)
    page.mouse.down()
    for step in range(1, 9):
        page.mouse.move(x, box["y"] + box["height"] * (0.1 + 0.1 * step))
        page.wait_for_timeout(150)
    page.wait_for_function(
        "(before) => { const i = document.querySelector('#az-seen img'); return i && i.src !== before; }", arg=before
    )
    shot(page, "06c-followed-mid-stroke")
    page.mouse.up()
    expect(page.locator("#az-image-label [data-testid=label-output-value]")).to_have_text("1")


def test_an_empty_sketch_and_a_file_that_is_not_an_image_are_answered(page, served):
    page.locator('#az-sketch button[aria-label="Clear canvas"]').click()
    page.locator("#az-classify-sketch").click()
    expect(page.locator("#az-image-notes")).to_contain_text("the sketch is empty: draw something first")

    bogus = served.files / "notes.txt"
    bogus.write_text("not an image")
    clear = page.locator("#az-upload button[aria-label='Clear']")
    if clear.count():
        clear.click()  # take the previous upload away first, as a person would
    page.locator("#az-upload input[type=file]").set_input_files(str(bogus))
    page.locator("#az-classify-upload").click()
    expect(page.locator("#az-image-notes")).to_contain_text("notes.txt is not an image archzoo can read")
    shot(page, "07-bad-input")


def test_evaluate_shows_metrics_and_a_confusion_matrix(page):
    open_tab(page, "Evaluate")
    expect(page.locator("#az-eval-checkpoint input")).to_have_value(re.compile(r"mlp-digits-.*/best"))
    page.locator("#az-eval-run").click()
    expect(page.locator("#az-eval-status")).to_contain_text("Evaluated 359 examples of digits (test)")
    expect(page.locator("#az-eval-metrics")).to_contain_text("accuracy")
    page.locator("#az-eval-confusion img").wait_for()
    shot(page, "08-evaluate")


def test_the_images_behind_a_cell_of_the_confusion_matrix(page, served):
    """After Evaluate the fullest cell of mistakes is opened; a click on another cell of the
    matrix's picture opens that one (here: the zeros read right)."""
    from archzoo.evaluation.metrics import confusion_matrix

    (location,) = served.store.glob("mlp-digits-*/best")  # the one the tab evaluated
    matrix = confusion_matrix(location)  # the app's numbers, computed here
    names = matrix.class_names
    true, predicted, count = matrix.cells()[0]
    expect(page.locator("#az-eval-cell-note")).to_contain_text(f"{names[true]} taken for {names[predicted]}: {count}")
    expect(page.locator("#az-eval-cell-images .thumbnail-item")).to_have_count(min(count, 32))
    expect(page.locator("#az-eval-cell input")).to_have_value(f"{names[true]} taken for {names[predicted]} ({count})")
    shot(page, "08c-behind-a-cell")

    x, y = next((x, y) for x in range(0, 2000, 4) for y in range(0, 2000, 4) if matrix.cell_at(x, y) == (0, 0))
    x, y = x + 12, y + 12  # inside the cell, away from its edge
    image = page.locator("#az-eval-confusion img")
    image.scroll_into_view_if_needed()
    box = image.bounding_box()
    natural = page.evaluate("img => [img.naturalWidth, img.naturalHeight]", image.element_handle())
    scale = min(box["width"] / natural[0], box["height"] / natural[1], 1)
    left = (box["width"] - natural[0] * scale) / 2
    top = (box["height"] - natural[1] * scale) / 2
    page.mouse.click(box["x"] + left + x * scale, box["y"] + top + y * scale)
    right = matrix.counts[0][0]
    expect(page.locator("#az-eval-cell-note")).to_contain_text(f"{names[0]} read right: {right} test images")
    expect(page.locator("#az-eval-cell-images .thumbnail-item")).to_have_count(min(right, 32))
    expect(page.locator("#az-eval-cell input")).to_have_value(f"{names[0]} read right ({right})")
    shot(page, "08d-a-clicked-cell")


def test_the_views_panel_draws_what_the_checkpoint_learned(page):
    open_tab(page, "Inference")
    expect(page.locator("#az-views-about")).to_contain_text(
        "mlp on digits offers: misclassified, filters, activations, saliency"
    )
    view = page.locator("#az-view-name input")
    expect(view).to_have_value("misclassified")
    expect(page.locator("#az-view-count")).to_be_visible()
    expect(page.locator("#az-view-layer")).to_be_hidden()  # misclassified reads no layer
    for name, words in (("misclassified", "misclassified test images"), ("activations", "activation maps")):
        view.click()
        page.get_by_role("option", name=name, exact=True).click()
        page.locator("#az-view-draw").click()
        expect(page.locator("#az-view-message")).to_contain_text(words)
        page.locator("#az-view-image img").wait_for()
        page.locator(f'#az-view-files a[href$="/{name}.json"]').wait_for()
        page.locator("#az-views").scroll_into_view_if_needed()
        shot(page, f"08b-view-{name}")
    expect(page.locator("#az-view-layer")).to_be_visible()
    page.locator("#az-view-layer input").fill("no-such-layer")
    page.locator("#az-view-layer input").press("Enter")
    page.locator("#az-view-draw").click()
    expect(page.locator("#az-view-message")).to_contain_text("the model has no layer 'no-such-layer'; its layers are")
    page.set_viewport_size({"width": 390, "height": 844})
    page.locator("#az-views").scroll_into_view_if_needed()
    shot(page, "08c-view-phone")
    page.set_viewport_size({"width": 1280, "height": 900})


def test_the_checkpoints_tab_lists_the_run_with_its_card(page):
    open_tab(page, "Checkpoints")
    expect(page.locator("#az-checkpoints-table")).to_contain_text("test accuracy")
    expect(page.locator("#az-card")).to_contain_text("mlp")
    shot(page, "09-checkpoints")
    assert page.errors == [], page.errors


def test_switching_checkpoint_clears_the_old_answer_and_fits_the_widgets(page, served):
    """A prediction does not stay under another checkpoint's name, and a generator offers its own modes."""
    from archzoo.api import train

    open_tab(page, "Inference")
    stroke(page, [(0.5, 0.1), (0.5, 0.5), (0.5, 0.9)])
    classify_drawing(page, "1", "10-before-switch")
    vae = train("vae", dataset="digits", overrides={"epochs": 1}, out=str(served.store / "vae-digits")).best_dir
    box = page.locator("#az-infer-checkpoint input")
    box.fill(str(vae))
    box.press("Enter")
    expect(page.locator("#az-infer-about")).to_contain_text("vae on digits (image-generation)")
    expect(page.locator("#az-image-label")).to_be_hidden()
    page.locator("#az-gen-mode input").click()
    options = page.get_by_role("option")
    expect(options).to_have_count(5)
    assert [o.split("\n")[-1].strip() for o in options.all_inner_texts()] == [
        "sample",
        "reconstruct",
        "interpolate",
        "traverse",
        "grid",
    ]
    page.keyboard.press("Escape")
    expect(page.locator("#az-gen-mode")).to_contain_text("grid: the decoded code plane")
    expect(page.locator("#az-gen-mode")).not_to_contain_text("walk")
    shot(page, "11-generator-modes")
    box.fill(str(served.store.glob("mlp-digits-*/best").__next__()))
    box.press("Enter")
    expect(page.locator("#az-infer-about")).to_contain_text("mlp on digits")
    expect(page.locator("#az-image-label [data-testid=label-output-value]")).to_have_count(0)
    assert page.errors == [], page.errors


def test_a_model_has_a_page_whose_train_button_opens_it_in_the_train_form(page):
    """The Models tab: summaries not clipped, a page per architecture or preset, and Train it."""
    open_tab(page, "Models")
    table = page.locator("#az-models-table")
    expect(table).to_contain_text("image data, tabular data")  # the MLP trains on both kinds, said once
    summary = table.get_by_text("Variational autoencoder", exact=False).first
    assert summary.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), "the summary is clipped"
    pick = page.locator("#az-model-pick input")
    pick.fill("mlp-moons")
    page.get_by_role("option", name="mlp-moons", exact=True).click()
    about = page.locator("#az-model-page")
    expect(about).to_contain_text("a preset of mlp")
    expect(about).to_contain_text("2-32-32-2")
    expect(about).to_contain_text("tabular-classification on moons")
    expect(about.locator("table")).to_contain_text("32,32")
    shot(page, "12-model-page")
    page.locator("#az-model-train").click()
    expect(page.get_by_role("tab", name="Train", exact=True)).to_have_attribute("aria-selected", "true")
    expect(page.locator("#az-train-name input")).to_have_value("mlp-moons (preset of mlp, for moons)")
    expect(page.get_by_label("hidden widths of the hidden layers")).to_have_value("32,32")
    shot(page, "13-model-in-train-form")
    assert page.errors == [], page.errors


def test_at_phone_width_every_tab_is_in_reach_and_answers_sit_by_their_buttons(page):
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        expect(page.get_by_role("button", name="More tabs")).to_have_count(0)
        for name in ("Models", "Train", "Runs", "Studies", "Evaluate", "Inference", "Checkpoints"):
            tab = page.get_by_role("tab", name=name, exact=True)
            expect(tab).to_be_visible()
            box = tab.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 390, (name, box)
            tab.click()
            shot(page, f"20-phone-{name.lower()}")
        # The sketch's answer is right under its button, not below the upload's boxes.
        open_tab(page, "Inference")
        page.locator("#az-classify-sketch").wait_for()
        button = page.locator("#az-classify-sketch").bounding_box()
        answer = page.locator("#az-image-label").bounding_box()
        upload = page.locator("#az-upload").bounding_box()
        assert button["y"] < answer["y"] < upload["y"], (button, answer, upload)
        assert answer["y"] - (button["y"] + button["height"]) < 100
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})


def test_a_one_epoch_run_draws_its_epoch_as_dots(page):
    open_tab(page, "Train")
    epochs = page.get_by_label("epochs", exact=True)
    epochs.fill("1")
    epochs.press("Tab")
    page.locator("#az-train-start").click()
    expect(page.locator("#az-train-status")).to_contain_text("Finished", timeout=TIMEOUT_MS)
    for plot in ("#az-epoch-plot", "#az-metric-plot"):
        # One point a series: drawn as symbols (a line of one point would draw nothing).
        page.locator(f'{plot} [aria-roledescription="point"]').first.wait_for()
        expect(page.locator(plot)).not_to_contain_text("1.000000")
    shot(page, "21-one-epoch")
    epochs.fill("5")
    epochs.press("Tab")


def test_a_setting_refused_when_the_model_is_built_is_marked_too(page):
    """heads = 3 passes the form's checks (1 to 1024) and fails when the transformer is built
    (3 does not divide d_model 64): the run's error marks that field as a checked setting is."""
    open_tab(page, "Train")
    choose_in(page, "#az-train-name", "transformer (text-classification)")
    heads = page.get_by_label("heads", exact=True)
    heads.fill("3")
    heads.press("Tab")
    page.locator("#az-train-start").click()
    expect(page.locator("#az-train-status")).to_contain_text("invalid value 3 for 'heads'", timeout=TIMEOUT_MS)
    marked = page.locator(".az-bad")
    expect(marked).to_have_count(1)
    expect(marked).to_contain_text("3 is refused: a divisor of d_model (64)")
    shot(page, "02c-refused-when-built")
    heads.fill("4")
    heads.press("Tab")
    choose_in(page, "#az-train-name", "mlp (image-classification)")


def test_should_it_ship_shows_the_roc_curves(page, served):
    """Judging a digits classifier puts the report's ROC figure (a curve per class, AUROC in the legend) in the tab."""
    open_tab(page, "Evaluate")
    box = page.locator("#az-eval-checkpoint input")
    box.fill(str(next(served.store.glob("mlp-digits-*/best"))))
    box.press("Enter")
    page.get_by_label("Store the temperature and report in the checkpoint").uncheck()
    page.locator("#az-eval-judge").click()
    expect(page.locator("#az-eval-verdict")).to_contain_text("Verdict: ", timeout=2 * TIMEOUT_MS)
    roc = page.locator("#az-eval-roc img")
    roc.wait_for()
    assert roc.evaluate("image => image.naturalWidth") > 400
    shot(page, "08b-roc")


def test_a_conditional_generator_offers_its_classes_and_a_guidance_slider(page, served):
    """A guided DDPM's gallery has a class chooser with its checkpoint's classes and a guidance
    slider, and draws the class chosen; a DDPM without label dropout hides both."""
    from archzoo.api import train

    tiny = {"channels": "8,16", "time_dim": 16, "timesteps": 10, "epochs": 1, "max_steps": 2}
    guided = train("ddpm", dataset="digits", overrides={**tiny, "label_dropout": 0.2}, out=str(served.store / "cfg"))
    plain = train("ddpm", dataset="digits", overrides=tiny, out=str(served.store / "plain-ddpm"))
    earlier = len(page.errors)  # the page's errors so far belong to the tests before
    open_tab(page, "Inference")
    box = page.locator("#az-infer-checkpoint input")
    # Opening the tab refreshes its checkpoint list (and its choice): wait until the new runs are listed.
    box.click()
    expect(page.get_by_role("option").filter(has_text="plain-ddpm")).not_to_have_count(0)
    page.keyboard.press("Escape")
    box.fill(str(guided.last_dir))
    box.press("Enter")
    expect(page.locator("#az-infer-about")).to_contain_text("ddpm on digits (image-generation)")
    expect(page.locator("#az-gen-guidance")).to_be_visible()
    page.locator("#az-gen-class input").click()
    options = page.get_by_role("option")
    expect(options).to_have_count(11)
    assert options.all_inner_texts()[0].strip().endswith("every class in turn")
    page.get_by_role("option", name="7", exact=True).click()
    page.locator("#az-gen-guidance input[type=number]").fill("3")
    page.locator("#az-gen-guidance input[type=number]").press("Tab")
    page.get_by_role("button", name="Generate", exact=True).click()  # the text generator's button is hidden
    expect(page.locator("#az-gallery-notes")).to_contain_text("class 7, guidance 3")
    shot(page, "12-conditional-gallery")
    box.fill(str(plain.last_dir))
    box.press("Enter")
    expect(page.locator("#az-gen-class")).to_be_hidden()
    expect(page.locator("#az-gen-guidance")).to_be_hidden()
    assert page.errors[earlier:] == [], page.errors[earlier:]
