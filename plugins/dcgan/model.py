"""The DCGAN, as in the lecture notes (Fashion-MNIST, 28 x 28).

Generator G: z (100 x 1 x 1) -> ConvT 100->256 (4,1,0) 4x4 -> BN, ReLU ->
ConvT 256->128 (3,2,1) 7x7 -> BN, ReLU -> ConvT 128->64 (4,2,1) 14x14 -> BN,
ReLU -> ConvT 64->1 (4,2,1) 28x28 -> Tanh.

Discriminator D: x (1 x 28 x 28) -> Conv 1->64 (4,2,1) 14x14 -> LeakyReLU 0.2
-> Conv 64->128 (4,2,1) 7x7 -> BN, LeakyReLU -> Conv 128->256 (3,2,1) 4x4 ->
BN, LeakyReLU -> Conv 256->1 (4,1,0) 1x1 -> Sigmoid.

No layer has a bias (BatchNorm's shift does that job); convolution weights
start from N(0, 0.02), BatchNorm scales from N(1, 0.02).  One training step:

1. discriminator: BCE(D(x), 1) + BCE(D(G(z).detach()), 0), step its Adam;
2. generator (every ``n_critic``-th step): the non-saturating loss
   BCE(D(G(z)), 1), step its Adam.

Both optimizers are Adam with betas (0.5, 0.999), made in
``configure_optimizers`` and stepped by name through the trainer
(``ctx.step("discriminator")``, ``ctx.step("generator")``).  With
``loss=wgan-gp`` the Sigmoid goes, D becomes a critic with loss
D(G(z)) - D(x) + lambda (|grad D(x_hat)| - 1)^2 on random interpolates x_hat,
and G's loss is -D(G(z)).

Evaluation (on real validation images and as many fixed-seed fakes) reports
the generator and discriminator losses and the mean D(x) and D(G(z)).  The
first, the headline that picks the ``best`` checkpoint, is the generator's
loss; no GAN loss measures sample quality, so judge checkpoints by
FID-<dataset> (:mod:`archzoo.evaluation.fid`) and prefer a run's ``last`` checkpoint.

Fixes and adaptations to the recipe as written:

- Tanh produces [-1, 1]; archzoo serves standardised pixels, so real images
  are mapped to [-1, 1] first (:func:`archzoo.toolkit.generative.to_signed`), or D
  tells real from fake by their range alone.
- The generator's backward pass runs through D and leaves gradients on D's
  weights.  They are cleared after the generator's step; left there, the next
  discriminator step would add them to its own (a silent, common GAN bug).
- The fakes D trains on are detached, so the discriminator's loss does not
  push gradients into G.
- A gradient penalty is defined per example; BatchNorm mixes the examples of
  a batch, so ``wgan-gp`` refuses ``d_norm=batch`` (use ``layer``, as the
  WGAN-GP paper advises, or ``none``).
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from archzoo import ConfigError, hookimpl
from archzoo.toolkit import unwrap
from archzoo.toolkit.generative import (
    from_signed,
    images_result,
    latent_line,
    parse_request,
    to_signed,
)


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":
        return nn.GroupNorm(1, channels)  # layer norm over (C, H, W), one scale and shift per channel
    return nn.Identity()


class Generator(nn.Sequential):
    def __init__(self, latent_dim: int, channels: int) -> None:
        super().__init__(
            nn.ConvTranspose2d(latent_dim, 256, 4, 1, 0, bias=False),
            nn.BatchNorm2d(256),
            nn.ReLU(True),  # 4x4
            nn.ConvTranspose2d(256, 128, 3, 2, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(True),  # 7x7
            nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(True),  # 14x14
            nn.ConvTranspose2d(64, channels, 4, 2, 1, bias=False),
            nn.Tanh(),  # 28x28
        )


class Discriminator(nn.Sequential):
    def __init__(self, channels: int, norm: str = "batch", sigmoid: bool = True) -> None:
        super().__init__(
            nn.Conv2d(channels, 64, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, True),  # 14x14
            nn.Conv2d(64, 128, 4, 2, 1, bias=False),
            _norm(norm, 128),
            nn.LeakyReLU(0.2, True),  # 7x7
            nn.Conv2d(128, 256, 3, 2, 1, bias=False),
            _norm(norm, 256),
            nn.LeakyReLU(0.2, True),  # 4x4
            nn.Conv2d(256, 1, 4, 1, 0, bias=False),  # 1x1
            nn.Sigmoid() if sigmoid else nn.Identity(),
            nn.Flatten(0),
        )


class DCGAN(nn.Module):
    """Both networks in one module (one checkpoint).  Call it, do not reach in:
    ``model(z, "generator")`` draws images, ``model(x)`` scores them, so the
    trainer's wrapper (DistributedDataParallel on several processes) sees every call."""

    def __init__(self, latent_dim: int, channels: int, loss: str, d_norm: str, n_critic: int, gp_weight: float) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.channels = channels
        self.loss = loss
        self.n_critic = n_critic
        self.gp_weight = gp_weight
        self.generator = Generator(latent_dim, channels)
        self.discriminator = Discriminator(channels, d_norm, sigmoid=(loss == "bce"))
        self.last_g_loss = float("nan")  # the last generator loss, reported on the steps in between
        self.apply(_init)

    def forward(self, x: torch.Tensor, network: str = "discriminator") -> torch.Tensor:
        if network == "generator":
            return self.generator(x.view(len(x), self.latent_dim, 1, 1))
        return self.discriminator(x)

    def noise(
        self, n: int, generator: torch.Generator | None = None, device: torch.device | str = "cpu"
    ) -> torch.Tensor:
        return (
            torch.randn(n, self.latent_dim, generator=generator).to(device)
            if generator is not None
            else torch.randn(n, self.latent_dim, device=device)
        )


