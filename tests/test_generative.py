"""The generative plugins (autoencoder, vae, dcgan, ddpm), FID-<dataset> and
``archzoo sample``, on real components: real Fashion-MNIST, real training
steps, the real samplers and the shipped feature classifier.

The contract suite (tests/test_contract.py) already checks every one of them
builds at its declared size, trains, evaluates, samples and round-trips; this
file checks what is particular to generative models."""

from __future__ import annotations

import dataclasses
import math
import os
import subprocess
import sys

import pytest
import torch
import torch.nn as nn

from archzoo import ConfigError
from archzoo.checkpoints.io import load, write_checkpoint
from archzoo.checkpoints.meta import build_meta, read_meta
from archzoo.data import DataOptions, load_dataset
from archzoo.inference.generation import sample_checkpoint_images, write_images
from archzoo.inference.sampling import sample_checkpoint
from archzoo.registry import config as config_module
from archzoo.registry.config import TrainConfig
from archzoo.registry.host import get_host
from archzoo.registry.plans import fill_from_data
from archzoo.toolkit.generative import SampleError
from archzoo.training.context import EvalContext, StepContext
from archzoo.training.launch import train
from archzoo.training.trainer import build_optimizers


@pytest.fixture(scope="module")
def fashion(fashion_mnist_dir):
    splits = load_dataset("fashion-mnist", DataOptions())
    return dataclasses.replace(splits, info=dataclasses.replace(splits.info, task="image-generation"))


def build(name: str, values: dict | None = None, info=None):
    host = get_host()
    spec = host.architecture(name)
    config = config_module.build_config(spec.config, values or {}, owner=name)
    if info is not None:
        config = fill_from_data(config, info)
    return spec, host.hooks(spec), config, host.hooks(spec).build_model(config)


def step_context(hooks, model, info, **train):
    from accelerate import Accelerator

    tc = TrainConfig(**{"optimizer": "adam", "weight_decay": 0.0, "schedule": "constant", "grad_clip": 0.0, **train})
    return StepContext(
        device=torch.device("cpu"),
        info=info,
        accelerator=Accelerator(cpu=True),
        model=model,
        optimizers=build_optimizers(hooks, model, tc),
        train_config=tc,
    )


def eval_context(info):
    return EvalContext(device=torch.device("cpu"), info=info)


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# -- the notes' architectures, exactly -----------------------------------------------------


def test_parameter_counts_are_the_notes_figures():
    assert count(build("vae")[3]) == 835_384
    gan = build("dcgan")[3]
    assert count(gan.generator) == 837_504 and count(gan.discriminator) == 431_872
    # no biases anywhere in the DCGAN's convolutions; BatchNorm only where the notes put it
    convs = [m for m in gan.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    assert len(convs) == 8 and all(m.bias is None for m in convs)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in gan.discriminator) == 2
    assert [
        (m.kernel_size[0], m.stride[0], m.padding[0]) for m in gan.generator if isinstance(m, nn.ConvTranspose2d)
    ] == [(4, 1, 0), (3, 2, 1), (4, 2, 1), (4, 2, 1)]
    assert [(m.kernel_size[0], m.stride[0], m.padding[0]) for m in gan.discriminator if isinstance(m, nn.Conv2d)] == [
        (4, 2, 1),
        (4, 2, 1),
        (3, 2, 1),
        (4, 1, 0),
    ]
    # N(0, 0.02) initialisation of every convolution
    weights = torch.cat([m.weight.flatten() for m in convs])
    assert abs(weights.mean().item()) < 1e-3 and 0.018 < weights.std().item() < 0.022
    # the VAE is 784-512 -> 2 x 20, 20-512-784
    vae = build("vae")[3]
    assert [tuple(m.weight.shape) for m in vae.modules() if isinstance(m, nn.Linear)] == [
        (512, 784),
        (20, 512),
        (20, 512),
        (512, 20),
        (784, 512),
    ]


