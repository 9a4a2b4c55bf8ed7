"""Every parameter count docs/errata.md states, built and counted, so the page
cannot drift from the models.

Each model is built from its preset (or the architecture with the notes'
settings) exactly as ``archzoo info`` builds it, but on PyTorch's ``meta``
device: shapes only, no memory, so GPT-2 small's 124M parameters cost nothing.
Where the notes' own code differs from every archzoo model (the 4.8 ablation's
five-block CNN, the readings of the notes' code that the page rules out), the
notes' code is built here in plain PyTorch.  Each count is also looked up in
the page, so a number edited there without the model changing fails too.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import torch.nn as nn

from archzoo.api import fill_from_data, plan_run
from archzoo.registry import config as config_module
from archzoo.registry.host import Host

PAGE = (Path(__file__).resolve().parents[1] / "docs" / "errata.md").read_text(encoding="utf-8")
ERRATA = " ".join(PAGE.split())  # the page's text with its line breaks as spaces


@pytest.fixture(scope="module")
def host():
    return Host(entry_points=False)


def build(host, name, input_shape=None, **overrides):
    """The model ``archzoo train NAME --set ...`` would start from, on the meta device."""
    plan = plan_run(name, overrides=overrides, host=host)
    config, dataset = plan.config, host.datasets[plan.dataset]
    if dataset.input_shape:  # a text dataset's vocabulary comes from its data: the config's is the notes'
        config = fill_from_data(config, dataset)
    if input_shape is not None:
        config = config_module.replace(config, {"input_shape": input_shape})
    with torch.device("meta"):
        return host.hooks(plan.spec).build_model(config)


def count(module):
    return sum(p.numel() for p in module.parameters())


def shown(n):
    return f"{n:,}"


# -- the notes' own code, where no archzoo model is it -------------------------------------------


def notes_cnn(kernel_size, num_filters, num_blocks, in_channels=3, bias=True, cap=2):
    """4.8's ``build_cnn``; ``cap`` is where the channels stop doubling (the notes' 2)."""
    layers = []
    for i in range(num_blocks):
        out_channels = num_filters * 2 ** min(i, cap)
        layers += [
            nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=bias),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
            nn.MaxPool2d(2),
        ]
        in_channels = out_channels
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(in_channels, 10))


def one_bias_per_gate(model):
    """Parameters without PyTorch's second set of recurrent biases (``bias_hh``)."""
    return count(model) - sum(p.numel() for name, p in model.rnn.named_parameters() if name.startswith("bias_hh"))


# -- 1.7: the width and depth ablation ----------------------------------------------------------

MLP_ROWS = {  # preset: (the notes print, built)
    "mlp-1024": (812_042, 814_090),
    "mlp-fashion-deep": (235_146, 235_146),
    "mlp-256-128-64": (243_338, 242_762),
    "mlp-64x4": (63_434, 63_370),
}


@pytest.mark.parametrize("preset", MLP_ROWS)
def test_mlp_ablation_counts(host, preset):
    printed, built = MLP_ROWS[preset]
    assert count(build(host, preset)) == built
    assert f"`{preset}` | {shown(printed)} | {shown(built)} |" in ERRATA


def test_mlp_ablation_arithmetic(host):
    assert 784 * 1024 + 1024 + 1024 * 10 + 10 == 814_090
    without_hidden_bias = count(build(host, "mlp-1024")) - 1024
    assert without_hidden_bias == 813_066 != 812_042 and shown(without_hidden_bias) in ERRATA
    assert 814_090 - 812_042 == 2_048 and 243_338 - 242_762 == 576 and 63_434 - 63_370 == 64
    assert 235_146 + 128 * 64 == 243_338
    ratio = count(build(host, "mlp-1024")) / count(build(host, "mlp-256-128-64"))
    assert f"{ratio:.2f} times" in ERRATA


# -- 4.8: the CNN ablation ----------------------------------------------------------------------

CNN_ROWS = {  # (kernel, filters, blocks): (the notes print, built)
    (3, 32, 3): (52_778, 94_986),
    (5, 32, 3): (143_642, 260_362),
    (3, 64, 3): (207_946, 374_282),
    (3, 32, 5): (218_410, 390_666),
}


