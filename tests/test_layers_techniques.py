"""The notes' activations, normalisations and initialisations in the MLP and CNN
(deep-learning notes 1.1.2, 1.5, 3.10, 4.6): each does what its name says.  Fast."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn as nn

from archzoo.plugins.cnn.model import build_cnn
from archzoo.plugins.mlp.model import MLP
from archzoo.toolkit.layers import ACTIVATIONS, initialise


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_every_activation_is_the_function_its_name_says(name):
    z = torch.linspace(-3, 3, 13)
    expected = {
        "relu": z.clamp(min=0),
        "gelu": z * 0.5 * (1 + torch.erf(z / math.sqrt(2))),
        "tanh": torch.tanh(z),
        "sigmoid": 1 / (1 + torch.exp(-z)),
        "leaky_relu": torch.where(z > 0, z, 0.01 * z),
        "elu": torch.where(z > 0, z, torch.exp(z) - 1),
        "silu": z / (1 + torch.exp(-z)),
        "mish": z * torch.tanh(torch.log1p(torch.exp(z))),
    }[name]
    mlp = MLP(4, (8,), 3, name)
    layer = mlp.net[2]
    torch.testing.assert_close(layer(z), expected, atol=1e-6, rtol=1e-5)


def test_regularizednet_is_the_notes_3_10_network():
    """784-256-256-10 with BatchNorm1d after each hidden Linear and Dropout 0.3 after its ReLU."""
    net = MLP(784, (256, 256), 10, "relu", 0.3, "batch")
    kinds = [type(m).__name__ for m in net.net]
    assert kinds == [
        "Flatten",
        "Linear",
        "BatchNorm1d",
        "ReLU",
        "Dropout",
        "Linear",
        "BatchNorm1d",
        "ReLU",
        "Dropout",
        "Linear",
    ]
    # 784*256+256 + 2*256 (BN) + 256*256+256 + 2*256 + 256*10+10
    assert sum(p.numel() for p in net.parameters()) == 270_346


def test_layer_norm_normalises_each_example():
    net = MLP(6, (32,), 2, "relu", 0.0, "layer").eval()
    hidden = net.net[:3](torch.randn(5, 6) * 10 + 3)  # Flatten, Linear, LayerNorm
    torch.testing.assert_close(hidden.mean(dim=1), torch.zeros(5), atol=1e-5, rtol=0)
    torch.testing.assert_close(hidden.std(dim=1, unbiased=False), torch.ones(5), atol=1e-3, rtol=0)


def weights(model):
    return [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]


def test_xavier_draws_inside_the_glorot_bound_and_fills_it():
    torch.manual_seed(0)
    net = initialise(MLP(400, (300,), 10), "xavier")
    first = weights(net)[0]
    bound = math.sqrt(6 / (400 + 300))
    assert first.weight.abs().max() <= bound
    assert first.weight.abs().max() > 0.99 * bound  # uniform over the whole interval
    assert torch.all(first.bias == 0)


def test_he_draws_with_variance_two_over_fan_in():
    torch.manual_seed(0)
    net = initialise(build_cnn(width=64, blocks=2, input_shape=(3, 16, 16)), "he")
    conv = weights(net)[1]  # 64 -> 128, 3x3: fan-in 576
    std = conv.weight.std().item()
    assert std == pytest.approx(math.sqrt(2 / (64 * 9)), rel=0.03)
    bn = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)][0]
    assert torch.all(bn.weight == 1) and torch.all(bn.bias == 0)  # normalisation left as it was


def test_normal_init_and_default_init_differ_from_each_other():
    torch.manual_seed(0)
    drawn = initialise(MLP(500, (500,), 10), "normal")
    assert weights(drawn)[0].weight.std().item() == pytest.approx(0.02, rel=0.03)
    torch.manual_seed(0)
    plain = initialise(MLP(500, (500,), 10), "default")
    # PyTorch's Linear default is U(-1/sqrt(n_in), 1/sqrt(n_in)): std 1/sqrt(3 * 500)
    assert weights(plain)[0].weight.std().item() == pytest.approx(1 / math.sqrt(1500), rel=0.03)


def test_cifar10net_is_the_notes_4_6_network_with_dropout2d_after_each_block():
    net = build_cnn(3, 64, 3, 2, 128, 0.5, (3, 32, 32), 10, True, 0.25)
    assert sum(p.numel() for p in net.parameters()) == 1_181_386  # Dropout2d adds no parameters
    kinds = [type(m).__name__ for m in net]
    assert kinds.count("Dropout2d") == 3
    assert all(kinds[i - 1] == "MaxPool2d" for i, k in enumerate(kinds) if k == "Dropout2d")


def test_dropout2d_drops_whole_feature_maps():
    torch.manual_seed(0)
    net = build_cnn(width=8, blocks=1, input_shape=(1, 8, 8), dropout2d=0.5).train()
    maps = net[:5](torch.randn(4, 1, 8, 8))  # conv, BN, ReLU, pool, Dropout2d
    per_map = maps.flatten(2).abs().sum(dim=2)  # (4, 8): one number per feature map
    dropped = per_map == 0
    assert dropped.any() and not dropped.all()
    # a kept map is scaled by 1 / (1 - p), a dropped one is zero everywhere: never a partial map
    assert torch.all((maps.flatten(2) == 0).all(dim=2) == dropped)