def test_dcgan_shapes_and_ranges():
    gan = build("dcgan")[3].eval()
    with torch.no_grad():
        images = gan(torch.randn(3, 100), "generator")
        scores = gan(images)
    assert images.shape == (3, 1, 28, 28) and images.min() >= -1 and images.max() <= 1
    assert scores.shape == (3,) and ((scores > 0) & (scores < 1)).all()


def test_the_notes_groupnorm_bug_and_its_fix():
    with pytest.raises(ValueError):  # what the notes' first block does to a one-channel image
        nn.GroupNorm(8, 1)
    model = build("ddpm")[3]
    norms = [m for m in model.modules() if isinstance(m, nn.GroupNorm)]
    assert norms and all(m.num_channels % m.num_groups == 0 and m.num_channels >= 32 for m in norms)
    assert model.denoiser.stem.in_channels == 1 and model.denoiser.stem.out_channels == 32
    with torch.no_grad():
        out = model(torch.randn(2, 1, 28, 28), torch.tensor([0, 999]))
    assert out.shape == (2, 1, 28, 28)


def test_noise_schedules():
    from archzoo.plugins.ddpm.model import cosine_betas, ddim_steps, linear_betas

    linear = linear_betas(1000)
    assert len(linear) == 1000 and linear[0].item() == pytest.approx(1e-4) and linear[-1].item() == pytest.approx(0.02)
    cosine = cosine_betas(1000, 0.008)
    alpha_bar = torch.cumprod(1 - cosine, 0)
    assert (cosine > 0).all() and (cosine <= 0.999).all() and (alpha_bar[1:] < alpha_bar[:-1]).all()
    assert alpha_bar[-1] < 1e-4 < alpha_bar[0]
    # the cosine schedule destroys information more slowly in the middle than the linear one
    assert alpha_bar[500] > torch.cumprod(1 - linear, 0)[500]
    steps = ddim_steps(1000, 50)
    assert len(steps) == 50 and steps[0] == 0 and steps[-1] == 999 and steps == sorted(set(steps))


# -- the samplers do what the papers say ------------------------------------------------------


class OracleDenoiser(nn.Module):
    """The exact noise predictor when the data is a single point x*: eps = (x_t - sqrt(abar) x*) / sqrt(1 - abar)."""

    def __init__(self, target: torch.Tensor, alpha_bar: torch.Tensor) -> None:
        super().__init__()
        self.target = target
        self.alpha_bar = alpha_bar
        self.unused = nn.Parameter(torch.zeros(1))

    def forward(self, x, t):
        ab = self.alpha_bar[t].view(-1, *([1] * (x.ndim - 1)))
        return (x - ab.sqrt() * self.target) / (1 - ab).sqrt()


def test_ddim_and_ddpm_recover_the_data_with_a_perfect_denoiser():
    from archzoo.plugins.ddpm.model import (
        Diffusion,
        ddim_sample,
        ddpm_sample,
        linear_betas,
    )

    target = torch.tensor([0.7, -0.3])
    betas = linear_betas(1000)
    oracle = OracleDenoiser(target, torch.cumprod(1 - betas.float(), 0))
    diffusion = Diffusion(oracle, betas, (2,), images=False)
    noise = torch.randn(64, 2, generator=torch.Generator().manual_seed(1))
    for steps in (10, 50):
        assert torch.allclose(ddim_sample(diffusion, noise.clone(), steps), target.expand(64, 2), atol=1e-4)
    ancestral = ddpm_sample(diffusion, noise.clone(), torch.Generator().manual_seed(2))
    assert torch.allclose(ancestral, target.expand(64, 2), atol=1e-3)
    # clipping x_0 to [-1, 1] changes nothing while the predictions stay inside: the x_0 form is Algorithm 2
    clipped = ddpm_sample(diffusion, noise.clone(), torch.Generator().manual_seed(2), clip=True)
    assert torch.allclose(clipped, ancestral, atol=1e-3)
    assert torch.allclose(ddim_sample(diffusion, noise.clone(), 10, clip=True), target.expand(64, 2), atol=1e-4)


