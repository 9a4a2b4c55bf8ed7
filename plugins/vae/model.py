"""The variational autoencoder, as in the lecture notes.

Model: the encoder maps an image x to the mean mu and log-variance log s^2 of
q(z|x) = N(mu, s^2); z = mu + s * eps with eps ~ N(0, I) (the
reparameterisation trick, so gradients reach the encoder); the decoder maps z
to Bernoulli means p(x|z) through a sigmoid.

Loss per image: BCE(x_hat, x) summed over pixels, plus beta times the KL
divergence of q(z|x) from the prior N(0, I) in closed form,
KL = -1/2 sum_j (1 + log s_j^2 - mu_j^2 - s_j^2).

Evaluation reports, per image, the loss, its reconstruction term and its KL
term separately (the notes' Table 9.1 columns).  ``sample`` draws from the
prior (``mode=sample``), reconstructs test images (``reconstruct``),
interpolates between two (``interpolate``), walks each latent dimension
(``traverse``) and, for a 2-D code, decodes a grid (``grid``).

Fixes and adaptations to the recipe as written:

- archzoo serves images standardised with the dataset's mean and standard
  deviation; binary cross-entropy needs targets in [0, 1] (a standardised
  pixel of -0.81 makes ``F.binary_cross_entropy`` raise).  The step undoes the
  standardisation first (:func:`archzoo.toolkit.generative.to_unit`).
- The loss is summed over pixels *and averaged over the batch* before the
  step, so the gradient scale (and so Adam's effective step) does not change
  with the batch size, and the reported numbers are per image, comparable to
  the notes' table at any batch size.
- The KL is summed over latent dimensions, not averaged: averaging it divides
  beta by the latent size and silently changes the objective across the
  notes' latent-size sweep.
- The log-variance head is clamped to [-30, 20] before exponentiating, so a
  bad early step cannot overflow s^2 to infinity (it never binds in a
  healthy run).
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from archzoo import ConfigError, hookimpl
from archzoo.toolkit import unwrap
from archzoo.toolkit.generative import (
    images_result,
    latent_grid,
    latent_line,
    mlp_decoder,
    parse_request,
    relu_layers,
    to_unit,
    traversal,
)


class VAE(nn.Module):
    """x -> (mu, logvar) -> z -> sigmoid decoder.  ``variant`` mlp or conv."""

    def __init__(
        self, image_shape: tuple[int, ...], latent_dim: int, hidden: tuple[int, ...], variant: str = "mlp"
    ) -> None:
        super().__init__()
        self.image_shape = tuple(image_shape)
        self.latent_dim = latent_dim
        self.variant = variant
        pixels = math.prod(image_shape)
        if variant == "mlp":
            layers, width = relu_layers(pixels, hidden)
            self.encoder = nn.Sequential(nn.Flatten(), *layers)
            self.to_mu = nn.Linear(width, latent_dim)
            self.to_logvar = nn.Linear(width, latent_dim)
            self.decoder = mlp_decoder(latent_dim, hidden, self.image_shape)
        else:
            channels, height, width_px = image_shape
            h4, w4 = height // 4, width_px // 4
            flat = 64 * h4 * w4
            self.encoder = nn.Sequential(
                nn.Conv2d(channels, 32, 4, 2, 1),
                nn.ReLU(),
                nn.Conv2d(32, 64, 4, 2, 1),
                nn.ReLU(),
                nn.Flatten(),
            )
            self.to_mu = nn.Linear(flat, latent_dim)
            self.to_logvar = nn.Linear(flat, latent_dim)
            self.decoder = nn.Sequential(
                nn.Linear(latent_dim, flat),
                nn.ReLU(),
                nn.Unflatten(1, (64, h4, w4)),
                nn.ConvTranspose2d(64, 32, 4, 2, 1),
                nn.ReLU(),
                nn.ConvTranspose2d(32, channels, 4, 2, 1),
            )

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(x)
        return self.to_mu(h), self.to_logvar(h).clamp(-30.0, 20.0)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Codes -> images in [0, 1]."""
        return torch.sigmoid(self.decode_logits(z))

    def forward(
        self, x: torch.Tensor, noise: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(decoder logits, mu, logvar); ``noise`` is eps (drawn here when not given)."""
        mu, logvar = self.encode(x)
        eps = torch.randn_like(mu) if noise is None else noise
        z = mu + torch.exp(0.5 * logvar) * eps
        return self.decode_logits(z), mu, logvar


def vae_terms(
    model: nn.Module, x01: torch.Tensor, noise: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per image: (reconstruction BCE summed over pixels, closed-form KL of each latent dimension, (B, d))."""
    logits, mu, logvar = model(x01, noise)
    # BCE on the sigmoid's logits: the same number as BCE(sigmoid(logits), x), without log(0).
    reconstruction = F.binary_cross_entropy_with_logits(logits, x01, reduction="none").flatten(1).sum(dim=1)
    kl_per_dimension = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp())
    return reconstruction, kl_per_dimension


