"""The built-in MLP and CNN plugins: the lecture notes' parameter counts, the
shapes they accept, and the presets in registry.toml.  Fast: nothing trains."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest
import torch

from archzoo.plugins import cnn, mlp
from archzoo.plugins.cnn import model as cnn_model
from archzoo.plugins.mlp import model as mlp_model
from archzoo.registry.config import TRAIN_FIELDS, TrainConfig, build_config

REPO = Path(__file__).resolve().parents[1]
PRESETS = tomllib.loads((REPO / "registry.toml").read_text(encoding="utf-8")).get("presets", {})

#: (input_shape, num_classes) of each dataset the presets name.
SHAPES = {"digits": ((1, 8, 8), 10), "fashion-mnist": ((1, 28, 28), 10), "mnist": ((1, 28, 28), 10), "moons": ((2,), 2)}

PLUGINS = {"mlp": (mlp, mlp_model), "cnn": (cnn, cnn_model)}


class Collect:
    """A stand-in for the host's registry: remembers what a plugin declares."""

    def __init__(self):
        self.architectures = {}

    def add_architecture(self, spec):
        self.architectures[spec.name] = spec

    def add_dataset(self, spec):  # pragma: no cover - these plugins declare none
        raise AssertionError("mlp and cnn declare no datasets")


def spec_of(name):
    registry = Collect()
    PLUGINS[name][0].archzoo_register(registry=registry)
    return registry.architectures[name]


def build(name, values=None, input_shape=None, num_classes=None):
    """Build like the host does: a validated config, dataset fields filled, then build_model."""
    spec = spec_of(name)
    values = dict(values or {})
    if input_shape is not None:
        values["input_shape"] = input_shape
    if num_classes is not None:
        values["num_classes"] = num_classes
    config = build_config(spec.config, values, owner=name)
    return PLUGINS[name][1].build_model(spec=spec, config=config)


def count(model):
    return sum(p.numel() for p in model.parameters())


def forward(model, input_shape, batch=2):
    model.eval()
    with torch.no_grad():
        return model(torch.randn(batch, *input_shape))


# -- the specs ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_spec_points_at_its_model_module(name):
    spec = spec_of(name)
    assert spec.task == "image-classification"
    assert spec.default_dataset == "digits"
    assert spec.implementation == f"archzoo.plugins.{name}.model"
    assert spec.summary and spec.citation


def test_mlp_also_serves_tabular_data():
    assert spec_of("mlp").tasks == ("image-classification", "tabular-classification", "tabular-regression")


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_declared_parameters_match_the_default_model(name):
    spec = spec_of(name)
    shape, classes = SHAPES[spec.default_dataset]
    assert count(build(name, input_shape=shape, num_classes=classes)) == spec.parameters
    assert count(build(name)) == spec.parameters  # the config's own defaults are digits-sized


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_config_fields_do_not_reuse_training_names(name):
    config = spec_of(name).config
    names = {f.name for f in dataclasses.fields(config)}
    assert not names & set(TRAIN_FIELDS)
    from_data = {f.name: f.metadata["from_data"] for f in dataclasses.fields(config) if f.metadata.get("from_data")}
    assert from_data == {"input_shape": "input_shape", "num_classes": "num_classes"}


def test_catalogue_cards_do_not_import_torch():
    import subprocess
    import sys

    code = "import sys, archzoo.plugins.mlp, archzoo.plugins.cnn; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# -- the lecture notes' counts ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "hidden, expected",
    [
        ((256,), 203_530),
        ((256, 128), 235_146),
        ((1024,), 814_090),
        ((256, 128, 64), 242_762),
        ((64, 64, 64, 64), 63_370),
    ],
)
def test_mlp_counts_on_28x28(hidden, expected):
    assert count(build("mlp", {"hidden": hidden}, (1, 28, 28), 10)) == expected


def test_cnn_three_block_network_from_the_notes():
    values = {"width": 64, "blocks": 3, "convs_per_block": 2, "head_hidden": 128, "dropout": 0.5}
    model = build("cnn", values, (3, 32, 32), 10)
    assert count(model) == 1_181_386
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [64, 64, 128, 128, 256, 256]
    assert [m.p for m in model.modules() if isinstance(m, torch.nn.Dropout)] == [0.5]
    assert forward(model, (3, 32, 32)).shape == (2, 10)


def test_cnn_in_ten_lines():
    model = build("cnn", {"width": 64, "blocks": 1, "convs_per_block": 1, "head_hidden": 0}, (3, 32, 32), 10)
    assert count(model) == 2_570
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "AdaptiveAvgPool2d", "Flatten", "Linear"]


# -- shapes ---------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32), (1, 8, 8), (2,)])
@pytest.mark.parametrize("activation", ["relu", "gelu", "tanh"])
def test_mlp_forward_shapes(shape, activation):
    model = build("mlp", {"hidden": (32, 16), "activation": activation, "dropout": 0.1}, shape, 7)
    assert forward(model, shape).shape == (2, 7)


