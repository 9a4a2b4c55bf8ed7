"""The classic architectures: perceptron, logistic regression, linear SVM,
ResNet, ViT and the message-passing GNN.

Parameter counts worked out by hand (and, for ResNet-18, torchvision's own
published 11,689,512), the perceptron's convergence on AND/OR and its
non-convergence on XOR through the real trainer, the ResNet-18 transfer
recipe against a local stand-in for the ImageNet weights (nothing is ever
downloaded), the ViT's patch-size check, and the GNN beating its
features-only baseline on the ``sbm`` graph.  Fast: tiny models, one thread.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from archzoo import ArchzooError, ConfigError
from archzoo.registry.config import TrainConfig, build_config
from archzoo.registry.host import Host
from archzoo.training.launch import train

REPO = Path(__file__).resolve().parents[1]
PRESETS = tomllib.loads((REPO / "registry.toml").read_text(encoding="utf-8"))["presets"]
NAMES = ("perceptron", "logistic", "linear-svm", "resnet", "vit", "gnn")
AND_OR = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])


@pytest.fixture(autouse=True)
def one_thread():
    """Models this small run faster on one thread, and far faster on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def host():
    return Host(entry_points=False)


def build(host, name, values=None):
    spec = host.architecture(name)
    return host.hooks(spec).build_model(build_config(spec.config, dict(values or {}), owner=name))


def count(model):
    return sum(p.numel() for p in model.parameters())


# -- catalogue cards ---------------------------------------------------------------------


def test_all_six_are_registered_with_their_model_modules(host):
    assert not host.broken
    for name in NAMES:
        spec = host.architecture(name)
        assert spec.distribution == "archzoo" and spec.summary and spec.citation
        assert spec.implementation == f"archzoo.plugins.{name.replace('-', '_')}.model"
    assert {"and", "or", "sbm"} <= set(host.datasets)
    assert host.datasets["sbm"].task == "node-classification"


def test_catalogue_cards_do_not_import_torch():
    modules = ", ".join(f"archzoo.plugins.{n.replace('-', '_')}" for n in NAMES)
    code = f"import sys, {modules}; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# -- parameter counts --------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, values, expected",
    [
        ("perceptron", {}, 3),
        ("logistic", {}, 3),
        ("logistic", {"input_shape": (1, 8, 8), "num_classes": 10}, 650),  # softmax regression beyond 2 classes
        ("linear-svm", {}, 3),
        ("resnet", {}, 77_754),  # the 8-layer ResNet on 1x8x8 (and on 1x28x28: pooling is global)
        ("resnet", {"input_shape": (1, 28, 28)}, 77_754),
        ("resnet", {"input_shape": (3, 32, 32)}, 78_042),
        ("resnet", {"variant": "resnet18", "input_shape": (3, 224, 224), "num_classes": 1000}, 11_689_512),
        ("resnet", {"variant": "resnet18", "input_shape": (3, 32, 32)}, 11_181_642),
        ("resnet", {"variant": "resnet18", "input_shape": (1, 28, 28)}, 11_175_370),
        ("vit", {}, 69_194),
        ("gnn", {}, 6_916),
        ("gnn", {"aggregation": "max"}, 6_916),
        ("gnn", {"message_passing": False}, 1_732),
    ],
)
def test_parameter_counts(host, name, values, expected):
    assert count(build(host, name, values)) == expected


def test_declared_counts_are_the_defaults(host):
    for name in NAMES:
        assert count(build(host, name)) == host.architecture(name).parameters, name


MY_PRESETS = {
    "perceptron-and": 3,
    "perceptron-or": 3,
    "perceptron-xor": 3,
    "logistic-moons": 3,
    "linear-svm-moons": 3,
    "resnet8-fashion": 77_754,
    "resnet18-transfer-fashion": 11_175_370,
    "vit-patch7-fashion": 139_018,
    "gnn-sbm": 6_916,
    "gnn-features-only": 1_732,
}


@pytest.mark.parametrize("preset", sorted(MY_PRESETS))
def test_preset_builds_with_the_count_its_summary_gives(host, preset):
    entry = PRESETS[preset]
    build_config(TrainConfig, entry.get("train", {}), owner=preset)
    dataset = host.datasets[entry["dataset"]]
    values = {**entry.get("config", {}), "input_shape": dataset.input_shape, "num_classes": dataset.num_classes}
    n = count(build(host, entry["architecture"], values))
    assert n == MY_PRESETS[preset]
    assert f"{n:,} parameters" in entry["summary"] or f"({n} parameters)" in entry["summary"]


