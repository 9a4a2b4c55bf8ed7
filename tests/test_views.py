"""Views (archzoo.inference.views): each drawn from a tiny model trained here on real data
(the 2-D toy sets, scikit-learn's 8x8 digits, the synthetic text sets), and each checked
against the model itself: the boundary's grid against the model's own predictions, the
misclassified images against their labels, the filters against the first layer, the
latent plane against the test split, the attention against a causal mask."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest
import torch
from PIL import Image

from archzoo import ArchzooError
from archzoo.checkpoints.io import load
from archzoo.inference.data import evaluation_split
from archzoo.inference.sampling import sample_checkpoint
from archzoo.inference.views import VIEWS, ViewError, ViewRequest, available, draw, plugin_views
from archzoo.inference.views.attention import captured
from archzoo.registry.host import get_host
from archzoo.registry.limits import LimitError
from archzoo.toolkit.generative import to_unit
from archzoo.training.launch import train


@pytest.fixture(scope="module", autouse=True)
def store(module_store):
    """One checkpoint store for the module's runs (conftest's ``module_store``)."""
    return module_store


RUNS: dict[str, object] = {}


def trained(name: str, dataset: str | None = None, **overrides):
    """A loaded checkpoint of a tiny run, trained once per module."""
    key = f"{name}-{dataset}"
    if key not in RUNS:
        result = train(name, dataset=dataset, overrides={"epochs": 3, **overrides}, out=key)
        RUNS[key] = load(result.out_dir)
    return RUNS[key]


def decoded(view) -> Image.Image:
    image = Image.open(io.BytesIO(view.png))
    image.load()
    assert image.format == "PNG" and image.width > 100 and image.height > 100
    return image


def predictions(loaded, inputs: torch.Tensor) -> np.ndarray:
    result = sample_checkpoint(loaded, {"inputs": inputs})
    return result.outputs["probabilities"].argmax(dim=1).numpy()


def test_boundary_grid_classifies_the_training_points_as_the_model_does():
    mlp = trained("mlp-moons", epochs=30)
    assert available(mlp) == ["boundary"]
    view = draw(mlp, "boundary", ViewRequest(resolution=200))
    decoded(view)
    xs, ys = np.array(view.data["x"]), np.array(view.data["y"])
    probabilities = np.array(view.data["probabilities"])
    assert probabilities.shape == (200, 200, 2)
    assert np.allclose(probabilities.sum(axis=-1), 1.0, atol=1e-3)
    points = np.array(view.data["points"])  # data units
    column = np.abs(points[:, :1] - xs[None]).argmin(axis=1)
    row = np.abs(points[:, 1:] - ys[None]).argmin(axis=1)
    on_grid = probabilities[row, column].argmax(axis=1)
    info = mlp.info
    standardised = (torch.tensor(points, dtype=torch.float32) - torch.tensor(info.mean)) / torch.tensor(info.std)
    agree = (on_grid == predictions(mlp, standardised)).mean()
    assert agree > 0.97, agree  # only points in a cell the boundary crosses may differ
    assert np.array_equal(view.data["labels"], evaluation_split(mlp, split="train")[:][1])


def _linear_fit(view) -> float:
    """How well one straight line separates the grid's predicted classes (1.0: exactly)."""
    from sklearn.svm import LinearSVC

    xs, ys = np.array(view.data["x"]), np.array(view.data["y"])
    gx, gy = np.meshgrid(xs, ys)
    cells = np.stack([gx.ravel(), gy.ravel()], axis=1)
    labels = np.array(view.data["probabilities"]).argmax(axis=-1).ravel()
    line = LinearSVC(C=1e4, max_iter=200_000).fit(cells, labels)
    return float((line.predict(cells) == labels).mean())


def test_logistic_regression_draws_a_straight_boundary_and_the_mlp_does_not():
    logistic = draw(trained("logistic-moons", epochs=10), "boundary", ViewRequest(resolution=60))
    mlp = draw(trained("mlp-moons", epochs=30), "boundary", ViewRequest(resolution=60))
    assert _linear_fit(logistic) > 0.998
    assert _linear_fit(mlp) < 0.98
    assert logistic.data["margins"] == []  # logistic regression has no margin to draw


