"""Inference by task: sketches and uploads for image classifiers, rows for tabular
ones, and the request/answer shapes of the tasks no built-in serves yet (through
a fake plugin that provides one architecture per task)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from archzoo import ArchSpec, SampleResult, hookimpl, inference, param
from archzoo.errors import ArchzooError
from archzoo.registry.host import Host

# -- a fake plugin for the tasks without a built-in architecture ---------------------------


@dataclass
class TinyConfig:
    width: int = param(4, "width of the one layer", min=1, max=64)


FAKE_TASKS = {
    "fake-gen": "image-generation",
    "fake-writer": "text-generation",
    "fake-embed": "feature-extraction",
    "fake-sentiment": "text-classification",
    "fake-graph": "node-classification",
}


class FakeTasks:
    """One tiny architecture per task; ``sample`` answers in each task's result kind."""

    __distribution__ = "archzoo-fake-tasks"

    @hookimpl
    def archzoo_register(self, registry):
        for name, task in FAKE_TASKS.items():
            registry.add_architecture(
                ArchSpec(
                    name=name,
                    task=task,
                    summary=f"a fake {task} model for tests",
                    config=TinyConfig,
                    default_dataset="none",
                )
            )

    @hookimpl
    def build_model(self, spec, config):
        return torch.nn.Linear(config.width, config.width)

    @hookimpl
    def sample(self, spec, model, request, ctx):
        if spec.task == "image-generation":
            generator = torch.Generator().manual_seed(request["seed"])
            return SampleResult("images", {"images": torch.rand(request["n"], 1, 8, 8, generator=generator)})
        if spec.task == "text-generation":
            text = (request["prompt"] + " and so on")[: request["max_length"]]
            return SampleResult("text", {"texts": [text] * request["n"]})
        if spec.task == "feature-extraction":
            return SampleResult(
                "features", {"features": torch.tensor([[len(t), t.count("a"), 1.0] for t in request["texts"]])}
            )
        if spec.task == "text-classification":
            probabilities = torch.tensor([[0.8, 0.2] if "good" in t else [0.3, 0.7] for t in request["texts"]])
            return SampleResult(
                "class-probabilities", {"probabilities": probabilities, "class_names": ["positive", "negative"]}
            )
        return None


def fake_host(store) -> Host:
    from archzoo.registry.settings import Settings

    return Host(Settings(checkpoint_dir=store), entry_points=False, extra_plugins={"fake": FakeTasks()})


def write_fake_checkpoint(host: Host, name: str, folder):
    """A checkpoint of a fake architecture, written as the trainer writes one."""
    from archzoo.checkpoints.io import write_checkpoint
    from archzoo.checkpoints.meta import build_meta
    from archzoo.data import DataInfo
    from archzoo.registry.config import TrainConfig
    from archzoo.toolkit.models import parameter_count

    spec = host.architectures[name]
    config = TinyConfig()
    model = host.hooks(spec).build_model(config)
    info = DataInfo("none", spec.task, (4,), 2, ("positive", "negative"))
    meta = build_meta(
        spec=spec,
        config=config,
        train_config=TrainConfig(),
        info=info,
        dataset="none",
        metrics={},
        parameters=parameter_count(model)[0],
    )
    return write_checkpoint(folder, model, meta)


@pytest.fixture(scope="module")
def fakes(tmp_path_factory):
    store = tmp_path_factory.mktemp("fake-store")
    host = fake_host(store)
    return host, {name: write_fake_checkpoint(host, name, store / name) for name in FAKE_TASKS}


# -- real classifiers -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits_model(tmp_path_factory):
    from archzoo.training.launch import train

    out = tmp_path_factory.mktemp("digits") / "run"
    return train("mlp", dataset="digits", overrides={"epochs": 8, "lr": 3e-3}, out=str(out)).best_dir


@pytest.fixture(scope="module")
def moons_model(tmp_path_factory):
    from archzoo.training.launch import train

    out = tmp_path_factory.mktemp("moons") / "run"
    return train("mlp-moons", overrides={"epochs": 20}, out=str(out)).best_dir


def canvas():
    image = Image.new("RGBA", (280, 280), (0, 0, 0, 0))  # a sketchpad: transparent, black ink
    return image, ImageDraw.Draw(image)


