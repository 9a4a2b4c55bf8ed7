"""The browser app through its API: ``gradio_client`` against the app served on
loopback (in this process, on a free port), as another program would use it.

Covers: the Models table; training the default with streamed progress; a
digit classified from an upload and from a sketch; evaluation with a
confusion matrix; the checkpoint list and cards; the visible queue and Stop
keeping a resumable checkpoint; bad input answered in the page (and the app
still answering afterwards); push and pull through the Checkpoints tab; and
``archzoo ui`` itself (loopback by default, --auth).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from gradio_client import Client, handle_file
from PIL import Image, ImageDraw
from ui_server import free_port, served_app

sys.path.insert(0, str(Path(__file__).parent))

OWN = "its own dataset"
AUTO_OOD = "automatic (mnist <-> fashion-mnist)"


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    """The app on 127.0.0.1 with an empty checkpoint store of its own."""
    with served_app(tmp_path_factory, "ui") as app:
        yield app


@pytest.fixture(scope="module")
def client(ui) -> Client:
    return Client(ui.url, verbose=False)


@pytest.fixture(scope="module")
def trained(ui, client):
    """The default run, trained through the Train tab's API; its streamed outputs."""
    started = time.monotonic()
    job = client.submit(api_name="/train")
    outputs = list(job)
    seconds = time.monotonic() - started
    final = job.result()
    return SimpleNamespace(
        outputs=outputs, final=final, seconds=seconds, best=final[9]["value"]
    )  # (the run id is page state, not an API output)


def digit_png(folder: Path, index: int, size: int = 8) -> tuple[Path, str]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    path = folder / f"digit{index}.png"
    image = Image.fromarray((digits.images[index] * 255 / 16).astype(np.uint8), mode="L")
    image.resize((size, size), Image.Resampling.NEAREST).save(path)
    return path, str(digits.target[index])


def sketch(folder: Path, name: str, strokes: list[tuple[int, int, int, int]]) -> str:
    """A sketchpad value as the page sends it: a PNG data: URL of black strokes on white."""
    image = Image.new("RGB", (280, 280), "white")
    draw = ImageDraw.Draw(image)
    for stroke in strokes:
        draw.line(stroke, fill="black", width=24)
    path = folder / f"{name}.png"
    image.save(path)
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def top(label: dict) -> str:
    return label["label"]


# -- Models ----------------------------------------------------------------------------------


def test_the_models_table_lists_every_installed_architecture(client):
    archs, presets, datasets, broken_note, broken = client.predict(api_name="/models")
    rows = {row[0]: dict(zip(archs["headers"], row)) for row in archs["data"]}
    assert rows["mlp"]["parameters"] == "19,210" and rows["mlp"]["plugin"].startswith("archzoo ")
    assert rows["mlp"]["does"] == "image-classification" and rows["mlp"]["trains on"] == "image data, tabular data"
    assert rows["vae"]["does"] == "image-generation" and rows["vae"]["trains on"] == "image data"
    assert "cnn" in rows and rows["cnn"]["summary"]
    assert "mlp-fashion-deep" in [r[0] for r in presets["data"]]
    assert "digits" in [r[0] for r in datasets["data"]]
    assert broken["data"] in ([], [[None] * 3], [["", "", ""]]) and "Every installed plugin loaded" in broken_note


def test_a_broken_plugin_is_shown_with_its_error():
    from archzoo import hookimpl
    from archzoo.registry.host import Host
    from archzoo.training.queue import RunManager
    from archzoo.ui import models_tab
    from archzoo.ui.common import AppContext

    class Broken:
        @hookimpl
        def archzoo_register(self, registry):
            raise ImportError("needs libfoo")

    with pytest.warns(UserWarning):
        host = Host(entry_points=False, extra_plugins={"broken-plugin": Broken()})
    ctx = AppContext(host=host, runs=RunManager(host))
    table = models_tab.broken_table(ctx)
    assert table.values.tolist() == [["broken-plugin", "local", "ImportError: needs libfoo"]]
    assert "1 plugin(s) failed to load" in models_tab.broken_text(ctx)
    assert "mlp" in models_tab.architectures_table(ctx)["architecture"].tolist()