def test_the_linear_svm_adds_its_margin_through_the_hook():
    svm = trained("linear-svm-moons", epochs=5)
    assert "boundary" in plugin_views(svm, get_host())
    view = draw(svm, "boundary", ViewRequest(resolution=50))
    assert view.data["margins"] == [-1.0, 1.0]
    decoded(view)


def test_a_truth_table_has_a_boundary_too():
    view = draw(trained("perceptron-and", epochs=10), "boundary", ViewRequest(resolution=40))
    probabilities = np.array(view.data["probabilities"])
    assert sorted(map(tuple, view.data["points"])) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    xs, ys = np.array(view.data["x"]), np.array(view.data["y"])
    corner = probabilities[np.abs(ys - 1).argmin(), np.abs(xs - 1).argmin()]
    assert corner.argmax() == 1 and probabilities[np.abs(ys).argmin(), np.abs(xs).argmin()].argmax() == 0


def test_misclassified_images_are_misclassified_with_their_recorded_labels():
    cnn = trained("cnn", "digits", epochs=1)
    view = draw(cnn, "misclassified", ViewRequest(count=4))
    decoded(view)
    data = view.data
    test = evaluation_split(cnn, split="test")
    inputs, labels = test[:]
    predicted = predictions(cnn, inputs)
    confusion = np.zeros((10, 10), dtype=int)
    np.add.at(confusion, (labels.numpy(), predicted), 1)
    assert data["confusion"] == confusion.tolist()
    assert data["misclassified"] == int((predicted != labels.numpy()).sum()) == sum(c["count"] for c in data["cells"])
    assert data["misclassified"] > 0  # one epoch of a tiny CNN gets some wrong
    names = data["class_names"]
    for cell in data["cells"]:
        assert cell["true"] != cell["predicted"] and len(cell["indices"]) == cell["count"]
        for index in cell["indices"]:
            assert names[int(labels[index])] == cell["true"]
            assert names[int(predicted[index])] == cell["predicted"]


def test_filters_are_the_first_layer_cnn_and_mlp_alike():
    cnn = trained("cnn", "digits", epochs=1)
    view = draw(cnn, "filters")
    first = next(m for m in cnn.model.modules() if isinstance(m, torch.nn.Conv2d))
    assert view.data["shape"] == list(first.weight.shape) and view.data["kind"] == "Conv2d"
    assert view.data["shown"] == first.weight.shape[0]
    decoded(view)
    mlp = trained("mlp", "digits", epochs=1, hidden=(32,))
    view = draw(mlp, "filters", ViewRequest(count=16))
    assert view.data == {"layer": "net.1", "kind": "Linear", "shape": [32, 64], "shown": 16}


def test_activations_of_a_named_layer_and_a_message_for_a_wrong_name():
    cnn = trained("cnn", "digits", epochs=1)
    view = draw(cnn, "activations", ViewRequest(layer="0", index=3))
    assert view.data["layer"] == "0" and view.data["shape"] == [16, 8, 8] and view.data["index"] == 3
    default = draw(cnn, "activations")
    assert default.data["layer"] == "2"  # the first ReLU, after Conv2d and BatchNorm2d
    assert default.data["mean"] >= 0.0  # ReLU outputs
    decoded(default)
    with pytest.raises(ArchzooError, match=r"no layer 'conv9'; its layers are: 0, 1, 2"):
        draw(cnn, "activations", ViewRequest(layer="conv9"))
    size = len(evaluation_split(cnn, split="test"))
    with pytest.raises(ArchzooError, match=f"index 5000 is past the end of the test split of {size} examples"):
        draw(cnn, "activations", ViewRequest(index=5000))