# -- the perceptron, through the real trainer -------------------------------------------------


@pytest.mark.parametrize("gate, truth", [("and", [0, 0, 0, 1]), ("or", [0, 1, 1, 1])])
def test_perceptron_converges_on_and_or_and_separates_all_four_points(store, gate, truth):
    import archzoo

    result = train(f"perceptron-{gate}", out=gate)
    assert result.status == "finished"
    assert result.val_metrics["converged"] == 1.0 and result.val_metrics["accuracy"] == 1.0
    model = archzoo.load(store / gate).model
    assert model.decide(AND_OR).tolist() == truth
    w, b = model.linear.weight[0], model.linear.bias[0]
    assert ((AND_OR @ w + b > 0).long() == torch.tensor(truth)).all()  # the line w.x + b = 0 separates them
    converged_at = next(h["epoch"] for h in result.history if h["validation"]["converged"] == 1.0)
    assert converged_at < 20
    assert all(h["train"]["loss"] == 0.0 for h in result.history[converged_at - 1 :])  # no mistake after that


def test_perceptron_reports_that_it_does_not_converge_on_xor(store):
    result = train("perceptron-xor", overrides={"epochs": 5}, out="xor")
    assert result.status == "finished"  # a result, not a crash
    assert result.val_metrics["converged"] == 0.0 and result.test_metrics["converged"] == 0.0
    assert all(h["validation"]["converged"] == 0.0 and h["train"]["loss"] > 0.1 for h in result.history)


def test_perceptron_refuses_more_than_two_classes(host):
    with pytest.raises(ConfigError, match="num_classes"):
        build(host, "perceptron", {"num_classes": 3})


def test_logistic_and_svm_scores_are_sigmoids_of_one_margin(host):
    from archzoo.data import DataInfo
    from archzoo.training.context import EvalContext

    info = DataInfo("moons", "tabular-classification", (2,), 2, ("a", "b"))
    x = torch.randn(5, 2)
    for name in ("logistic", "linear-svm"):
        model = build(host, name).eval()
        margin = model.linear(x)[:, 0]
        result = host.hooks(name).sample(model, {"inputs": x}, EvalContext(torch.device("cpu"), info))
        assert torch.allclose(result.outputs["probabilities"][:, 1], torch.sigmoid(margin), atol=1e-6)


def test_svm_hinge_ignores_points_beyond_the_margin(host):
    from archzoo.plugins.linear_svm.model import hinge_loss

    model = build(host, "linear-svm")
    with torch.no_grad():
        model.linear.weight.copy_(torch.tensor([[1.0, 0.0]]))
        model.linear.bias.zero_()
    x = torch.tensor([[3.0, 0.0], [0.5, 0.0], [-2.0, 0.0]])
    labels = torch.tensor([1, 1, 1])  # beyond the margin, inside it, on the wrong side
    assert hinge_loss(model, x, labels, reduction="none").tolist() == [0.0, 0.5, 3.0]


# -- ResNet ------------------------------------------------------------------------


def test_residual_blocks_use_identity_or_projection_shortcuts(host):
    from archzoo.plugins.resnet.model import ResidualBlock

    model = build(host, "resnet", {"input_shape": (1, 28, 28)})
    blocks = [m for m in model.modules() if isinstance(m, ResidualBlock)]
    assert [type(b.shortcut).__name__ for b in blocks] == ["Identity", "Sequential", "Sequential"]
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3)]
    assert len(convs) + 1 == 8  # the 8-layer exercise: seven 3x3 convolutions and the Linear
    model.eval()
    assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10)


def test_small_resnet_adapts_to_channels_and_size(host):
    for shape in [(3, 32, 32), (1, 8, 8), (3, 96, 96), (1, 5, 7)]:
        model = build(host, "resnet", {"input_shape": shape, "num_classes": 4, "blocks_per_stage": 2}).eval()
        assert model(torch.randn(2, *shape)).shape == (2, 4)


@pytest.fixture
def hub_dir(tmp_path):
    """An empty torch hub cache, so that nothing a developer has cached is found."""
    previous = torch.hub.get_dir()
    torch.hub.set_dir(str(tmp_path / "hub"))
    yield tmp_path / "hub"
    torch.hub.set_dir(previous)