# -- Train -----------------------------------------------------------------------------------


def test_the_default_trains_in_seconds_and_streams_its_progress(ui, trained):
    assert trained.seconds < 30
    status, progress, loss, epoch_loss, metric, live, log, queue, eval_choice, infer_choice = trained.final
    # digits are not points in a plane: no live view, and the first update hides any left from before
    assert trained.outputs[0][5]["visible"] is False and not any(o[5].get("value") for o in trained.outputs)
    assert "Finished" in status and "test accuracy" in status
    assert "100% · step" in progress and "epoch 5 / 5" in progress
    assert "epoch 5: train loss" in log and "best checkpoint:" in log
    assert len(trained.outputs) >= 2  # streamed, not only a final answer (the run takes well under a second)
    percents = [int(o[1].split('aria-valuenow="')[1].split('"')[0]) for o in trained.outputs if o and o[1]]
    assert percents == sorted(percents) and percents[-1] == 100
    best = Path(trained.best)
    assert best.parent.parent == ui.store and (best / "model.safetensors").is_file()
    assert infer_choice["value"] == trained.best  # the other tabs now point at the new checkpoint
    assert [r[2] for r in queue["data"]] == ["finished"]
    assert json.dumps(loss).count('"train"') >= 1 and "validation" in json.dumps(epoch_loss)
    assert "validation accuracy" in json.dumps(metric)


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"epochs": 0}, "invalid value 0 for 'epochs': between 1 and 100000"),
        ({"mlp_hidden": "0"}, "invalid value '0' for 'hidden'"),
        ({"mlp_hidden": "wide"}, "invalid value 'wide' for 'hidden': a comma-separated list of int"),
        ({"lr": -1}, "invalid value -1"),
        ({"epochs": None}, "invalid value '' for 'epochs': an integer"),
        ({"name": "cnn", "dataset": "moons"}, "cannot train on dataset 'moons'"),
        ({"dataset": "no-such-data"}, "unknown dataset 'no-such-data'"),
        ({"run_name": "../outside"}, "outside the checkpoint store"),
    ],
)
def test_bad_settings_are_answered_in_the_page(client, settings, message):
    status = client.predict(**settings, api_name="/train")[0]
    assert message in status and "az-error" in status


def test_a_failed_run_is_reported(client):
    status = client.predict(dataset="/nonexistent/folder", api_name="/train")[0]
    assert "az-error" in status and "/nonexistent/folder" in status


def test_runs_wait_in_a_visible_queue_and_stop_keeps_a_resumable_checkpoint(ui):
    first, second = Client(ui.url, verbose=False), Client(ui.url, verbose=False)
    long = first.submit(epochs=300, batch_size=16, run_name="long-run", api_name="/train")
    deadline = time.monotonic() + 60
    while not (long.outputs() and "Training" in long.outputs()[-1][0]):
        assert time.monotonic() < deadline, long.outputs()
        time.sleep(0.1)
    waiting = second.submit(run_name="waiting-run", api_name="/train")
    while not (waiting.outputs() and "Waiting in the queue" in waiting.outputs()[-1][0]):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert "position 1" in waiting.outputs()[-1][0]
    states = [row[2] for row in second.predict(api_name="/runs")["data"]]
    assert states[:2] == ["running", "queued"]

    # Stop answers with how the run ended, as the run's own stream does.
    assert "Cancelled before it started" in second.predict(api_name="/stop")[0]
    assert "Cancelled before it started" in waiting.result()[0]
    stopped = first.predict(api_name="/stop")[0]
    assert "Stopped. A resumable checkpoint is in" in stopped and "--resume" in stopped
    final = long.result()
    assert "Stopped. A resumable checkpoint is in" in final[0] and "--resume" in final[0]
    assert (ui.store / "long-run" / "last" / "training_state.json").is_file()
    assert not (ui.store / "waiting-run").exists()

    # Resume continues the stopped run; stop it again.
    resumed = first.submit(api_name="/resume")
    deadline = time.monotonic() + 60
    while not (resumed.outputs() and "Training mlp on digits (resumed)" in resumed.outputs()[-1][0]):
        assert time.monotonic() < deadline, resumed.outputs()[-1:] if resumed.outputs() else "no output"
        time.sleep(0.1)
    first.predict(api_name="/stop")
    assert "Stopped. A resumable checkpoint is in" in resumed.result()[0]
    assert "Nothing to stop" in Client(ui.url, verbose=False).predict(api_name="/stop")[0]