def test_seeded_sampling_is_reproducible_and_ddim_matches_ddpm_in_shape():
    spec, hooks, config, model = build("ddpm", {"channels": (8, 16), "timesteps": 20})
    model.eval()
    ctx = EvalContext(device=torch.device("cpu"), info=_info())
    first = hooks.sample(model, {"n": 3, "seed": 7, "steps": 5}, ctx).outputs
    again = hooks.sample(model, {"n": 3, "seed": 7, "steps": 5}, ctx).outputs
    other = hooks.sample(model, {"n": 3, "seed": 8, "steps": 5}, ctx).outputs
    assert torch.equal(first["images"], again["images"]) and not torch.equal(first["images"], other["images"])
    assert first["sampler"] == "ddim" and first["steps"] == 5
    ancestral = hooks.sample(model, {"n": 3, "seed": 7, "sampler": "ddpm"}, ctx).outputs
    assert ancestral["sampler"] == "ddpm" and ancestral["steps"] == 20
    assert ancestral["images"].shape == first["images"].shape == (3, 1, 28, 28)
    assert 0 <= float(ancestral["images"].min()) and float(ancestral["images"].max()) <= 1
    assert torch.equal(
        ancestral["images"], hooks.sample(model, {"n": 3, "seed": 7, "sampler": "ddpm"}, ctx).outputs["images"]
    )
    default = hooks.sample(model, {"n": 1, "seed": 0}, ctx).outputs
    assert default["steps"] == 20  # DDIM's default of 50 is capped at T


def _info(shape=(1, 28, 28)):
    from archzoo.data import DataInfo

    return DataInfo(
        "fashion-mnist", "image-generation", shape, 10, tuple(str(i) for i in range(10)), (0.2860,), (0.3530,)
    )


# -- training on real Fashion-MNIST --------------------------------------------------------------


def _train_steps(name, values, fashion, steps, batch_size=64, **train):
    spec, hooks, config, model = build(name, values, fashion.info)
    torch.manual_seed(0)
    ctx = step_context(hooks, model, fashion.info, **train)
    loader = torch.utils.data.DataLoader(
        fashion.train, batch_size=batch_size, shuffle=True, generator=torch.Generator().manual_seed(0)
    )
    history = []
    model.train()
    for step, batch in zip(range(steps), loader):
        ctx.global_step = step
        history.append({k: float(v) for k, v in hooks.train_step(model, batch, ctx).items()})  # tensors or numbers
    return spec, hooks, model, history


def test_vae_learns_on_fashion_mnist_and_reports_reconstruction_and_kl(fashion):
    spec, hooks, model, history = _train_steps("vae", {"hidden": (128,), "latent_dim": 8}, fashion, 60, lr=1e-3)
    first, last = history[0], history[-1]
    assert last["loss"] < 0.75 * first["loss"]  # fresh batches every step: the model, not one batch, got better
    assert all(h["loss"] == pytest.approx(h["reconstruction"] + h["kl"], rel=1e-5) for h in history)
    model.eval()
    loader = torch.utils.data.DataLoader(torch.utils.data.Subset(fashion.test, range(256)), batch_size=128)
    metrics = hooks.evaluate(model, loader, eval_context(fashion.info))
    assert list(metrics) == ["loss", "reconstruction", "kl"] and metrics["kl"] > 0
    assert metrics["loss"] == pytest.approx(metrics["reconstruction"] + metrics["kl"])
    assert metrics == hooks.evaluate(model, loader, eval_context(fashion.info))  # fixed-seed noise: repeatable
    # beta weighs the KL term in the loss
    model.beta = 4.0
    assert hooks.evaluate(model, loader, eval_context(fashion.info))["loss"] == pytest.approx(
        metrics["reconstruction"] + 4 * metrics["kl"]
    )