def kl_weight(beta: float, warmup_epochs: int, epoch: int) -> float:
    """KL annealing: beta * (epoch + 1) / N for the first N epochs, then beta."""
    return beta if warmup_epochs == 0 else beta * min(1.0, (epoch + 1) / warmup_epochs)


def kl_penalty(kl_per_dimension: torch.Tensor, free_bits: float) -> torch.Tensor:
    """The KL the loss is charged: summed over dimensions, each dimension's batch mean
    counted as at least ``free_bits`` nats (so nothing pulls it below that)."""
    if free_bits == 0:
        return kl_per_dimension.sum(dim=1).mean()
    return kl_per_dimension.mean(dim=0).clamp(min=free_bits).sum()


@hookimpl
def build_model(spec, config):
    shape = tuple(config.input_shape)
    if config.variant == "conv":
        if len(shape) != 3 or shape[1] % 4 or shape[2] % 4:
            raise ConfigError(
                "input_shape",
                shape,
                "for variant=conv: images (C, H, W) whose height and width divide by 4",
                owner=spec.name,
            )
    model = VAE(shape, config.latent_dim, tuple(config.hidden), config.variant)
    model.beta = config.beta  # read by train_step and evaluate
    model.kl_warmup_epochs, model.free_bits = config.kl_warmup_epochs, config.free_bits  # read by train_step
    return model


@hookimpl
def train_step(spec, model, batch, ctx):
    x01 = to_unit(batch[0], ctx.info)
    reconstruction, kl_per_dimension = vae_terms(model, x01)
    vae = unwrap(model)
    weight = kl_weight(vae.beta, vae.kl_warmup_epochs, ctx.epoch)
    loss = reconstruction.mean() + weight * kl_penalty(kl_per_dimension, vae.free_bits)
    ctx.backward(loss)
    ctx.step()
    kl = kl_per_dimension.sum(dim=1).mean().detach()  # the true KL, whatever the loss was charged
    return {"loss": loss.detach(), "reconstruction": reconstruction.mean().detach(), "kl": kl}


@hookimpl
def evaluate(spec, model, loader, ctx):
    """Per image: loss (reconstruction + beta KL), reconstruction (BCE, summed
    over pixels) and KL.  The noise is drawn from a fixed seed, so two
    evaluations of the same weights agree and epochs compare fairly."""
    generator = torch.Generator().manual_seed(0)
    beta = unwrap(model).beta
    recs, kls = [], []
    with torch.no_grad():
        for batch in loader:
            x01 = to_unit(batch[0], ctx.info)
            noise = torch.randn(len(x01), unwrap(model).latent_dim, generator=generator).to(x01.device)
            reconstruction, kl_per_dimension = vae_terms(model, x01, noise)
            kl = kl_per_dimension.sum(dim=1)
            recs.append(ctx.gather(reconstruction))
            kls.append(ctx.gather(kl))
    if not recs:
        raise ValueError("cannot evaluate on an empty data split")
    reconstruction, kl = torch.cat(recs).mean().item(), torch.cat(kls).mean().item()
    return {"loss": reconstruction + beta * kl, "reconstruction": reconstruction, "kl": kl}


@hookimpl
def sample(spec, model, request, ctx):
    vae = unwrap(model)
    draw = parse_request(request, modes=spec.sample_modes, image_shape=vae.image_shape, max_steps=0, owner=spec.name)
    device = next(vae.parameters()).device
    columns = None
    with torch.no_grad():
        if draw.mode == "sample":
            z = torch.randn(draw.n, vae.latent_dim, generator=draw.generator())
        elif draw.mode == "traverse":
            z = traversal(draw.n, vae.latent_dim)
            columns = draw.n
        elif draw.mode == "grid":
            side = min(draw.n, 32)
            z = latent_grid(side, vae.latent_dim)
            columns = side
        else:
            x = draw.inputs.to(device)
            mu, _ = vae.encode(to_unit(x, ctx.info))
            if draw.mode == "reconstruct":
                # originals in the first row, their reconstructions (decoded means) below
                images = torch.cat([to_unit(x, ctx.info), vae.decode(mu)])
                return images_result(images, draw, columns=len(x))
            z = latent_line(mu[0], mu[1], draw.n)
        images = vae.decode(z.to(device))
    return images_result(images, draw, columns=columns)