@pytest.mark.parametrize("row", CNN_ROWS, ids=lambda r: "k{}-f{}-b{}".format(*r))
def test_cnn_ablation_counts(host, row):
    printed, built = CNN_ROWS[row]
    kernel, filters, blocks = row
    assert count(notes_cnn(*row)) == built
    assert f"| {shown(printed)} | {shown(built)} |" in ERRATA
    assert 0.55 < printed / built < 0.56
    readings = {
        count(notes_cnn(*row, in_channels=1)),
        count(notes_cnn(*row, bias=False)),
        count(notes_cnn(*row, cap=blocks)),
    }
    assert printed not in readings
    plugin = build(
        host, "cnn", (3, 32, 32), kernel_size=kernel, width=filters, blocks=blocks, convs_per_block=1, head_hidden=0
    )
    capped = build(
        host,
        "cnn",
        (3, 32, 32),
        kernel_size=kernel,
        width=filters,
        blocks=blocks,
        convs_per_block=1,
        head_hidden=0,
        max_width=4 * filters,
    )
    assert count(capped) == built  # max_width stops the doubling where the notes' code does
    if blocks == 3:  # without the cap the 3-block rows are the same: they never double past 4 x
        assert count(plugin) == built
    else:
        assert count(plugin) == count(notes_cnn(*row, cap=blocks)) == 1_575_690 and "1,575,690" in ERRATA


def test_cnn_kernel_cost():
    ratio = count(notes_cnn(5, 32, 3)) / count(notes_cnn(3, 32, 3))
    assert f"{ratio:.2f} times" in ERRATA


# -- 5.8 and 5.9: the SentimentLSTM and the RNN ablation ----------------------------------------


def test_sentiment_lstm_count_and_the_readings_it_rules_out(host):
    model = build(host, "rnn-notes")
    parts = (model.embedding, model.rnn, model.head)
    assert [count(p) for p in parts] == [128_000, 790_528 + 1_576_960, 65_922]
    assert 2 * (4 * 256 * (128 + 256) + 2 * 4 * 256) == 790_528
    assert 2 * (4 * 256 * (512 + 256) + 2 * 4 * 256) == 1_576_960
    assert count(model) == 2_561_410
    readings = [
        one_bias_per_gate(model),
        count(build(host, "rnn-notes", bidirectional=False)),
        count(build(host, "rnn-notes", layers=1)),
    ]
    assert readings == [2_557_314, 1_082_754, 984_450] and 1_447_170 not in readings
    for n in (1_447_170, 2_561_410, *readings):
        assert shown(n) in ERRATA


RNN_ROWS = {  # (cell, hidden, layers): (the notes print, built)
    ("lstm", 64, 1): (226_434, 227_586),
    ("lstm", 128, 1): (560_642, 392_706),
    ("lstm", 256, 1): (1_568_258, 919_554),
    ("lstm", 128, 2): (823_810, 787_970),
    ("lstm", 128, 3): (1_086_978, 1_183_234),
    ("gru", 128, 1): (432_386, 326_658),
    ("gru", 128, 2): (630_530, 623_106),
}


def flexible_rnn(host, cell, hidden, layers):
    """5.9's ``FlexibleRNN``: Embedding(1,000, 128), bidirectional cell, Linear(2 x hidden, 2)."""
    return build(host, "rnn", cell=cell, embed_dim=128, hidden=hidden, layers=layers, bidirectional=True, head_hidden=0)


@pytest.mark.parametrize("row", RNN_ROWS, ids=lambda r: "{}-{}x{}".format(*r))
def test_rnn_ablation_counts(host, row):
    printed, built = RNN_ROWS[row]
    cell, hidden, layers = row
    model = flexible_rnn(host, *row)
    assert count(model) == built
    assert count(model.embedding) == 1000 * 128 and count(model.head) == 2 * hidden * 2 + 2
    assert f"| {cell.upper()} | {hidden} | {layers} | {shown(printed)} | {shown(built)} |" in ERRATA