def test_vae_kl_is_the_closed_form():
    from archzoo.plugins.vae.model import vae_terms

    _, _, _, model = build("vae", {"hidden": (16,), "latent_dim": 3, "input_shape": (1, 4, 4)})
    x = torch.rand(5, 1, 4, 4)
    _, kl = vae_terms(model, x, torch.zeros(5, 3))
    mu, logvar = model.encode(x)
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    assert torch.allclose(kl, torch.distributions.kl_divergence(q, p), atol=1e-5)  # per latent dimension


def test_vae_kl_annealing_weighs_the_kl_by_beta_over_the_warmup_epochs(store):
    from archzoo.api import train

    settings = {"hidden": "16", "latent_dim": "2", "beta": "2", "kl_warmup_epochs": "4", "epochs": "2"}
    result = train("vae", dataset="digits", overrides={**settings, "batch_size": "256"}, out="annealed")
    for epoch, weight in ((0, 0.5), (1, 1.0)):  # beta * (epoch + 1) / 4
        metrics = result.history[epoch]["train"]
        assert metrics["loss"] == pytest.approx(metrics["reconstruction"] + weight * metrics["kl"], rel=1e-6)
    validation = result.history[0]["validation"]  # evaluation weighs the KL by beta throughout
    assert validation["loss"] == pytest.approx(validation["reconstruction"] + 2 * validation["kl"], rel=1e-6)


def test_free_bits_charge_each_dimension_at_least_lambda_and_leave_those_under_it_alone():
    from archzoo.plugins.vae.model import kl_penalty

    kl = torch.tensor([[0.1, 2.0, 0.5], [0.3, 4.0, 0.7]], requires_grad=True)  # batch means 0.2, 3.0, 0.6
    charged = kl_penalty(kl, free_bits=0.5)
    assert charged.item() == pytest.approx(0.5 + 3.0 + 0.6)
    charged.backward()
    assert kl.grad[:, 0].tolist() == [0.0, 0.0]  # under the free bits: no pull to the prior
    assert kl.grad[:, 1].tolist() == [0.5, 0.5] and kl.grad[:, 2].tolist() == [0.5, 0.5]
    assert kl_penalty(kl.detach(), free_bits=0.0).item() == pytest.approx(kl.detach().sum(dim=1).mean().item())


def test_dcgan_discriminator_learns_and_generator_steps_through_the_trainer(fashion):
    spec, hooks, model, history = _train_steps("dcgan", {}, fashion, 12, lr=2e-4)
    assert history[-1]["d_real"] > history[0]["d_real"] and history[-1]["d_fake"] < history[0]["d_fake"]
    assert history[-1]["d_loss"] < history[0]["d_loss"]
    assert all(set(h) >= {"loss", "d_loss", "g_loss", "d_real", "d_fake"} for h in history)
    # the discriminator's gradients that the generator's step leaves are cleared
    assert all(p.grad is None for p in model.discriminator.parameters())
    model.eval()
    loader = torch.utils.data.DataLoader(torch.utils.data.Subset(fashion.val, range(128)), batch_size=64)
    metrics = hooks.evaluate(model, loader, eval_context(fashion.info))
    assert list(metrics) == ["g_loss", "d_loss", "d_real", "d_fake"] and 0 < metrics["d_fake"] < metrics["d_real"] < 1