def drawing(digit: str) -> Image.Image:
    image, draw = canvas()
    ink = {"fill": (0, 0, 0, 255), "width": 12}
    if digit == "0":
        draw.ellipse((90, 40, 190, 240), outline=(0, 0, 0, 255), width=12)
    elif digit == "1":
        draw.line((140, 30, 140, 250), **ink)
    elif digit == "7":
        draw.line((80, 50, 200, 50), **ink)
        draw.line((200, 50, 110, 240), **ink)
    elif digit == "4":
        draw.line((170, 40, 80, 170), **ink)
        draw.line((80, 170, 210, 170), **ink)
        draw.line((170, 40, 170, 250), **ink)
    return image


@pytest.mark.parametrize("digit", ["0", "1", "7", "4"])
def test_a_sketch_drawn_dark_on_light_is_recognised(digits_model, digit):
    prediction = inference.classify_drawing(digits_model, drawing(digit), top_k=3)
    assert prediction.top_k[0][0][0] == digit, prediction.top_k
    assert len(prediction.top_k[0]) == 3
    text = " ".join(prediction.notes)
    assert "converted from RGBA to grayscale" in text
    assert "inverted the colours" in text and "light-on-dark" in text
    assert "cropped to the strokes" in text and "to 8x8" in text
    assert prediction.seen.size[0] >= 64  # the model's input, scaled up to look at


def test_prepare_drawing_centres_and_fills_an_8x8_frame_like_the_digits_data(digits_model):
    from archzoo.inference.sampling import data_info as _data_info
    from archzoo.inference.sketch import prepare_drawing

    image, draw = canvas()
    draw.line((20, 20, 20, 120), fill=(0, 0, 0, 255), width=10)  # a small stroke in a corner
    notes: list[str] = []
    prepared = prepare_drawing(image, _data_info(digits_model, None), notes)
    pixels = np.asarray(prepared)
    assert prepared.mode == "L" and prepared.size == (8, 8)
    assert pixels.max() == 255 and pixels[:, 0].max() == 0 and pixels[:, -1].max() == 0  # centred
    assert pixels[0].max() > 0 and pixels[-1].max() > 0  # tall strokes span the frame, as digits do


def test_an_empty_sketch_is_answered_not_guessed(digits_model):
    with pytest.raises(ArchzooError, match="the sketch is empty"):
        inference.classify_drawing(digits_model, canvas()[0])
    with pytest.raises(ArchzooError, match="the sketch is empty"):
        inference.classify_drawing(digits_model, None)
    with pytest.raises(ArchzooError, match="the sketch is empty"):
        inference.classify_drawing(digits_model, Image.new("RGB", (100, 100), "white"))


def test_uploaded_digits_light_on_dark_are_not_inverted_and_are_recognised(digits_model, tmp_path):
    from sklearn.datasets import load_digits

    digits = load_digits()
    correct = 0
    for i in range(20):
        path = tmp_path / f"d{i}.png"
        Image.fromarray((digits.images[i] * 255 / 16).astype(np.uint8), mode="L").resize(
            (32, 32), Image.Resampling.NEAREST
        ).save(path)
        prediction = inference.classify_image(digits_model, str(path))
        assert not any("inverted" in n for n in prediction.notes)
        assert any("resized from 32x32 to 8x8" in n for n in prediction.notes)
        correct += prediction.top_k[0][0][0] == str(digits.target[i])
    assert correct >= 17


def test_an_upload_is_converted_and_it_says_so(digits_model):
    photo = Image.new("RGB", (64, 48), (250, 250, 250))
    ImageDraw.Draw(photo).line((32, 5, 32, 43), fill=(20, 20, 20), width=5)
    prediction = inference.classify_image(digits_model, photo)
    text = " ".join(prediction.notes)
    assert "inverted the colours" in text
    assert "converted from RGB to grayscale" in text and "resized from 64x48 to 8x8" in text
    kept = inference.classify_image(digits_model, photo, match_polarity=False)
    assert not any("inverted" in n for n in kept.notes)


def typed_digit(digit: str) -> Image.Image:
    """A digit typed in a font, black on a wide white picture, off centre: a screenshot, not a drawing."""
    from PIL import ImageFont

    picture = Image.new("RGB", (320, 160), "white")
    ImageDraw.Draw(picture).text((40, 30), digit, fill="black", font=ImageFont.load_default(size=64))
    return picture


