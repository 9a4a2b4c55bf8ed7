"""The VQ-VAE (notes 9.7): nearest-code quantisation, the straight-through gradient, the two
vector-quantisation terms of equation 9.25, codebook usage, and a tiny model trained by the
real trainer on scikit-learn's digits, sampled and drawn as archzoo's views draw it."""

from __future__ import annotations

import math

import pytest
import torch

from archzoo.checkpoints.io import load
from archzoo.data import DataOptions, load_dataset
from archzoo.inference.sampling import sample_checkpoint
from archzoo.inference.views import ViewRequest, available, draw
from archzoo.plugins.vqvae.model import Codebook, code_usage, vq_terms, vqvae_terms
from archzoo.registry import config as config_module
from archzoo.registry.host import get_host
from archzoo.registry.plans import fill_from_data
from archzoo.toolkit.generative import SampleError
from archzoo.training.context import EvalContext
from archzoo.training.launch import train

#: A tiny VQ-VAE for 8x8 digits: one stride-2 convolution to a 4x4 grid of 8-D vectors, 32 codes.
TINY = {"num_codes": 32, "code_dim": 8, "channels": (16,)}
TRAIN = {"batch_size": 64, "lr": 3e-3, "optimizer": "adam", "schedule": "constant", "weight_decay": 0.0}


def build(values=None, info=None):
    host = get_host()
    spec = host.architecture("vqvae")
    config = config_module.build_config(spec.config, values or {}, owner="vqvae")
    if info is not None:
        config = fill_from_data(config, info)
    return spec, host.hooks(spec), host.hooks(spec).build_model(config)


def test_quantisation_picks_the_nearest_code():
    torch.manual_seed(0)
    codebook = Codebook(num_codes=50, code_dim=6)
    with torch.no_grad():
        codebook.vectors.normal_()
    z = torch.randn(3, 5, 4, 6)
    indices = codebook.nearest(z)
    assert indices.shape == (3, 5, 4)
    brute = torch.cdist(z.reshape(-1, 6), codebook.vectors).argmin(dim=1).view(3, 5, 4)
    assert torch.equal(indices, brute)
    # and by hand: (1, 2) is nearest (1, 1) (squared distance 1), not (4, 4) (13) or (-3, 0) (20)
    with torch.no_grad():
        small = Codebook(3, 2)
        small.vectors.copy_(torch.tensor([[4.0, 4.0], [1.0, 1.0], [-3.0, 0.0]]))
    assert small.nearest(torch.tensor([[1.0, 2.0], [-2.0, 1.0], [5.0, 3.0]])).tolist() == [1, 2, 0]
    assert torch.equal(small.lookup(torch.tensor([2, 0])), torch.tensor([[-3.0, 0.0], [4.0, 4.0]]))


def test_the_straight_through_gradient_reaches_the_encoder_and_is_the_decoders_input_gradient():
    torch.manual_seed(0)
    _, _, model = build({**TINY, "input_shape": (1, 8, 8)})
    x = torch.rand(4, 1, 8, 8)
    logits, z_e, z_q, indices = model(x)
    assert torch.allclose(torch.sigmoid(logits), model.decode(z_q), atol=1e-6)  # forward: the decoder sees the codes
    z_e.retain_grad()
    (torch.sigmoid(logits) - x).pow(2).sum().backward()  # the reconstruction term alone
    first = model.encoder[0].weight.grad
    assert first is not None and first.abs().sum() > 0, "no gradient reached the encoder through argmin"
    assert model.codebook.vectors.grad is None  # the reconstruction does not move the codes
    # the gradient copied to z_e is the reconstruction's gradient with respect to z_q
    codes = z_q.detach().requires_grad_()
    (grad,) = torch.autograd.grad((model.decode(codes) - x).pow(2).sum(), codes)
    assert torch.allclose(z_e.grad, grad, atol=1e-6)


def test_codebook_and_commitment_terms_are_their_formulas_on_a_tiny_example():
    """z_e = (1, 2), its code e = (1, 1): both terms are ||z_e - e||^2 = 1; the codebook term moves
    only e (gradient 2(e - z_e) = (0, -2)), the commitment term only z_e (2(z_e - e) = (0, 2))."""
    z_e = torch.tensor([1.0, 2.0]).view(1, 2, 1, 1).requires_grad_()
    e = torch.tensor([1.0, 1.0]).view(1, 2, 1, 1).requires_grad_()
    codebook, commitment = vq_terms(z_e, e)
    assert codebook.tolist() == [1.0] and commitment.tolist() == [1.0]
    (d_e, d_z) = torch.autograd.grad(codebook.sum(), (e, z_e), allow_unused=True, materialize_grads=True)
    assert d_e.flatten().tolist() == [0.0, -2.0] and d_z.abs().sum() == 0
    (d_e, d_z) = torch.autograd.grad(commitment.sum(), (e, z_e), allow_unused=True, materialize_grads=True)
    assert d_z.flatten().tolist() == [0.0, 2.0] and d_e.abs().sum() == 0
    # in a model: summed over the grid, per image; the loss is reconstruction + codebook + beta x commitment
    torch.manual_seed(0)
    _, hooks, model = build({**TINY, "input_shape": (1, 8, 8), "beta": 0.5})
    x = torch.rand(3, 1, 8, 8)
    terms = vqvae_terms(model, x)
    z_e, _ = model.encode(x)
    by_hand = (z_e - model.codes(terms["indices"])).pow(2).sum(dim=(1, 2, 3))
    assert torch.allclose(terms["codebook"], by_hand) and torch.allclose(terms["commitment"], by_hand)
    assert torch.allclose(
        terms["reconstruction"], (model.decode(model.codes(terms["indices"])) - x).pow(2).sum((1, 2, 3))
    )
    metrics = hooks.evaluate(model, [(x, torch.zeros(3))], EvalContext(device=torch.device("cpu"), info=None))
    assert metrics["loss"] == pytest.approx(metrics["reconstruction"] + 1.5 * metrics["codebook"], rel=1e-6)
    assert metrics["mse"] == pytest.approx(metrics["reconstruction"] / 64, rel=1e-5)