def _init(module: nn.Module) -> None:
    """The DCGAN paper's initialisation: conv weights N(0, 0.02), BatchNorm scales N(1, 0.02), shifts 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


@hookimpl
def build_model(spec, config):
    shape = tuple(config.input_shape)
    if len(shape) != 3 or shape[1:] != (28, 28):
        raise ConfigError(
            "input_shape",
            shape,
            "C x 28 x 28 images: the notes' DCGAN is built for 28 x 28 (Fashion-MNIST, MNIST)",
            owner=spec.name,
        )
    if config.loss == "wgan-gp" and config.d_norm == "batch":
        raise ConfigError(
            "d_norm",
            config.d_norm,
            "layer or none with loss=wgan-gp (a gradient penalty is per example; BatchNorm mixes examples)",
            owner=spec.name,
        )
    model = DCGAN(config.latent_dim, shape[0], config.loss, config.d_norm, config.n_critic, config.gp_weight)
    model.d_lr_ratio = config.d_lr_ratio
    model.betas = (config.beta1, config.beta2)
    return model


@hookimpl
def configure_optimizers(spec, model, train_config):
    """Two Adams: the generator at the run's ``lr``, the discriminator at ``lr x d_lr_ratio``."""
    gan = unwrap(model)
    lr, decay = train_config.lr, train_config.weight_decay
    return {
        "generator": torch.optim.Adam(gan.generator.parameters(), lr=lr, betas=gan.betas, weight_decay=decay),
        "discriminator": torch.optim.Adam(
            gan.discriminator.parameters(), lr=lr * gan.d_lr_ratio, betas=gan.betas, weight_decay=decay
        ),
    }