def test_ttur_and_wgan_gp_variants(fashion):
    spec, hooks, config, model = build("dcgan", {"d_lr_ratio": 4.0})
    optimizers = hooks.configure_optimizers(model, TrainConfig(lr=1e-4))
    assert list(optimizers) == ["generator", "discriminator"]
    assert optimizers["generator"].param_groups[0]["lr"] == pytest.approx(1e-4)
    assert optimizers["discriminator"].param_groups[0]["lr"] == pytest.approx(4e-4)
    assert optimizers["generator"].param_groups[0]["betas"] == (0.5, 0.999)

    values = {"loss": "wgan-gp", "d_norm": "layer", "n_critic": 5, "beta1": 0.0, "beta2": 0.9}
    spec, hooks, config, model = build("dcgan", values, fashion.info)
    assert not any(isinstance(m, (nn.Sigmoid, nn.BatchNorm2d)) for m in model.discriminator.modules())
    assert count(model.discriminator) == 431_872  # layer norm has BatchNorm's parameters
    ctx = step_context(hooks, model, fashion.info, lr=1e-4)
    generator_before = [p.detach().clone() for p in model.generator.parameters()]
    batch = next(iter(torch.utils.data.DataLoader(fashion.train, batch_size=16)))
    for step in range(4):  # critic steps only
        ctx.global_step = step
        metrics = hooks.train_step(model, batch, ctx)
        assert math.isfinite(metrics["loss"]) and "g_loss" not in metrics
    assert all(torch.equal(a, b) for a, b in zip(generator_before, model.generator.parameters()))
    ctx.global_step = 4  # the fifth: the generator steps too
    metrics = hooks.train_step(model, batch, ctx)
    assert "g_loss" in metrics and not all(
        torch.equal(a, b) for a, b in zip(generator_before, model.generator.parameters())
    )


def test_ddpm_learns_to_predict_the_noise(fashion):
    spec, hooks, model, history = _train_steps("ddpm", {"channels": (16, 32)}, fashion, 25, batch_size=32, lr=2e-3)
    losses = [h["loss"] for h in history]
    assert sum(losses[-5:]) / 5 < 0.7 * sum(losses[:5]) / 5, losses


def test_ddpm_weight_average_ramps_up_serves_eval_mode_and_is_saved(fashion, tmp_path):
    spec, hooks, model, history = _train_steps(
        "ddpm", {"channels": (8, 16), "timesteps": 50, "ema_decay": 0.999}, fashion, 3, batch_size=16, lr=1e-3
    )
    d = model
    assert int(d.ema_updates) == 3 and not any(p.requires_grad for p in d.ema.parameters())
    # three updates ramp the decay 0.1, 0.1818, 0.25: the average moved well away from the
    # initial weights (a fixed 0.999 would have kept 99.7% of them) without equalling the last
    first_a, first_w = next(d.ema.parameters()), next(d.denoiser.parameters())
    assert not torch.equal(first_a, first_w)
    x, t = torch.randn(2, 1, 28, 28), torch.tensor([3, 40])
    with torch.no_grad():
        trained, averaged = d.denoiser(x, t), d.ema(x, t)
        assert torch.equal(d.train()(x, t), trained) and torch.equal(d.eval()(x, t), averaged)
    # the average and its update count travel with the checkpoint
    config = config_module.build_config(
        spec.config, {"channels": (8, 16), "timesteps": 50, "ema_decay": 0.999}, owner="ddpm"
    )
    config = fill_from_data(config, fashion.info)
    meta = build_meta(
        spec=spec,
        config=config,
        train_config=TrainConfig(),
        info=fashion.info,
        dataset="fashion-mnist",
        metrics={},
        parameters=count(d),
    )
    loaded = load(write_checkpoint(tmp_path / "ema", d, meta)).model
    assert int(loaded.ema_updates) == 3
    with torch.no_grad():
        assert torch.equal(loaded.eval()(x, t), averaged)
    # off (the notes' recipe): no copy, eval mode uses the trained weights
    plain = build("ddpm", {"channels": (8, 16), "timesteps": 50})[3]
    assert not hasattr(plain, "ema") and count(plain) == count(d.denoiser)


# -- trained through the trainer, sampled through the CLI and the UI ----------------------------------