def test_an_upload_centred_as_a_drawing_is_read_as_the_sketch_is(digits_model):
    picture = typed_digit("7")
    centred = inference.classify_image(digits_model, picture, centre=True)
    drawn = inference.classify_drawing(digits_model, picture)
    assert centred.top_k == drawn.top_k  # one preparation for both: crop, centre, thicken, resize
    text = " ".join(centred.notes)
    assert "upload: cropped to the strokes" in text and "upload: resized from" in text
    assert not any(n.startswith("drawing:") for n in centred.notes)


def test_typed_digits_are_read_better_cropped_and_centred(digits_model):
    plain = centred = 0
    for digit in "0123456789":
        plain += inference.classify_image(digits_model, typed_digit(digit)).top_k[0][0][0] == digit
        centred += inference.classify_image(digits_model, typed_digit(digit), centre=True).top_k[0][0][0] == digit
    # Uncentred, a typed digit is a small mark in a corner of an 8x8 frame: nearly always the same guess.
    assert plain <= 2 and centred >= plain + 3, (plain, centred)


def test_archzoo_predict_centres_image_files_as_the_app_does(digits_model, tmp_path):
    """``archzoo predict --centre`` reads files as the app's centred upload does: the same
    classes and probabilities for each file, and notes that name the file."""
    import json
    import subprocess
    import sys

    files = []
    for digit in "3", "7":
        files.append(tmp_path / f"typed-{digit}.png")
        typed_digit(digit).save(files[-1])
    command = [sys.executable, "-m", "archzoo.cli", "predict", str(digits_model), *map(str, files), "--json"]
    centred = subprocess.run([*command, "--centre"], capture_output=True, text=True, timeout=120)
    assert centred.returncode == 0, centred.stderr
    for path, answer in zip(files, json.loads(centred.stdout)):
        app = inference.classify_image(digits_model, str(path), centre=True).top_k[0]
        assert [(r["label"], round(r["probability"], 5)) for r in answer["top_k"]] == [
            (label, round(p, 5)) for label, p in app
        ]
    assert "typed-3.png: cropped to the strokes" in centred.stderr + centred.stdout
    results, _ = inference.predict(digits_model, [str(f) for f in files])
    plain = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert [[r["label"] for r in a["top_k"]] for a in json.loads(plain.stdout)] == [[c for c, _ in r] for r in results]


def test_a_blank_upload_centred_is_named_as_an_upload(digits_model):
    with pytest.raises(ArchzooError, match="the upload is blank"):
        inference.classify_image(digits_model, Image.new("RGB", (50, 50), "white"), centre=True)


def test_a_file_that_is_not_an_image_is_named(digits_model, tmp_path):
    bogus = tmp_path / "notes.png"
    bogus.write_text("not an image")
    with pytest.raises(ArchzooError, match="notes.png is not an image archzoo can read"):
        inference.classify_image(digits_model, str(bogus))
    with pytest.raises(ArchzooError, match="no image"):
        inference.classify_image(digits_model, None)


def test_rows_of_numbers_for_a_tabular_model(moons_model):
    prediction = inference.classify_rows(moons_model, "0.0, 0.9\n1.0, -0.45\n")
    assert [r[0][0] for r in prediction.top_k] == ["upper moon", "lower moon"]
    with pytest.raises(ArchzooError, match="expected 2 numbers, got 3"):
        inference.classify_rows(moons_model, "1, 2, 3")
    with pytest.raises(ArchzooError, match="type 2 numbers separated by commas"):
        inference.classify_rows(moons_model, "  \n")


def test_a_widget_of_another_task_is_refused_with_the_checkpoints_task(digits_model):
    with pytest.raises(ArchzooError, match="image-classification model; this needs a tabular-classification"):
        inference.classify_rows(digits_model, "1, 2")
    with pytest.raises(ArchzooError, match="this needs a image-generation"):
        inference.generate_images(digits_model, n=2)