# -- Inference -------------------------------------------------------------------------------


def test_uploaded_digits_are_classified(ui, client, trained):
    correct = 0
    for index in range(10):
        path, truth = digit_png(ui.files, index, size=28)
        label, seen, notes = client.predict(trained.best, handle_file(str(path)), 3, True, api_name="/classify_image")
        assert len(label["confidences"]) == 3 and Path(seen).is_file()
        assert "resized from 28x28 to 8x8" in notes and "inverted" not in notes
        correct += top(label) == truth
    assert correct >= 8


def test_an_upload_is_read_with_mc_dropout_passes(ui, client, trained):
    from archzoo.api import train

    train("mlp", dataset="digits", overrides={"dropout": "0.3", "epochs": "2"}, out=str(ui.store / "dropout-run"))
    path, _ = digit_png(ui.files, 3, size=8)
    label, _, notes = client.predict(
        str(ui.store / "dropout-run"), handle_file(str(path)), 3, True, False, 20, api_name="/classify_image"
    )
    assert len(label["confidences"]) == 3
    assert "MC-dropout" in notes and " ± " in notes  # the mean of 20 passes and their spread
    _, _, refused = client.predict(trained.best, handle_file(str(path)), 3, True, False, 20, api_name="/classify_image")
    assert "has no dropout to leave on" in refused  # the default MLP was trained without dropout


def test_a_sketch_is_classified_and_the_conversion_is_explained(ui, client, trained):
    one = sketch(ui.files, "one", [(140, 30, 140, 250)])
    label, seen, notes = client.predict(trained.best, one, 3, api_name="/classify_sketch")
    assert top(label) == "1"
    assert "inverted the colours" in notes and "cropped to the strokes" in notes and "to 8x8" in notes
    seven = sketch(ui.files, "seven", [(70, 40, 210, 40), (210, 40, 110, 250)])
    assert top(client.predict(trained.best, seven, 3, api_name="/classify_sketch")[0]) == "7"


def test_bad_inference_input_is_answered_in_the_page(ui, client, trained):
    empty = sketch(ui.files, "empty", [])
    label, seen, message = client.predict(trained.best, empty, 3, api_name="/classify_sketch")
    assert not label and not seen and "the sketch is empty" in message

    text = ui.files / "notes.png"
    text.write_text("this is not an image")
    label, _, message = client.predict(trained.best, handle_file(str(text)), 3, True, api_name="/classify_image")
    assert not label and "notes.png is not an image archzoo can read" in message

    big = ui.files / "big.png"
    Image.new("RGB", (300, 200), "black").save(big)
    _, _, notes = client.predict(trained.best, handle_file(str(big)), 3, True, api_name="/classify_image")
    assert "converted from RGB to grayscale" in notes and "resized from 300x200 to 8x8" in notes

    assert "choose a checkpoint first" in client.predict(None, empty, 3, api_name="/classify_sketch")[2]
    assert "choose a checkpoint first" in client.predict(None, "1,2", 3, api_name="/classify_rows")[2]
    assert "this needs a tabular-classification" in client.predict(trained.best, "1,2", 3, api_name="/classify_rows")[2]
    assert "this needs a text-classification" in client.predict(trained.best, "", 3, api_name="/classify_text")[2]
    outside = client.predict("/no/such/folder", empty, 3, api_name="/classify_sketch")[2]
    assert "'/no/such/folder' is outside the folders this app may read" in outside  # the path policy
    missing = client.predict(str(ui.store / "no-such-run"), empty, 3, api_name="/classify_sketch")[2]
    assert "no checkpoint at" in missing
    # ...and the app still answers.
    assert (
        top(
            client.predict(
                trained.best, sketch(ui.files, "again", [(140, 30, 140, 250)]), 3, api_name="/classify_sketch"
            )[0]
        )
        == "1"
    )