def test_saliency_has_the_input_shape_and_grad_cam_only_where_there_are_convolutions():
    cnn = draw(trained("cnn", "digits", epochs=1), "saliency", ViewRequest(index=2))
    gradient = np.array(cnn.data["gradient"])
    assert gradient.shape == (8, 8) and math.isclose(gradient.max(), 1.0, abs_tol=1e-3)
    assert np.array(cnn.data["grad_cam"]).shape == (8, 8)
    mlp = draw(trained("mlp", "digits", epochs=1, hidden=(32,)), "saliency")
    assert mlp.data["grad_cam"] is None
    decoded(mlp)


def test_the_latent_plane_holds_one_point_per_test_image_with_its_class():
    ae = trained("autoencoder", "digits", latent_dim=2, hidden=(64,))
    assert available(ae) == ["latent", "reconstructions", "samples"]
    view = draw(ae, "latent")
    test = evaluation_split(ae, split="test")
    assert len(view.data["points"]) == len(test) and all(len(p) == 2 for p in view.data["points"])
    assert view.data["labels"] == test[:][1].tolist() and view.data["projection"] == "none"
    with torch.no_grad():
        codes = ae.model.encode(to_unit(test[:1][0], ae.info))
    assert np.allclose(view.data["points"][0], codes[0].detach().numpy(), atol=1e-3)
    decoded(view)


def test_a_vae_with_more_latent_dimensions_is_projected_and_says_so():
    vae = trained("vae", "digits", latent_dim=4, hidden=(64,))
    view = draw(vae, "latent", ViewRequest(count=100))
    assert len(view.data["points"]) == 100 and view.data["latent_dim"] == 4
    assert view.data["projection"] == "first two principal components"


def test_reconstructions_are_originals_above_their_reconstructions():
    ae = trained("autoencoder", "digits", latent_dim=2, hidden=(64,))
    view = draw(ae, "reconstructions", ViewRequest(count=5, index=10))
    assert view.data["indices"] == [10, 11, 12, 13, 14] and len(view.data["mse"]) == 5
    assert all(0 < e < 0.5 for e in view.data["mse"])
    decoded(view)


def test_a_point_generator_scatters_its_samples_and_shows_the_reverse_diffusion():
    ddpm = trained("ddpm-spirals", epochs=5)
    assert available(ddpm) == ["samples", "diffusion"]
    samples = draw(ddpm, "samples", ViewRequest(count=300, seed=1))
    assert np.array(samples.data["samples"]).shape == (300, 2)
    again = draw(ddpm, "samples", ViewRequest(count=300, seed=1))
    assert samples.data == again.data  # a seed draws the same samples
    frames = draw(ddpm, "diffusion", ViewRequest(count=50))
    assert frames.data["titles"][0] == "t = 1000" and frames.data["titles"][-1] == "t = 0"
    assert len(frames.data["frames"]) == 8 and np.array(frames.data["frames"][0]).shape == (50, 2)
    decoded(frames)


def test_image_generators_draw_samples():
    view = draw(trained("vae", "digits", latent_dim=4, hidden=(64,)), "samples", ViewRequest(count=9))
    assert view.data == {"seed": 0, "count": 9}
    decoded(view)


def test_attention_is_caught_from_multihead_attention_without_changing_the_output():
    model = trained("transformer", "sentiment-synthetic", epochs=1, layers=2, d_model=32, d_ff=64, heads=4)
    assert available(model) == ["attention"]
    view = draw(model, "attention", ViewRequest(index=1))
    layers = view.data["layers"]
    assert list(layers) == ["blocks.0.attention", "blocks.1.attention"]
    tokens = view.data["tokens"]
    maps = np.array(layers["blocks.0.attention"])
    assert maps.shape == (4, len(tokens), len(tokens))
    assert np.allclose(maps.sum(axis=-1), 1.0, atol=1e-3)
    ids = evaluation_split(model, split="test")[1][0][None]
    with torch.no_grad():
        plain = model.model(ids)
    from archzoo.inference.views.attention import AttentionCapture

    with torch.no_grad(), AttentionCapture(model.model) as capture:
        caught = model.model(ids)
    assert torch.allclose(plain, caught, atol=1e-5) and len(capture.maps) == 2  # the same up to rounding
    decoded(view)