def gradient_penalty(model: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """WGAN-GP: (|grad_x D(x_hat)|_2 - 1)^2 averaged over random interpolates x_hat of real and fake."""
    eps = torch.rand(len(real), 1, 1, 1, device=real.device)
    mixed = (eps * real + (1 - eps) * fake).requires_grad_(True)
    scores = model(mixed)
    (grads,) = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
    return (grads.flatten(1).norm(dim=1) - 1).pow(2).mean()


@hookimpl
def train_step(spec, model, batch, ctx):
    gan = unwrap(model)
    real = to_signed(batch[0], ctx.info)
    fake = model(gan.noise(len(real), device=real.device), "generator")

    # 1. the discriminator (critic), on real images and detached fakes
    d_real, d_fake = model(real), model(fake.detach())
    if gan.loss == "bce":
        d_loss = F.binary_cross_entropy(d_real, torch.ones_like(d_real)) + F.binary_cross_entropy(
            d_fake, torch.zeros_like(d_fake)
        )
    else:
        d_loss = d_fake.mean() - d_real.mean() + gan.gp_weight * gradient_penalty(model, real, fake.detach())
    ctx.backward(d_loss)
    ctx.step("discriminator")

    # 2. the generator, every n_critic-th step, against the updated discriminator
    if ctx.global_step % gan.n_critic == gan.n_critic - 1:
        scores = model(fake)
        g_loss = F.binary_cross_entropy(scores, torch.ones_like(scores)) if gan.loss == "bce" else -scores.mean()
        ctx.backward(g_loss)
        ctx.step("generator")
        ctx.optimizers["discriminator"].zero_grad(set_to_none=True)  # G's backward left gradients on D
        gan.last_g_loss = g_loss.item()
    metrics = {
        "loss": d_loss.item(),
        "d_loss": d_loss.item(),
        "d_real": d_real.mean().item(),
        "d_fake": d_fake.mean().item(),
    }
    if gan.last_g_loss == gan.last_g_loss:  # not NaN: the generator has stepped at least once
        metrics["g_loss"] = gan.last_g_loss
    return metrics


@hookimpl
def evaluate(spec, model, loader, ctx):
    """Real validation images against as many fakes from a fixed seed: the
    losses of both players and the mean scores D(x) and D(G(z))."""
    gan = unwrap(model)
    generator = torch.Generator().manual_seed(0)
    reals, fakes = [], []
    with torch.no_grad():
        for batch in loader:
            real = to_signed(batch[0], ctx.info)
            fake = model(gan.noise(len(real), generator, real.device), "generator")
            reals.append(ctx.gather(model(real)))
            fakes.append(ctx.gather(model(fake)))
    if not reals:
        raise ValueError("cannot evaluate on an empty data split")
    d_real, d_fake = torch.cat(reals), torch.cat(fakes)
    if gan.loss == "bce":
        g_loss = F.binary_cross_entropy(d_fake, torch.ones_like(d_fake)).item()
        d_loss = (
            F.binary_cross_entropy(d_real, torch.ones_like(d_real))
            + F.binary_cross_entropy(d_fake, torch.zeros_like(d_fake))
        ).item()
        return {"g_loss": g_loss, "d_loss": d_loss, "d_real": d_real.mean().item(), "d_fake": d_fake.mean().item()}
    # The critic's estimate of the Wasserstein distance between real and generated images.
    distance = (d_real.mean() - d_fake.mean()).item()
    return {"w_loss": distance, "d_real": d_real.mean().item(), "d_fake": d_fake.mean().item()}


@hookimpl
def sample(spec, model, request, ctx):
    """``sample``: G(z) for n noise vectors; ``walk``: n images along the line between two noise vectors."""
    gan = unwrap(model)
    draw = parse_request(request, modes=spec.sample_modes, image_shape=None, max_steps=0, owner=spec.name)
    device = next(gan.parameters()).device
    generator = draw.generator()
    if draw.mode == "walk":
        ends = gan.noise(2, generator)
        z = latent_line(ends[0], ends[1], draw.n)
    else:
        z = gan.noise(draw.n, generator)
    with torch.no_grad():
        images = from_signed(model(z.to(device), "generator"))
    return images_result(images, draw)