def test_a_drawing_that_is_not_a_png_data_url_is_refused_by_name(ui, client, trained):
    """The pad's value comes from the page, so anything may arrive in its place."""

    def answer(value: str) -> str:
        label, seen, message = client.predict(trained.best, value, 3, api_name="/classify_sketch")
        assert not label and not seen
        return message

    assert "must be a PNG data: URL" in answer("/etc/passwd")
    assert "not valid base64" in answer("data:image/png;base64,***")
    assert "not a PNG archzoo can read" in answer("data:image/png;base64," + base64.b64encode(b"text").decode())
    jpeg = ui.files / "drawn.jpg"
    Image.new("RGB", (28, 28), "white").save(jpeg)
    assert "is a JPEG image" in answer("data:image/png;base64," + base64.b64encode(jpeg.read_bytes()).decode())
    assert "at most 2,000,000" in answer("data:image/png;base64," + "A" * 2_000_004)
    huge = ui.files / "huge.png"
    Image.new("1", (9000, 9000)).save(huge)  # a few kB of PNG, 81 million pixels
    assert "more than the limit" in answer("data:image/png;base64," + base64.b64encode(huge.read_bytes()).decode())


def test_a_checkpoint_whose_plugin_is_missing_says_what_to_install(ui, client, trained):
    folder = ui.store / "hopfield-run"
    shutil.copytree(trained.best, folder)
    meta = json.loads((folder / "config.json").read_text())
    meta["architecture"] = "hopfield"
    meta["plugin"]["distribution"] = "archzoo-hopfield"
    (folder / "config.json").write_text(json.dumps(meta))
    about = client.predict(str(folder), api_name="/checkpoint_info")[0]
    assert "pip install archzoo-hopfield" in about
    message = client.predict(str(folder), sketch(ui.files, "h", [(140, 30, 140, 250)]), 3, api_name="/classify_sketch")[
        2
    ]
    assert "install archzoo-hopfield" in message
    assert "install archzoo-hopfield" in client.predict(str(folder), OWN, "test", api_name="/evaluate")[0]
    listing = client.predict(None, api_name="/checkpoints")[0]
    notes = {row[0]: row[-1] for row in listing["data"]}
    assert "pip install archzoo-hopfield" in notes["hopfield-run"]


def test_rows_of_numbers_for_a_tabular_checkpoint(ui, client):
    from archzoo.api import train

    best = train("mlp-moons", overrides={"epochs": 10}, out=str(ui.files / "moons")).best_dir
    about = client.predict(str(best), api_name="/checkpoint_info")
    assert "tabular-classification" in about[0]
    assert about[1]["maximum"] == 2 and about[1]["value"] == 2  # top-k: no more than the two classes
    assert [c[0] for c in about[2]["choices"]] == ["sample"]
    label, table, notes = client.predict(str(best), "0.0, 0.9\n1.0, -0.45", 2, api_name="/classify_rows")
    assert top(label) == "upper moon" and [r[1] for r in table["data"]] == ["upper moon", "lower moon"]
    assert "expected 2 numbers, got 3" in client.predict(str(best), "1,2,3", 2, api_name="/classify_rows")[2]
    assert "type 2 numbers" in client.predict(str(best), "", 2, api_name="/classify_rows")[2]