@pytest.fixture(scope="module")
def vae_run(tmp_path_factory, fashion_mnist_dir):
    out = tmp_path_factory.mktemp("runs") / "vae"
    result = train(
        "vae",
        overrides={
            "hidden": "128",
            "latent_dim": 2,
            "max_steps": 40,
            "batch_size": 128,
            "optimizer": "adam",
            "schedule": "constant",
            "val_fraction": 0.02,
        },
        out=out,
    )
    return result


def test_a_trained_generator_checkpoint_is_an_image_generator(vae_run):
    meta = read_meta(vae_run.last_dir)
    assert meta["task"] == "image-generation" and meta["dataset"]["info"]["task"] == "image-generation"
    assert set(vae_run.test_metrics) == {"loss", "reconstruction", "kl"}
    from archzoo.inference.generation import generate_images
    from archzoo.inference.sampling import checkpoint_task

    assert checkpoint_task(vae_run.last_dir) == "image-generation"
    images = generate_images(vae_run.last_dir, n=4, seed=3, steps=0)  # what the UI's gallery shows
    assert len(images) == 4 and images[0].size == (28, 28) and images[0].mode == "L"


def test_vae_sampling_modes(vae_run):
    loaded = load(vae_run.last_dir)
    traverse = sample_checkpoint(loaded, {"n": 5, "mode": "traverse"}).outputs
    assert traverse["images"].shape == (10, 1, 28, 28) and traverse["columns"] == 5  # 2 latent dimensions x 5 values
    grid = sample_checkpoint(loaded, {"n": 4, "mode": "grid"}).outputs
    assert grid["images"].shape == (16, 1, 28, 28)
    result = sample_checkpoint_images(vae_run.last_dir, n=3, seed=1, mode="reconstruct")
    assert result.outputs["images"].shape == (6, 1, 28, 28) and "picked with seed 1" in result.outputs["notes"][0]
    line = sample_checkpoint_images(vae_run.last_dir, n=6, seed=1, mode="interpolate").outputs["images"]
    assert line.shape == (6, 1, 28, 28)
    # the ends of the line decode the two inputs' codes, so the middle differs from both ends
    assert not torch.allclose(line[0], line[-1])
    with pytest.raises(SampleError, match="steps"):
        sample_checkpoint(loaded, {"n": 2, "steps": -1})
    notes = sample_checkpoint(loaded, {"n": 2, "steps": 5}).outputs["notes"]
    assert "ignored" in notes[0]


def test_archzoo_sample_writes_a_grid_and_each_image(vae_run, tmp_path):
    out = tmp_path / "samples"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "archzoo.cli",
            "sample",
            str(vae_run.out_dir),
            "--n",
            "5",
            "--seed",
            "2",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == ["000.png", "001.png", "002.png", "003.png", "004.png", "grid.png"]
    from PIL import Image

    assert Image.open(out / "000.png").size == (28, 28)
    assert "5 image(s)" in result.stdout

    # the folder now holds files: a second run must refuse and leave them as they are
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    again = subprocess.run(
        [
            sys.executable,
            "-m",
            "archzoo.cli",
            "sample",
            str(vae_run.out_dir),
            "--n",
            "2",
            "--seed",
            "9",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert again.returncode == 2 and "already holds files" in again.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--n", "0"], "n must be between 1"),
        (["--mode", "dream"], "unknown sampling mode 'dream'"),
        (["--seed", "-1"], "seed must be between 0"),
        (["--steps", "-3"], "steps must be at least 0"),
    ],
)
def test_archzoo_sample_bad_requests_are_clear_errors(vae_run, tmp_path, capsys, args, message):
    from archzoo.cli import main

    out = tmp_path / "never"
    assert main(["sample", str(vae_run.last_dir), "--out", str(out), *args]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())


