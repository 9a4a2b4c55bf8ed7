"""The autoencoder, as in the lecture notes.

Model: encoder x -> Linear-ReLU layers -> code z (``latent_dim`` numbers, no
activation); decoder z -> the mirrored Linear-ReLU layers -> Linear -> sigmoid,
an image in [0, 1].  Loss: the reconstruction error (mean squared error, or
binary cross-entropy) between the input and its reconstruction.

An autoencoder has no prior over its codes, so it cannot "sample" by itself.
The model keeps a running mean and standard deviation of the codes it saw in
training (buffers, saved with the weights), and ``sample``:

- ``mode=sample`` decodes codes drawn from N(mean, std^2), the Gaussian those
  statistics describe: how far a plain autoencoder is from a generator (the
  VAE's prior exists for exactly this);
- ``grid`` decodes an n x n grid over the first two code dimensions, +-3
  standard deviations about the mean (the notes' 2-D latent picture);
- ``interpolate`` decodes n codes on the line between two inputs' codes;
- ``reconstruct`` shows inputs (first row) above their reconstructions.

Fixes and adaptations to the recipe as written:

- archzoo serves standardised pixels; a sigmoid decoder can only produce
  [0, 1], so the loss compares it with the input mapped back to [0, 1]
  (:func:`archzoo.toolkit.generative.to_unit`), not with the standardised tensor.
- Sampling from a plain autoencoder needs the codes' spread; it is tracked
  during training rather than assumed to be N(0, I), which an unregularised
  code space is not.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from archzoo import hookimpl
from archzoo.toolkit import unwrap
from archzoo.toolkit.generative import (
    images_result,
    latent_grid,
    latent_line,
    mlp_decoder,
    parse_request,
    relu_layers,
    to_unit,
)

#: How fast the running code statistics follow the training codes.
MOMENTUM = 0.01


class Autoencoder(nn.Module):
    def __init__(self, image_shape: tuple[int, ...], latent_dim: int, hidden: tuple[int, ...]) -> None:
        super().__init__()
        self.image_shape = tuple(image_shape)
        self.latent_dim = latent_dim
        layers, width = relu_layers(math.prod(image_shape), hidden)
        self.encoder = nn.Sequential(nn.Flatten(), *layers, nn.Linear(width, latent_dim))
        self.decoder = mlp_decoder(latent_dim, hidden, self.image_shape)
        self.register_buffer("code_mean", torch.zeros(latent_dim))
        self.register_buffer("code_std", torch.ones(latent_dim))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Codes -> images in [0, 1]."""
        return torch.sigmoid(self.decoder(z))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(decoder logits, codes)."""
        z = self.encode(x)
        return self.decoder(z), z

    @torch.no_grad()
    def track(self, z: torch.Tensor) -> None:
        """Move the running code statistics towards this batch's."""
        self.code_mean.lerp_(z.mean(dim=0), MOMENTUM)
        if len(z) > 1:
            self.code_std.lerp_(z.std(dim=0), MOMENTUM)


def reconstruction_loss(kind: str, logits: torch.Tensor, x01: torch.Tensor) -> torch.Tensor:
    """Per-image reconstruction error, averaged over pixels."""
    if kind == "bce":
        return F.binary_cross_entropy_with_logits(logits, x01, reduction="none").flatten(1).mean(dim=1)
    return (torch.sigmoid(logits) - x01).pow(2).flatten(1).mean(dim=1)


@hookimpl
def build_model(spec, config):
    model = Autoencoder(tuple(config.input_shape), config.latent_dim, tuple(config.hidden))
    model.reconstruction = config.reconstruction
    return model


@hookimpl
def train_step(spec, model, batch, ctx):
    x01 = to_unit(batch[0], ctx.info)
    logits, z = model(x01)
    loss = reconstruction_loss(unwrap(model).reconstruction, logits, x01).mean()
    ctx.backward(loss)
    ctx.step()
    unwrap(model).track(z.detach())
    return {"loss": loss.detach()}


@hookimpl
def evaluate(spec, model, loader, ctx):
    """The reconstruction loss per image (averaged over pixels), and the mean squared error whatever the loss."""
    kind = unwrap(model).reconstruction
    losses, errors = [], []
    with torch.no_grad():
        for batch in loader:
            x01 = to_unit(batch[0], ctx.info)
            logits, _ = model(x01)
            losses.append(ctx.gather(reconstruction_loss(kind, logits, x01)))
            errors.append(ctx.gather(reconstruction_loss("mse", logits, x01)))
    if not losses:
        raise ValueError("cannot evaluate on an empty data split")
    return {"loss": torch.cat(losses).mean().item(), "mse": torch.cat(errors).mean().item()}


@hookimpl
def sample(spec, model, request, ctx):
    ae = unwrap(model)
    draw = parse_request(request, modes=spec.sample_modes, image_shape=ae.image_shape, max_steps=0, owner=spec.name)
    device = next(ae.parameters()).device
    mean, std = ae.code_mean.cpu(), ae.code_std.cpu()
    columns = None
    with torch.no_grad():
        if draw.mode == "sample":
            z = mean + std * torch.randn(draw.n, ae.latent_dim, generator=draw.generator())
        elif draw.mode == "grid":
            side = min(draw.n, 32)
            z = latent_grid(side, ae.latent_dim, centre=mean, scale=std)
            columns = side
        else:
            x = draw.inputs.to(device)
            codes = ae.encode(to_unit(x, ctx.info))
            if draw.mode == "reconstruct":
                images = torch.cat([to_unit(x, ctx.info), ae.decode(codes)])
                return images_result(images, draw, columns=len(x))
            z = latent_line(codes[0], codes[1], draw.n)
        images = ae.decode(z.to(device))
    return images_result(images, draw, columns=columns)