def test_gpt_attention_is_recomputed_from_scaled_dot_product_attention_and_is_causal():
    gpt = trained("gpt", "sentences-synthetic", epochs=1)
    assert "attention" in available(gpt)
    view = draw(gpt, "attention", ViewRequest(count=20, layer="h.1.attn"))
    maps = np.array(view.data["layers"]["h.1.attn"])
    assert maps.shape == (4, 20, 20) and len(view.data["tokens"]) == 20
    assert np.allclose(np.triu(maps, k=1), 0.0) and np.allclose(maps.sum(axis=-1), 1.0, atol=1e-3)
    with pytest.raises(
        ArchzooError, match=r"no attention layer 'h.9.attn'; the layers that attend are: h.0.attn, h.1.attn"
    ):
        draw(gpt, "attention", ViewRequest(layer="h.9.attn"))


def test_vit_attention_covers_the_cls_token_and_the_patches():
    vit = trained("vit", "digits", epochs=1)
    view = draw(vit, "attention")
    first = np.array(next(iter(view.data["layers"].values())))
    assert first.shape[1:] == (17, 17)  # [CLS] + 4 x 4 patches of 2 x 2 pixels
    inputs = evaluation_split(vit, split="test")[0][0][None]
    assert len(captured(vit.model, inputs)) == len(view.data["layers"])


def test_a_view_the_model_does_not_offer_says_which_it_offers():
    mlp = trained("mlp-moons", epochs=30)
    with pytest.raises(ViewError, match=r"'mlp' \(moons\) does not offer the view 'filters'; it offers: boundary"):
        draw(mlp, "filters")
    with pytest.raises(ViewError, match=r"does not offer the view 'boundry' \(no such view\); it offers: boundary"):
        draw(mlp, "boundry")
    assert set(available(trained("cnn", "digits", epochs=1))) <= set(VIEWS)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"resolution": 501}, "grid resolution .*: 501 is more than the limit of 500"),
        ({"resolution": 4}, "resolution must be at least 8"),
        ({"count": 2001}, "count: 2,001 is more than the limit of 2,000"),
        ({"count": 0}, "count must be at least 1"),
        ({"index": -1}, "index must be 0 or more"),
    ],
)
def test_options_beyond_their_bounds_are_refused_before_any_work(options, message):
    with pytest.raises((ViewError, LimitError), match=message):
        ViewRequest(**options)


def test_bounds_of_single_views():
    with pytest.raises(ArchzooError, match="images per cell: 40 is more than the limit of 32"):
        draw(trained("cnn", "digits", epochs=1), "misclassified", ViewRequest(count=40))
    with pytest.raises(ArchzooError, match="count: 300 images is more than the limit of 256"):
        draw(trained("vae", "digits", latent_dim=4, hidden=(64,)), "samples", ViewRequest(count=300))


def test_a_run_whose_plugin_is_not_installed_names_what_to_install(store):
    folder = trained("logistic-moons", epochs=10).path
    meta = json.loads((folder / "config.json").read_text())
    meta["architecture"] = "hopfield"
    meta["plugin"] = {**meta.get("plugin", {}), "distribution": "archzoo-hopfield"}
    (folder / "config.json").write_text(json.dumps(meta))
    with pytest.raises(ArchzooError, match=r"architecture 'hopfield' is not installed: install archzoo-hopfield"):
        draw(folder, "boundary")


def test_views_are_written_as_png_and_json_and_never_overwritten_unasked(tmp_path):
    view = draw(trained("mlp-moons", epochs=30), "boundary", ViewRequest(resolution=30))
    written = view.write(tmp_path)
    assert [p.name for p in written] == ["boundary.png", "boundary.json"]
    assert Image.open(written[0]).size == decoded(view).size
    assert json.loads(written[1].read_text())["view"] == "boundary"
    with pytest.raises(ViewError, match="boundary.png already exists"):
        view.write(tmp_path)
    assert view.write(tmp_path, overwrite=True) == written