def test_widgets_follow_the_task_including_tasks_without_a_built_in_model(tmp_path):
    from test_inference import FAKE_TASKS, fake_host, write_fake_checkpoint

    from archzoo.training.queue import RunManager
    from archzoo.ui import inference_tab
    from archzoo.ui.common import AppContext

    host = fake_host(tmp_path)
    ctx = AppContext(host=host, runs=RunManager(host))
    paths = {name: str(write_fake_checkpoint(host, name, tmp_path / name)) for name in FAKE_TASKS}
    groups = {name: inference_tab.describe(ctx, path)[1] for name, path in paths.items()}
    assert groups == {
        "fake-gen": "image-generation",
        "fake-writer": "text-generation",
        "fake-embed": "features",
        "fake-sentiment": "text",
        "fake-graph": "graph",
    }
    from archzoo.registry.specs import TASKS

    assert {task: inference_tab.widget_group(task) in inference_tab.GROUPS for task in TASKS} == dict.fromkeys(
        TASKS, True
    )
    assert inference_tab.widget_group("image-classification") == "image"
    assert inference_tab.widget_group("tabular-classification") == "tabular"

    images, message = inference_tab.generate_images(ctx, paths["fake-gen"], 3, 5, 0)
    assert len(images) == 3 and "seed 5" in message
    text, _ = inference_tab.generate_text(ctx, paths["fake-writer"], "Hello", 0.8, 100)
    assert text == "Hello and so on"
    vectors, similarity, _ = inference_tab.extract_features(ctx, paths["fake-embed"], "abc\nabc\nxyz")
    assert vectors.shape[0] == 3 and similarity.iloc[0, 2] == pytest.approx(1.0)
    assert list(similarity.columns) == ["", "1. abc", "2. abc", "3. xyz"]  # two texts alike: still two columns
    label, table, _ = inference_tab.classify_text(ctx, paths["fake-sentiment"], "a good day\na bad day", 2)
    assert max(label, key=label.get) == "positive" and table["prediction"].tolist() == ["positive", "negative"]
    assert "the text is empty" in inference_tab.classify_text(ctx, paths["fake-sentiment"], " ", 2)[2]
    assert "count must be a whole number" in inference_tab.generate_images(ctx, paths["fake-gen"], 0, 5, 0)[1]


# -- Evaluate and Checkpoints ----------------------------------------------------------------


def test_nodes_of_a_graph_checkpoint_are_classified(ui, client):
    """The node-classification widgets: every test node by default (its accuracy is the
    checkpoint's test accuracy), chosen nodes with the split each was in, bad indices named."""
    from archzoo.api import evaluate_checkpoint, train

    best = train("gnn-sbm", overrides={"epochs": 20}, out=str(ui.files / "graph")).best_dir
    assert "node-classification" in client.predict(str(best), api_name="/checkpoint_info")[0]
    table, notes = client.predict(str(best), "", api_name="/classify_nodes")
    accuracy = evaluate_checkpoint(best)["accuracy"]
    assert f"every test node ({len(table['data'])})" in notes and f"accuracy {accuracy:.4f}" in notes
    assert {row[1] for row in table["data"]} == {"test"}
    table, notes = client.predict(str(best), "3, 7", api_name="/classify_nodes")
    assert [row[0] for row in table["data"]] == [3, 7] and all(
        row[1] in ("train", "val", "test") for row in table["data"]
    )
    assert "between 0 and 999, not '5000'" in client.predict(str(best), "3 5000", api_name="/classify_nodes")[1]


def test_evaluate_shows_metrics_and_a_confusion_matrix(client, trained):
    from archzoo.api import evaluate_checkpoint

    status, metrics, per_class, image = client.predict(trained.best, OWN, "test", api_name="/evaluate")
    values = dict(metrics["data"])
    assert values["accuracy"] == pytest.approx(evaluate_checkpoint(trained.best)["accuracy"], abs=1e-4)
    assert "Evaluated 359 examples of digits (test)" in status
    assert len(per_class["data"]) == 10 and Image.open(image).size[0] > 300
    assert "choose a checkpoint first" in client.predict(None, OWN, "test", api_name="/evaluate")[0]
    assert "inputs of shape" in client.predict(trained.best, "moons", "test", api_name="/evaluate")[0]


def test_the_checkpoints_tab_lists_runs_with_metrics_and_cards(client, trained):
    listing, chosen, card = client.predict(trained.best, api_name="/checkpoints")
    rows = {row[0]: dict(zip(listing["headers"], row)) for row in listing["data"]}
    name = Path(trained.best).parent.name + "/best"
    assert rows[name]["architecture"] == "mlp" and rows[name]["result"].startswith("test accuracy")
    assert "resumable" in rows[Path(trained.best).parent.name + "/last"]["notes"]
    assert "library_name" not in card and "mlp" in card
    assert "mlp" in client.predict(trained.best, api_name="/card")