def test_resnet18_without_imagenet_weights_says_what_to_do(host, hub_dir, monkeypatch):
    import torchvision.models._api as api

    monkeypatch.setattr(api, "load_state_dict_from_url", lambda *a, **k: pytest.fail("must not download"))
    model = build(host, "resnet", {"variant": "resnet18", "pretrained": True, "input_shape": (1, 28, 28)})
    with pytest.raises(ArchzooError) as caught:
        host.hooks("resnet").configure_optimizers(model, TrainConfig())
    message = str(caught.value)
    assert str(hub_dir / "checkpoints" / "resnet18-f37072fd.pth") in message
    assert "download_weights=true" in message and "pretrained=false" in message


def test_resnet18_download_happens_only_when_asked_and_failures_are_clear(host, hub_dir, monkeypatch):
    import torchvision.models._api as api

    def offline(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(api, "load_state_dict_from_url", offline)
    model = build(
        host,
        "resnet",
        {"variant": "resnet18", "pretrained": True, "download_weights": True, "input_shape": (3, 32, 32)},
    )
    with pytest.raises(ArchzooError, match="downloading the ImageNet weights .* failed: no network"):
        host.hooks("resnet").configure_optimizers(model, TrainConfig())


def test_resnet18_from_scratch_needs_no_weights_and_refuses_a_frozen_random_backbone(host, hub_dir):
    model = build(host, "resnet", {"variant": "resnet18", "input_shape": (1, 28, 28)})
    assert host.hooks("resnet").configure_optimizers(model, TrainConfig()) is None  # the default optimiser
    assert model.eval()(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    with pytest.raises(ConfigError, match="freeze_epochs"):
        build(host, "resnet", {"variant": "resnet18", "freeze_epochs": 2})


def test_resnet18_two_phase_recipe_with_local_weights(host, hub_dir):
    from accelerate import Accelerator
    from torchvision.models import resnet18

    from archzoo.data import DataInfo
    from archzoo.training.context import StepContext
    from archzoo.training.trainer import build_optimizers

    torch.manual_seed(0)
    imagenet = resnet18().state_dict()  # a stand-in with the real file's name, shapes and keys
    (hub_dir / "checkpoints").mkdir(parents=True)
    torch.save(imagenet, hub_dir / "checkpoints" / "resnet18-f37072fd.pth")

    values = {**PRESETS["resnet18-transfer-fashion"]["config"], "freeze_epochs": 1, "input_shape": (1, 16, 16)}
    model = build(host, "resnet", values)
    hooks = host.hooks("resnet")
    train_config = build_config(TrainConfig, PRESETS["resnet18-transfer-fashion"]["train"])
    optimizers = build_optimizers(hooks, model, train_config)
    assert [g["lr"] for g in optimizers["main"].param_groups] == pytest.approx([1e-5, 1e-4, 1e-3])
    assert torch.equal(model.net.conv1.weight, imagenet["conv1.weight"].sum(dim=1, keepdim=True))
    assert isinstance(model.net.fc[0], torch.nn.Dropout) and model.net.fc[0].p == 0.3

    ctx = StepContext(
        device=torch.device("cpu"),
        info=DataInfo("x", "image-classification", (1, 16, 16), 10, tuple("0123456789")),
        accelerator=Accelerator(cpu=True),
        model=model,
        optimizers=optimizers,
        train_config=train_config,
    )
    batch = (torch.randn(8, 1, 16, 16), torch.randint(0, 10, (8,)))

    def snapshot():
        return {k: v.clone() for k, v in model.net.state_dict().items()}

    def moved(before):
        return sorted({k.split(".")[0] for k, v in model.net.state_dict().items() if not torch.equal(v, before[k])})

    model.train()
    before = snapshot()
    assert hooks.train_step(model, batch, ctx)["phase"] == 1.0
    assert moved(before) == ["fc"]  # phase 1: only the new head (batch-norm statistics included)
    ctx.epoch = 1
    before = snapshot()
    assert hooks.train_step(model, batch, ctx)["phase"] == 2.0
    assert moved(before) == ["fc", "layer3", "layer4"]  # phase 2: the stem, layer1 and layer2 stay frozen


# -- ViT ---------------------------------------------------------------------------


def test_vit_refuses_a_patch_size_that_does_not_tile_the_image(host):
    with pytest.raises(ConfigError) as caught:
        build(host, "vit", {"patch_size": 8, "input_shape": (1, 28, 28)})
    message = str(caught.value)
    assert "'patch_size'" in message and "8" in message and "1, 2, 4, 7, 14, 28" in message
    with pytest.raises(ConfigError, match="'heads'"):
        build(host, "vit", {"dim": 30, "heads": 4})


@pytest.mark.parametrize("patch, tokens", [(7, 17), (4, 50)])
def test_vit_on_28x28(host, patch, tokens):
    model = build(host, "vit", {"patch_size": patch, "input_shape": (1, 28, 28)}).eval()
    assert model.positions.shape == (1, tokens, 64)  # the patches and [CLS]
    assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    norms = [type(m).__name__ for m in model.blocks[0].children()]
    assert norms[0] == "LayerNorm"  # pre-norm: normalise before attending


# -- GNN ---------------------------------------------------------------------------


def test_aggregations_on_a_tiny_graph():
    from archzoo.plugins.gnn.model import aggregate

    messages = torch.tensor([[1.0, -2.0], [3.0, 4.0], [5.0, 0.0]])
    target = torch.tensor([0, 0, 2])  # node 1 receives nothing
    assert aggregate(messages, target, 3, "sum").tolist() == [[4.0, 2.0], [0.0, 0.0], [5.0, 0.0]]
    assert aggregate(messages, target, 3, "mean").tolist() == [[2.0, 1.0], [0.0, 0.0], [5.0, 0.0]]
    assert aggregate(messages, target, 3, "max").tolist() == [[3.0, 4.0], [0.0, 0.0], [5.0, 0.0]]


def test_max_aggregation_gradient_matches_a_node_by_node_max():
    from archzoo.plugins.gnn.model import aggregate

    torch.manual_seed(0)
    messages = F.relu(torch.randn(200, 8)).requires_grad_()  # ReLU messages: many ties at 0
    target = torch.randint(0, 30, (200,))
    weights = torch.randn(30, 8)
    (aggregate(messages, target, 30, "max") * weights).sum().backward()
    ours, messages.grad = messages.grad, None
    # torch.amax shares the gradient equally among tied maxima, one node at a time
    reference = torch.stack(
        [messages[target == v].amax(dim=0) if (target == v).any() else torch.zeros(8) for v in range(30)]
    )
    (reference * weights).sum().backward()
    assert torch.allclose(ours, messages.grad)


def test_sbm_is_one_graph_whose_batches_carry_it_whole():
    from torch.utils.data import DataLoader

    from archzoo.data import DataOptions
    from archzoo.plugins.gnn.data import load_sbm

    splits = load_sbm(DataOptions())
    nodes = [set(s.nodes.tolist()) for s in (splits.train, splits.val, splits.test)]
    assert sum(map(len, nodes)) == len(set().union(*nodes)) == 1000  # disjoint and complete
    batch = next(iter(DataLoader(splits.val, batch_size=32, collate_fn=splits.collate)))
    assert batch["inputs"]["x"].shape == (1000, 16) and batch["labels"].shape == (1000,)
    assert batch["nodes"].tolist() == sorted(nodes[1])[:32]
    source, target = batch["inputs"]["edge_index"]
    assert (batch["labels"][source] == batch["labels"][target]).float().mean() > 0.6  # mostly within communities


def test_gnn_beats_the_features_only_baseline_on_sbm(store):
    quick = {"epochs": 25, "hidden": 16}
    gnn = train("gnn-sbm", overrides=quick, out="gnn")
    mlp = train("gnn-features-only", overrides=quick, out="mlp")
    assert gnn.test_metrics["accuracy"] > mlp.test_metrics["accuracy"] + 0.15, (gnn.test_metrics, mlp.test_metrics)
    assert gnn.test_metrics["accuracy"] > 0.8


def test_gnn_sample_gives_probabilities_for_the_nodes_asked(host):
    from archzoo.data import DataOptions
    from archzoo.plugins.gnn.data import load_sbm
    from archzoo.training.context import EvalContext

    splits = load_sbm(DataOptions())
    model = build(host, "gnn").eval()
    graph = {"x": splits.collate.x, "edge_index": splits.collate.edge_index}
    result = host.hooks("gnn").sample(
        model, {"inputs": graph, "nodes": [3, 1, 4]}, EvalContext(torch.device("cpu"), splits.info)
    )
    assert result.outputs["probabilities"].shape == (3, 4)
    assert result.outputs["class_names"] == [f"community {k}" for k in range(4)]