def test_image_generation(fakes):
    host, checkpoints = fakes
    images = inference.generate_images(checkpoints["fake-gen"], n=3, seed=7, host=host)
    again = inference.generate_images(checkpoints["fake-gen"], n=3, seed=7, host=host)
    assert len(images) == 3 and images[0].size == (8, 8)
    assert [np.asarray(i).tolist() for i in images] == [np.asarray(i).tolist() for i in again]
    with pytest.raises(ArchzooError, match="count must be a whole number between 1 and 64"):
        inference.generate_images(checkpoints["fake-gen"], n=0, host=host)
    with pytest.raises(ArchzooError, match="seed must be a whole number"):
        inference.generate_images(checkpoints["fake-gen"], seed="abc", host=host)


def test_text_generation(fakes):
    host, checkpoints = fakes
    assert inference.generate_text(checkpoints["fake-writer"], "Once", temperature=0.7, max_length=12, host=host) == [
        "Once and so "
    ]
    with pytest.raises(ArchzooError, match="temperature must be above 0"):
        inference.generate_text(checkpoints["fake-writer"], "Once", temperature=0, host=host)


def test_feature_extraction_gives_embeddings_and_cosine_similarities(fakes):
    host, checkpoints = fakes
    features = inference.extract_features(checkpoints["fake-embed"], "banana\napple\n\nbanana", host=host)
    assert features.texts == ["banana", "apple", "banana"]
    assert len(features.vectors) == 3 and len(features.vectors[0]) == 3
    assert features.similarity[0][2] == pytest.approx(1.0) and features.similarity[0][1] < 1.0
    with pytest.raises(ArchzooError, match="the text is empty"):
        inference.extract_features(checkpoints["fake-embed"], " \n ", host=host)


def test_text_classification(fakes):
    host, checkpoints = fakes
    prediction = inference.classify_texts(
        checkpoints["fake-sentiment"], ["a good film", "a dull one"], top_k=1, host=host
    )
    assert prediction.top_k == [[("positive", pytest.approx(0.8))], [("negative", pytest.approx(0.7))]]
    with pytest.raises(ArchzooError, match="the text is empty"):
        inference.classify_texts(checkpoints["fake-sentiment"], "", host=host)


@pytest.fixture(scope="module")
def graph_model(tmp_path_factory):
    from archzoo.training.launch import train

    out = tmp_path_factory.mktemp("graph") / "run"
    return train("gnn-sbm", overrides={"epochs": 20}, out=str(out)).best_dir


def test_nodes_of_the_checkpoints_own_graph_are_classified(graph_model, digits_model):
    from archzoo.evaluation.evaluate import evaluate_checkpoint

    everyone = inference.classify_nodes(graph_model)
    assert set(everyone.splits) == {"test"} and len(everyone.nodes) == 200  # 20% of the 1,000 nodes
    assert everyone.accuracy == pytest.approx(evaluate_checkpoint(graph_model)["accuracy"], abs=1e-6)
    assert everyone.accuracy > 0.6  # four communities: chance is 0.25

    chosen = inference.classify_nodes(graph_model, "7, 3 7")
    assert chosen.nodes == [7, 3] and len(chosen.predicted) == 2
    assert all(split in ("train", "val", "test") for split in chosen.splits)
    assert all(name.startswith("community ") for name in chosen.true_classes + chosen.predicted)
    assert inference.classify_nodes(graph_model, [3]).predicted == [chosen.predicted[1]]

    for bad, message in [
        ("abc", "a node index must be a whole number, not 'abc'"),
        ("1000", "between 0 and 999, not '1000'"),
        ("-1", "not '-1'"),
    ]:
        with pytest.raises(ArchzooError, match=message):
            inference.classify_nodes(graph_model, bad)
    with pytest.raises(ArchzooError, match="image-classification model; this needs a node-classification model"):
        inference.classify_nodes(digits_model)


def test_the_request_table_covers_every_task():
    from archzoo.registry.specs import TASKS

    assert set(inference.REQUESTS) == set(TASKS)


def test_sample_checkpoint_takes_a_location_as_evaluate_checkpoint_does(moons_model):
    from archzoo.api import load, sample_checkpoint

    request = {"inputs": torch.tensor([[0.0, 0.5], [1.0, -0.4]])}
    by_name = sample_checkpoint(moons_model, request)
    loaded = sample_checkpoint(load(moons_model), request)
    assert by_name.kind == loaded.kind == "class-probabilities"
    assert torch.equal(by_name.outputs["probabilities"], loaded.outputs["probabilities"])