def test_archzoo_sample_reconstructs_given_files(vae_run, tmp_path, capsys):
    from PIL import Image

    from archzoo.cli import main

    picture = tmp_path / "shirt.png"
    Image.new("L", (32, 32), 0).save(picture)  # 32 x 32: converted to the checkpoint's 28 x 28, with a note
    assert (
        main(
            [
                "sample",
                str(vae_run.last_dir),
                "--mode",
                "reconstruct",
                "--input",
                str(picture),
                "--out",
                str(tmp_path / "out"),
            ]
        )
        == 0
    )
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["000.png", "001.png", "grid.png"]
    assert "resized from 32x32 to 28x28" in capsys.readouterr().err
    assert main(["sample", str(vae_run.last_dir), "--input", str(picture), "--out", str(tmp_path / "other")]) == 2
    assert "--input is for the modes" in capsys.readouterr().err


def test_archzoo_sample_refuses_a_classifier(tmp_path, capsys):
    from archzoo.cli import main

    spec, hooks, config, model = build("mlp", {"hidden": (4,)})
    info = dataclasses.replace(_info((1, 8, 8)), name="digits", task="image-classification")
    meta = build_meta(
        spec=spec,
        config=config,
        train_config=TrainConfig(),
        info=info,
        dataset="digits",
        metrics={},
        parameters=count(model),
    )
    folder = write_checkpoint(tmp_path / "mlp", model, meta)
    assert main(["sample", str(folder), "--out", str(tmp_path / "out")]) == 2
    assert "needs an image-generation model" in capsys.readouterr().err


def _ddpm_checkpoint(tmp_path, values=None):
    spec, hooks, config, model = build("ddpm", {"channels": (8, 16), "timesteps": 12, **(values or {})})
    meta = build_meta(
        spec=spec,
        config=config,
        train_config=TrainConfig(),
        info=_info(),
        dataset="fashion-mnist",
        metrics={},
        parameters=count(model),
    )
    return write_checkpoint(tmp_path / "ddpm", model.eval(), meta)


def test_ddpm_requests_out_of_range_are_clear_errors(tmp_path):
    folder = _ddpm_checkpoint(tmp_path)
    loaded = load(folder)
    with pytest.raises(SampleError, match="between 0 and 12"):
        sample_checkpoint(loaded, {"n": 1, "steps": 13})
    with pytest.raises(SampleError, match="all T = 12 steps, not 5"):
        sample_checkpoint(loaded, {"n": 1, "steps": 5, "sampler": "ddpm"})
    with pytest.raises(SampleError, match="unknown sampler"):
        sample_checkpoint(loaded, {"n": 1, "sampler": "euler"})
    with pytest.raises(SampleError, match="eta"):
        sample_checkpoint(loaded, {"n": 1, "eta": 2})
    result = sample_checkpoint_images(folder, n=2, seed=0, steps=12, sampler="ddpm")
    # what the UI's gallery calls: the same sampler, the same images
    from archzoo.inference.generation import draw_images, tensor_to_image

    pictures, notes = draw_images(folder, n=2, seed=0, steps=12, sampler="ddpm")
    assert len(pictures) == 2 and notes == [] and pictures[0].size == (28, 28)
    assert [p.tobytes() for p in pictures] == [tensor_to_image(i).tobytes() for i in result.outputs["images"]]
    with pytest.raises(SampleError, match="unknown sampler"):
        draw_images(folder, n=1, sampler="euler")
    written = write_images(result, tmp_path / "out")
    assert [p.name for p in written] == ["grid.png", "000.png", "001.png"]


def test_inputs_of_the_wrong_shape_are_refused(vae_run):
    loaded = load(vae_run.last_dir)
    with pytest.raises(SampleError, match=r"N x 1 x 28 x 28"):
        sample_checkpoint(loaded, {"mode": "reconstruct", "inputs": torch.zeros(2, 3, 32, 32)})
    with pytest.raises(SampleError, match="at least 2 input images"):
        sample_checkpoint(loaded, {"mode": "interpolate", "inputs": torch.zeros(1, 1, 28, 28)})
    with pytest.raises(SampleError, match="needs input images"):
        sample_checkpoint(loaded, {"mode": "reconstruct"})