def test_usage_and_perplexity_of_a_hand_made_histogram():
    assert code_usage(torch.tensor([5, 0, 5, 0])) == (2, pytest.approx(2.0))  # two codes, equally often
    assert code_usage(torch.tensor([0, 7, 0])) == (1, pytest.approx(1.0))  # one code takes everything
    assert code_usage(torch.ones(512)) == (512, pytest.approx(512.0))
    # p = (1/2, 1/4, 1/4): H = 1.5 log 2, perplexity 2^1.5
    used, perplexity = code_usage(torch.tensor([2, 1, 0, 1]))
    assert used == 3 and perplexity == pytest.approx(2**1.5)
    assert code_usage(torch.zeros(8)) == (0, 0.0)


def test_bad_shapes_are_config_errors():
    from archzoo import ConfigError

    with pytest.raises(ConfigError, match="divide by 4"):
        build({"input_shape": (1, 30, 30)})
    with pytest.raises(ConfigError, match="num_codes"):
        build({"num_codes": 1})


# -- trained by the trainer on digits ------------------------------------------------------------


@pytest.fixture(scope="module")
def run(module_store):
    return train("vqvae", dataset="digits", overrides={**TINY, **TRAIN, "max_steps": 300, "epochs": 20}, out="vq")


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", DataOptions())


def test_a_few_hundred_steps_lower_the_reconstruction_and_use_several_codes(run, digits):
    torch.manual_seed(0)
    _, hooks, untrained = build(TINY, digits.info)
    loader = torch.utils.data.DataLoader(digits.test, batch_size=256)
    before = hooks.evaluate(untrained.eval(), loader, EvalContext(device=torch.device("cpu"), info=digits.info))
    after = run.test_metrics
    assert set(after) == {"loss", "reconstruction", "codebook", "mse", "bce", "codes_used", "code_perplexity"}
    assert after["reconstruction"] < 0.3 * before["reconstruction"], (before, after)
    assert after["codes_used"] > 1 and after["code_perplexity"] > 1
    assert after["codes_used"] == int(after["codes_used"]) <= 32 and after["code_perplexity"] <= after["codes_used"]
    loaded = load(run.last_dir)
    counted = int(loaded.model.code_counts.sum())  # training's code choices, saved with the weights
    assert counted % 16 == 0 and 250 * 64 * 16 < counted <= 300 * 64 * 16  # whole 4x4 grids, ~300 batches of 64


def test_both_sample_modes(run, digits):
    loaded = load(run.last_dir)
    inputs = torch.stack([digits.test[i][0] for i in range(5)])
    images = sample_checkpoint(loaded, {"mode": "reconstruct", "inputs": inputs}).outputs
    assert images["images"].shape == (10, 1, 8, 8) and images["columns"] == 5
    originals, rebuilt = images["images"][:5], images["images"][5:]
    assert (originals - rebuilt).pow(2).mean() < 0.02  # a trained model's reconstructions are close
    drawn = sample_checkpoint(loaded, {"n": 6, "seed": 3}).outputs
    assert drawn["images"].shape == (6, 1, 8, 8) and "training code histogram" in drawn["notes"][0]
    assert torch.equal(drawn["images"], sample_checkpoint(loaded, {"n": 6, "seed": 3}).outputs["images"])
    assert not torch.equal(drawn["images"], sample_checkpoint(loaded, {"n": 6, "seed": 4}).outputs["images"])
    # the codes are drawn from the training histogram: with one code counted, every position is that code
    model = loaded.model
    saved = model.code_counts.clone()
    model.code_counts.zero_()
    model.code_counts[7] = 10
    one = sample_checkpoint(loaded, {"n": 2, "seed": 5}).outputs["images"]
    assert torch.allclose(one, model.decode(model.codes(torch.full((2, 4, 4), 7))).detach(), atol=1e-6)
    model.code_counts.zero_()  # nothing counted (an untrained model): uniform over the codebook, and it says so
    assert "uniformly" in sample_checkpoint(loaded, {"n": 2}).outputs["notes"][0]
    model.code_counts.copy_(saved)
    with pytest.raises(SampleError, match="this generator offers sample, reconstruct"):
        sample_checkpoint(loaded, {"mode": "grid"})


def test_views_reconstructions_samples_and_the_codebook(run):
    loaded = load(run.last_dir)
    offered = available(loaded)
    assert {"samples", "reconstructions", "codebook"} <= set(offered)
    recon = draw(loaded, "reconstructions", ViewRequest(count=4))
    assert recon.png.startswith(b"\x89PNG") and len(recon.data["mse"]) == 4
    assert draw(loaded, "samples", ViewRequest(count=4)).data["count"] == 4
    usage = draw(loaded, "codebook", ViewRequest())
    counts = torch.tensor(usage.data["counts"])
    assert len(counts) == 32 and torch.equal(counts, loaded.model.code_counts)
    used, perplexity = code_usage(counts)
    assert usage.data["codes_used"] == used > 1 and usage.data["code_perplexity"] == round(perplexity, 3)
    assert math.isfinite(perplexity) and usage.png.startswith(b"\x89PNG")