def test_mlp_without_hidden_layers_is_logistic_regression():
    model = build("mlp", {"hidden": ()}, (2,), 2)
    assert count(model) == 2 * 2 + 2


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32), (1, 8, 8), (3, 13, 17)])
@pytest.mark.parametrize("kernel_size", [1, 3, 5])
def test_cnn_forward_shapes(shape, kernel_size):
    model = build("cnn", {"kernel_size": kernel_size, "head_hidden": 32, "dropout": 0.2}, shape, 5)
    assert forward(model, shape).shape == (2, 5)


@pytest.mark.parametrize("blocks", [3, 5])
def test_cnn_skips_pools_once_the_image_is_one_pixel(blocks):
    model = build("cnn", {"blocks": blocks, "width": 4}, (1, 8, 8), 10)
    pools = [m for m in model.modules() if isinstance(m, torch.nn.MaxPool2d)]
    assert len(pools) == 3  # 8 -> 4 -> 2 -> 1, then no more
    assert forward(model, (1, 8, 8)).shape == (2, 10)
    model.train()
    assert model(torch.randn(4, 1, 8, 8)).shape == (4, 10)  # BatchNorm on 1x1 maps still trains


def test_cnn_pool_can_be_turned_off():
    model = build("cnn", {"pool": False}, (1, 8, 8), 10)
    assert not any(isinstance(m, torch.nn.MaxPool2d) for m in model.modules())
    assert count(model) == spec_of("cnn").parameters  # pooling has no parameters


def test_cnn_rejects_inputs_that_are_not_images():
    with pytest.raises(ValueError, match="channels, height, width"):
        build("cnn", input_shape=(2,), num_classes=2)


# -- presets -------------------------------------------------------------------------


EXPECTED_PRESETS = {
    "mlp-fashion": 203_530,
    "mlp-fashion-deep": 235_146,
    "mlp-1024": 814_090,
    "mlp-256-128-64": 242_762,
    "mlp-64x4": 63_370,
    "mlp-moons": 2 * 32 + 32 + 32 * 32 + 32 + 32 * 2 + 2,
    "cnn-notes": 1_181_386 - 2 * 64 * 9,  # one input channel instead of three
    "cnn-10-lines": 2_570 - 2 * 64 * 9,
    "cnn-fashion": 72_890,  # its cost is checked below; its accuracy is the benchmark's business
    "regularizednet": 270_346,  # notes 3.10: 784-256-256-10, two BatchNorm1d of 512 parameters each
    "cifar10net": 1_181_386 - 2 * 64 * 9,  # notes 4.6: cnn-notes with Dropout2d, which has no parameters
}


def test_every_expected_preset_is_there():
    assert set(EXPECTED_PRESETS) <= set(PRESETS)


@pytest.mark.parametrize("name", sorted(EXPECTED_PRESETS))
def test_preset_builds_on_its_dataset(name):
    preset = PRESETS[name]
    arch = preset["architecture"]
    shape, classes = SHAPES[preset["dataset"]]
    assert preset["summary"]
    build_config(TrainConfig, preset.get("train", {}), owner=name)  # training settings are valid
    model = build(arch, preset.get("config", {}), shape, classes)
    assert count(model) == EXPECTED_PRESETS[name]
    assert forward(model, shape).shape == (2, classes)


def multiply_adds(model, input_shape):
    """Multiply-adds of one forward pass through the convolutions and linear layers."""
    total = []
    hooks = [
        m.register_forward_hook(lambda m, args, out: total.append(out[0].numel() * m.weight[0].numel()))
        for m in model.modules()
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))
    ]
    forward(model, input_shape, batch=1)
    for hook in hooks:
        hook.remove()
    return sum(total)


def test_cnn_fashion_is_cheap():
    """The Fashion-MNIST CNN must train on a 2-core CPU in well under a minute an
    epoch: keep it under ~10M multiply-adds per image (the notes' three-block
    network needs over 100M)."""
    preset = PRESETS["cnn-fashion"]
    assert multiply_adds(build("cnn", preset["config"], (1, 28, 28), 10), (1, 28, 28)) < 10e6
    notes = build("cnn", PRESETS["cnn-notes"]["config"], (1, 28, 28), 10)
    assert multiply_adds(notes, (1, 28, 28)) > 100e6


# -- through the real host ---------------------------------------------------------------


def test_host_registers_both_and_dispatches_build_model():
    from archzoo.registry.host import Host
    from archzoo.registry.settings import load_settings

    host = Host(load_settings(REPO / "registry.toml"), entry_points=False)
    assert {"mlp", "cnn"} <= set(host.architectures)
    for name in EXPECTED_PRESETS:
        assert host.resolve(name)[1].name == name
    for name, kind in (("mlp", mlp_model.MLP), ("cnn", torch.nn.Sequential)):
        spec = host.architecture(name)
        model = host.hooks(spec).build_model(build_config(spec.config, {}))
        assert type(model) is kind
        assert count(model) == spec.parameters