def test_rnn_ablation_layer_increments(host):
    lstm = [RNN_ROWS[("lstm", 128, n)] for n in (1, 2, 3)]
    gru = [RNN_ROWS[("gru", 128, n)] for n in (1, 2)]
    printed_lstm = {b[0] - a[0] for a, b in zip(lstm, lstm[1:])}
    built_lstm = {b[1] - a[1] for a, b in zip(lstm, lstm[1:])}
    assert printed_lstm == {2 * (4 * 128 * (128 + 128) + 4 * 128)} == {263_168}
    assert gru[1][0] - gru[0][0] == 2 * (3 * 128 * (128 + 128) + 2 * 3 * 128) == 198_144
    assert built_lstm == {395_264} and gru[1][1] - gru[0][1] == 296_448
    for n in (263_168, 198_144, 395_264, 296_448):
        assert shown(n) in ERRATA


def test_gru_against_lstm(host):
    lstm, gru = flexible_rnn(host, "lstm", 128, 1), flexible_rnn(host, "gru", 128, 1)
    assert count(gru.rnn) == 198_144 and count(lstm.rnn) == 264_192 and 4 * count(gru.rnn) == 3 * count(lstm.rnn)
    assert "198,144 against 264,192" in ERRATA
    for layers in (1, 2):
        smaller = 1 - count(flexible_rnn(host, "gru", 128, layers)) / count(flexible_rnn(host, "lstm", 128, layers))
        assert f"{100 * smaller:.1f}%" in ERRATA


# -- the rest of the page's counts --------------------------------------------------------------


def test_sequence_model_counts(host):
    assert count(build(host, "rnn-notes")) - one_bias_per_gate(build(host, "rnn-notes")) == 4_096
    assert count(build(host, "transformer-notes")) == 2_073_602
    assert count(build(host, "transformer-notes", norm="post")) == 2_073_346
    tied, untied = build(host, "gpt-2-small"), build(host, "gpt-2-small", tie_embeddings=False)
    assert count(tied) == 124_439_808 and count(untied) == 163_037_184 and count(untied) - count(tied) == 38_597_376
    for n in (4_096, 2_073_602, 2_073_346, 124_439_808, 163_037_184, 38_597_376):
        assert shown(n) in ERRATA


def test_resnet_and_vit_counts(host):
    import torchvision

    with torch.device("meta"):
        imagenet = torchvision.models.resnet18()
    one_channel = build(host, "resnet18-transfer-fashion", pretrained=False, freeze_epochs=0).net
    three = build(host, "resnet18-transfer-fashion", (3, 28, 28), pretrained=False, freeze_epochs=0).net
    always_frozen = sum(count(getattr(one_channel, name)) for name in ("conv1", "bn1", "layer1", "layer2"))
    counts = {
        "imagenet": count(imagenet),
        "new head": count(three),
        "fashion": count(one_channel),
        "phase 1": count(one_channel.fc),
        "layer3": count(one_channel.layer3),
        "layer4": count(one_channel.layer4),
        "phase 2": count(one_channel.layer3) + count(one_channel.layer4) + count(one_channel.fc),
        "always frozen": always_frozen,
        "resnet-8": count(build(host, "resnet8-fashion")),
        "resnet-8, 3 channels": count(build(host, "resnet8-fashion", (3, 28, 28))),
        "vit": count(build(host, "vit-patch7-fashion")),
    }
    assert counts == {
        "imagenet": 11_689_512,
        "new head": 11_181_642,
        "fashion": 11_175_370,
        "phase 1": 5_130,
        "layer3": 2_099_712,
        "layer4": 8_393_728,
        "phase 2": 10_498_570,
        "always frozen": 676_800,
        "resnet-8": 77_754,
        "resnet-8, 3 channels": 78_042,
        "vit": 139_018,
    }
    assert counts["fashion"] == counts["always frozen"] + counts["phase 2"]
    for n in counts.values():
        assert shown(n) in ERRATA