def test_push_and_pull_from_the_checkpoints_tab(ui, client, trained, monkeypatch, tmp_path):
    import hub_server  # tests/hub_server.py: a local Hub-compatible server for the unmodified client
    from huggingface_hub import constants

    token = "hf_ui_write_0123456789abcdef"
    with hub_server.HubServer({token: ("alice", True)}) as server:
        for name, value in {
            "HF_ENDPOINT": server.url,
            "HF_HOME": str(tmp_path / "hf"),
            "HF_HUB_DISABLE_XET": "1",
        }.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("HF_TOKEN", raising=False)
        for name, value in {
            "ENDPOINT": server.url,
            "HF_HOME": str(tmp_path / "hf"),
            "HF_HUB_CACHE": str(tmp_path / "hf" / "hub"),
            "HF_TOKEN_PATH": str(tmp_path / "hf" / "token"),
            "HF_HUB_DISABLE_XET": True,
            "HF_HUB_OFFLINE": False,
            "HUGGINGFACE_CO_URL_TEMPLATE": server.url + "/{repo_id}/resolve/{revision}/{filename}",
        }.items():
            monkeypatch.setattr(constants, name, value)

        assert "user/name" in client.predict(trained.best, "no-slash", False, token, api_name="/push")
        status = client.predict(trained.best, "alice/ui-digits", False, token, api_name="/push")
        assert "Pushed to" in status and token not in status
        status, listing, chosen = client.predict("alice/ui-digits", token, api_name="/pull")
        assert "Pulled alice/ui-digits into" in status
        assert "hub/alice/ui-digits" in [row[0] for row in listing["data"]]
        assert chosen["value"] == str(ui.store / "hub" / "alice" / "ui-digits")
        assert "az-error" in client.predict("alice/missing-repo", token, api_name="/pull")[0]
    assert "give a Hub reference" in client.predict("", "", api_name="/pull")[0]


# -- archzoo ui --------------------------------------------------------------------------------


def test_a_lora_adapter_is_merged_from_the_checkpoints_tab(ui, client, trained):
    """Merged beside the checkpoint into a folder transformers loads; a second merge
    into the same folder is refused and leaves the first intact; other models are refused."""
    from tiny_bert import sst2_rows, tiny_bert, write_csv
    from transformers import AutoModel

    from archzoo.api import train
    from archzoo.files import sha256_file

    reviews = write_csv(ui.files / "reviews.csv", sst2_rows(96, start=2000))
    overrides = {
        "encoder": str(tiny_bert()),
        "epochs": 1,
        "batch_size": 32,
        "r": 4,
        "text_column": "review",
        "label_column": "sentiment",
    }
    # In the store: the app writes (the merged folder beside it) only there.
    best = train("lora", dataset=str(reviews), overrides=overrides, out=str(ui.store / "lora")).best_dir
    message = client.predict(str(best), "", api_name="/merge_adapter")
    merged = best.parent / "merged"
    assert f"Merged into {merged}" in message
    assert AutoModel.from_pretrained(merged, use_safetensors=True).config.model_type == "bert"
    assert (merged / "head.safetensors").is_file() and (merged / "tokenizer.json").is_file()
    before = sha256_file(merged / "model.safetensors")
    assert "already exists" in client.predict(str(best), "", api_name="/merge_adapter")
    assert sha256_file(merged / "model.safetensors") == before
    assert "nothing to merge" in client.predict(trained.best, "", api_name="/merge_adapter")
    assert "outside the checkpoint store" in client.predict(str(best), "../elsewhere", api_name="/merge_adapter")