@pytest.mark.parametrize(
    ("name", "values", "field"),
    [
        ("dcgan", {"input_shape": (1, 8, 8)}, "input_shape"),  # the notes' DCGAN is 28 x 28 only
        ("dcgan", {"loss": "wgan-gp"}, "d_norm"),  # a gradient penalty with BatchNorm
        ("ddpm", {"channels": (12, 24)}, "channels"),  # not multiples of 8 groups
        ("ddpm", {"input_shape": (1, 30, 30)}, "input_shape"),  # 30 does not halve twice
        ("ddpm", {"beta_start": 0.02, "beta_end": 0.01}, "beta_end"),
        ("vae", {"variant": "conv", "input_shape": (1, 30, 30)}, "input_shape"),
    ],
)
def test_configs_that_cannot_be_built_name_the_field(name, values, field):
    with pytest.raises(ConfigError) as caught:
        build(name, values)
    assert f"'{field}'" in str(caught.value)


def test_spirals_toy_samples_points_and_a_picture():
    from archzoo.data import DataInfo

    spec, hooks, config, model = build("ddpm", {"input_shape": (2,), "timesteps": 10})
    assert isinstance(model.denoiser, nn.Module) and not model.images
    info = DataInfo("spirals", "image-generation", (2,), 2, ("arm 0", "arm 1"), (1.0, -2.0), (5.0, 5.0))
    out = hooks.sample(
        model.eval(), {"n": 50, "seed": 0, "steps": 10}, EvalContext(device=torch.device("cpu"), info=info)
    ).outputs
    assert out["points"].shape == (50, 2) and out["images"].shape == (1, 1, 160, 160)
    assert (out["images"] < 1).any()  # some dots were drawn


# -- FID-<dataset> ------------------------------------------------------------------------------------


def test_fid_is_zero_for_identical_sets_and_orders_noise_above_real(fashion):
    from archzoo.evaluation import fid

    real = fid.real_images("fashion-mnist", "test", limit=1000)
    assert fid.fid(real[:500], real[:500]) == pytest.approx(0.0, abs=1e-6)
    between_real = fid.fid(real[:500], real[500:])
    noise = torch.rand(500, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    assert fid.fid(real[:500], noise) > 20 * between_real
    blurred = torch.nn.functional.avg_pool2d(real[500:], 3, stride=1, padding=1)
    assert between_real < fid.fid(real[:500], blurred) < fid.fid(real[:500], noise)
    with pytest.raises(fid.FIDError, match="28 x 28"):
        fid.features(torch.rand(4, 1, 32, 32))
    with pytest.raises(fid.FIDError, match="no FID-mnist feature model"):
        fid.features(real[:4], "mnist")
    assert fid.metric_name("fashion-mnist") == "FID-fashion-mnist"


def test_frechet_distance_of_known_gaussians():
    from archzoo.evaluation.fid import frechet_distance

    mu_a, mu_b = torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64), torch.tensor([1.0, 1.0, 0.0], dtype=torch.float64)
    sd_a, sd_b = torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64), torch.tensor([3.0, 2.0, 1.5], dtype=torch.float64)
    expected = ((mu_a - mu_b) ** 2).sum() + ((sd_a - sd_b) ** 2).sum()  # diagonal covariances
    assert frechet_distance((mu_a, torch.diag(sd_a**2)), (mu_b, torch.diag(sd_b**2))) == pytest.approx(float(expected))
    rotation, _ = torch.linalg.qr(torch.randn(3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0)))
    cov = rotation @ torch.diag(sd_a**2) @ rotation.T  # a full covariance against itself, shifted
    assert frechet_distance((mu_a, cov), (mu_b, cov)) == pytest.approx(float(((mu_a - mu_b) ** 2).sum()), abs=1e-9)