def test_generative_counts(host):
    dcgan = build(host, "dcgan-fashion")
    assert count(dcgan.generator) == 837_504 and count(dcgan.discriminator) == 431_872
    assert count(build(host, "vae-notes")) == 835_384
    all_3x3 = nn.Sequential(  # the discriminator with 3 x 3 kernels in all three strided convolutions
        nn.Conv2d(1, 64, 3, 2, 1, bias=False),
        nn.Conv2d(64, 128, 3, 2, 1, bias=False),
        nn.BatchNorm2d(128),
        nn.Conv2d(128, 256, 3, 2, 1, bias=False),
        nn.BatchNorm2d(256),
        nn.Conv2d(256, 1, 4, 1, 0, bias=False),
    )
    assert count(all_3x3) == 374_080
    for n in (837_504, 431_872, 835_384, 374_080):
        assert shown(n) in ERRATA


# -- 10.20: the DDPM step -----------------------------------------------------------------------


def test_ddpm_step_coefficient(host):
    """The printed beta_t / sqrt(1 - alpha_t) against the derived beta_t / sqrt(1 - alpha-bar_t), on the
    ddpm-fashion schedule; and the plugin's step (clipping off) is the derived one."""
    from archzoo.plugins.ddpm.model import ddpm_sample

    plan = plan_run("ddpm-fashion", host=host)
    model = host.hooks(plan.spec).build_model(fill_from_data(plan.config, host.datasets[plan.dataset]))
    betas = model.betas.double()  # the plugin keeps float32; the arithmetic here is in float64
    alphas, alpha_bar = 1 - betas, torch.cumprod(1 - betas, dim=0)
    assert torch.allclose(alpha_bar.float(), model.alpha_bar)
    assert (
        model.timesteps == 1000
        and math.isclose(betas[0], 1e-4, rel_tol=1e-6)
        and math.isclose(betas[-1], 0.02, rel_tol=1e-6)
    )
    printed = betas / (1 - alphas).sqrt()
    derived = betas / (1 - alpha_bar).sqrt()
    assert torch.allclose(printed, betas.sqrt())
    assert math.isclose(printed[0] / derived[0], 1.0)
    ratios = [f"{printed[t - 1] / derived[t - 1]:.1f}" for t in (100, 500, 1000)]
    assert ratios == ["7.0", "9.6", "7.1"]
    assert "7.0 times the right one at t = 100, 9.6 times at t = 500 and 7.1 times at t = 1,000" in ERRATA

    class EchoDenoiser(nn.Module):
        """Predicts eps = x_t on a one-step schedule holding the last step's betas: one sampler step
        then gives x_T (1 - c) / sqrt(alpha_T), c the step's noise coefficient."""

        def __init__(self):
            super().__init__()
            self.timesteps, self.betas, self.alphas, self.alpha_bar = 1, betas[-1:], alphas[-1:], alpha_bar[-1:]

        def forward(self, x, t):
            return x

    x = torch.ones(1, dtype=torch.float64)
    out = ddpm_sample(EchoDenoiser(), x, torch.Generator().manual_seed(0))
    assert torch.allclose(out, (1 - derived[-1]) / alphas[-1].sqrt())
    assert not torch.allclose(out, (1 - printed[-1]) / alphas[-1].sqrt())


def test_cifar10net_count_and_the_readings_it_rules_out(host):
    """4.6: built as written, 1,181,386 on 3 x 32 x 32; no subset of its convolutions, biases,
    norms or head hidden layer gives the printed 952,202."""
    import itertools

    net = build(host, "cifar10net", (3, 32, 32))
    assert count(net) == 1_181_386 and count(build(host, "cifar10net")) == 1_180_234
    assert "952,202" in ERRATA and "1,181,386" in ERRATA
    convs = [(3, 64), (64, 64), (64, 128), (128, 128), (128, 256), (256, 256)]
    readings = set()
    for kept in itertools.product((0, 1), repeat=6):
        for bias, norm, head in itertools.product((1, 0), (1, 0), (256 * 128 + 128 + 128 * 10 + 10, 256 * 10 + 10)):
            readings.add(sum((a * b * 9 + bias * b + norm * 2 * b) * k for (a, b), k in zip(convs, kept)) + head)
    assert 1_181_386 in readings and 952_202 not in readings