def test_archzoo_ui_binds_to_loopback_and_asks_for_the_password(tmp_path):
    port = free_port()
    env = {**os.environ, "ARCHZOO_CHECKPOINTS": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "archzoo.cli", "ui", "--port", str(port), "--auth", "ada:s3cret"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, process.stdout.read()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "archzoo ui did not start"
                time.sleep(0.2)
        assert listening_address(port) == "127.0.0.1"
        with pytest.raises(Exception):  # noqa: B017 - gradio_client's error for a refused login is not public
            Client(f"http://127.0.0.1:{port}/", verbose=False).predict(api_name="/models")
        with pytest.raises(Exception):  # noqa: B017
            Client(f"http://127.0.0.1:{port}/", auth=("ada", "wrong"), verbose=False)
        archs = Client(f"http://127.0.0.1:{port}/", auth=("ada", "s3cret"), verbose=False).predict(api_name="/models")[
            0
        ]
        assert "mlp" in [row[0] for row in archs["data"]]
    finally:
        process.terminate()
        process.wait(30)


def test_archzoo_ui_refuses_a_malformed_auth():
    result = subprocess.run(
        [sys.executable, "-m", "archzoo.cli", "ui", "--auth", "nopassword"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and "--auth takes USER:PASS" in result.stderr


def listening_address(port: int) -> str:
    """The local address a TCP port listens on, from /proc/net/tcp."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        address, port_hex = fields[1].split(":")
        if int(port_hex, 16) == port and fields[3] == "0A":  # LISTEN
            return socket.inet_ntoa(bytes.fromhex(address)[::-1])
    return ""


# -- Evaluate: should it ship? (issue #8) ------------------------------------------------------


def test_judge_shows_calibration_ood_shift_and_a_verdict(client, trained):
    config = Path(trained.best) / "config.json"
    before = config.read_bytes()
    status, verdict, numbers, reliability, ood, shift, roc = client.predict(
        trained.best, OWN, "test", "fashion-mnist", "", False, api_name="/judge"
    )
    assert "Judged 359 examples of digits (test). The checkpoint was not changed." in status
    assert "resized its images from 28x28 to the model's 8x8" in status
    assert "Verdict: " in verdict and any(v in verdict for v in ("ship", "collect more data", "redesign"))
    rows = dict(numbers["data"])
    assert (
        rows["test accuracy (95% Wilson interval)"].startswith("0.")
        and "MSP vs fashion-mnist: AUROC / FPR at 95% TPR" in rows
    )
    for picture in (reliability, ood, shift, roc):
        with Image.open(picture) as image:
            assert image.size[0] > 400 and image.size[1] > 200
    assert config.read_bytes() == before  # "store" unticked: nothing saved
    # Ticked, as `archzoo report` does: the temperature and the card figures go into the checkpoint.
    status = client.predict(trained.best, OWN, "test", "none", "", True, api_name="/judge")[0]
    assert "Saved in the checkpoint" in status
    meta = json.loads(config.read_text())
    assert meta["calibration"]["temperature"] > 0 and meta["trust"]["ood"] is None
    assert meta["weights_sha256"] == json.loads(before)["weights_sha256"]
    assert "choose a checkpoint first" in client.predict(None, OWN, "test", "none", "", False, api_name="/judge")[0]
    assert (
        "'moons' has inputs of shape (2,)"
        in client.predict(trained.best, OWN, "test", "moons", "", False, api_name="/judge")[0]
    )
    # Core's notes name CLI options; the page names its own boxes instead.
    automatic = client.predict(trained.best, OWN, "test", AUTO_OOD, "", False, api_name="/judge")[0]
    assert "none known for 'digits'; name one (the box 'Out-of-distribution set')" in automatic
    assert "--ood" not in automatic


def test_a_generative_checkpoint_fills_the_gallery_reproducibly(ui, client):
    """A real VAE (trained on digits here) through the Inference tab's gallery:
    the count asked for, the same seed gives the same pictures, another seed others."""
    from archzoo.api import train

    best = train("vae", dataset="digits", overrides={"epochs": 1}, out=str(ui.files / "vae")).best_dir
    about = client.predict(str(best), api_name="/checkpoint_info")
    assert "image-generation" in about[0]
    assert [c[0] for c in about[2]["choices"]] == ["sample", "reconstruct", "interpolate", "traverse", "grid"]
    first, notes = client.predict(str(best), 4, 7, 0, "sample", "model's default", api_name="/generate_images")
    again, _ = client.predict(str(best), 4, 7, 0, "sample", "model's default", api_name="/generate_images")
    other, _ = client.predict(str(best), 4, 8, 0, "sample", "model's default", api_name="/generate_images")

    def pixels(gallery):
        return [
            np.asarray(Image.open(item["image"]["path"] if isinstance(item["image"], dict) else item["image"]))
            for item in gallery
        ]

    assert len(first) == 4 and pixels(first)[0].shape[:2] == (8, 8)
    assert all((a == b).all() for a, b in zip(pixels(first), pixels(again)))
    assert any((a != b).any() for a, b in zip(pixels(first), pixels(other)))
    assert "seed 7" in notes
    assert (
        "steps must be a whole number"
        in client.predict(str(best), 2, 7, -1, "sample", "model's default", api_name="/generate_images")[1]
    )
    # the VAE's other modes: reconstructions of test images (originals beside them), and a mode it lacks
    pairs, notes = client.predict(str(best), 3, 7, 0, "reconstruct", "model's default", api_name="/generate_images")
    assert len(pairs) == 6 and "3 test images of digits picked with seed 7" in notes
    assert (
        "unknown sampling mode 'walk'"
        in client.predict(str(best), 2, 7, 0, "walk", "model's default", api_name="/generate_images")[1]
    )


def test_a_feature_extractor_shows_embeddings_and_similarities(ui, client, tmp_path, monkeypatch):
    """bert-features on a tiny random BERT (tests/tiny_bert.py) with real SST-2
    rows: the Inference tab embeds texts; a text is most similar to itself."""
    from tiny_bert import sst2_rows, tiny_bert, write_csv

    from archzoo.api import train

    monkeypatch.setenv("ARCHZOO_FEATURE_CACHE", str(tmp_path / "feature-cache"))
    reviews = write_csv(tmp_path / "reviews.csv", sst2_rows(200))
    best = train(
        "bert-features",
        dataset=str(reviews),
        out=str(ui.files / "probe"),
        overrides={"encoder": str(tiny_bert()), "epochs": 1, "text_column": "review", "label_column": "sentiment"},
    ).best_dir
    assert "feature-extraction" in client.predict(str(best), api_name="/checkpoint_info")[0]
    vectors, similarity, notes = client.predict(
        str(best), "a gorgeous , witty film\ndull and long\na gorgeous , witty film", api_name="/extract_features"
    )
    assert [row[0] for row in vectors["data"]] == [
        "a gorgeous , witty film",
        "dull and long",
        "a gorgeous , witty film",
    ]
    assert vectors["data"][0][1] == 32  # the tiny encoder's width
    assert vectors["data"][0][2:] == vectors["data"][2][2:] and vectors["data"][0][2:] != vectors["data"][1][2:]
    assert similarity["data"][0][3] == pytest.approx(
        1.0, abs=1e-3
    )  # (a random encoder finds every text alike, so no more)
    assert "3 text(s), 32 dimensions" in notes
    assert "the text is empty" in client.predict(str(best), "   ", api_name="/extract_features")[2]


def test_a_moons_run_streams_its_decision_boundary_each_epoch_and_keeps_it(ui, client):
    """The live view: a 2-D classifier's boundary reaches the page while it trains, and every
    epoch's numbers stay in the run folder, drawable afterwards."""
    from archzoo.inference.views import live

    job = client.submit("mlp-moons", "moons", "", False, "live-moons", api_name="/train")
    outputs = list(job)
    final = job.result()
    pictures = [o[5] for o in outputs if o and isinstance(o[5], dict) and o[5].get("value")]
    assert "Finished" in final[0], final[0]
    assert pictures and pictures[-1]["label"] == "decision boundary after epoch 5"  # the form's 5 epochs
    assert Image.open(pictures[-1]["value"]).size[0] >= 400  # the final epoch's picture, with axes
    folder = ui.store / "live-moons"
    kept = live.kept(folder)["boundary"]
    assert kept[0] == 1 and kept[-1] == 5  # the first and last epochs are always kept
    view = live.draw(folder, "boundary", kept[0])
    assert view.data["epoch"] == 1 and view.data["probabilities"].shape == (live.RESOLUTION, live.RESOLUTION, 2)
