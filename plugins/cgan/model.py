"""The conditional GAN (lecture notes 8.5) on the notes' DCGAN (8.7), for 28 x 28 images.

Both players are conditioned on the class y (eq. 8.17):

    min_G max_D  E_{x,y}[log D(x, y)] + E_{z,y}[log(1 - D(G(z, y), y))]

as exercise 8.4's hint builds it:

- G(z, y): the DCGAN generator on [z, onehot(y)], (100 + K) x 1 x 1 -> 1 x 28 x 28;
- D(x, y): the DCGAN discriminator on [x, e(y)], 2 x 28 x 28, where e(y) is a
  learned embedding of the class, one 28 x 28 map per class, as an extra channel.

The networks are the DCGAN's layers (:mod:`archzoo.plugins.dcgan.model`, written
out again here because a plugin imports only archzoo), with the wider inputs,
the DCGAN paper's initialisation and two Adam optimizers, the discriminator's
holding the class embedding e(y) too.  One training step, on a batch of real
images and their labels:

1. discriminator: BCE(D(x, y), 1) + BCE(D(G(z, y').detach(), y'), 0), with y'
   drawn uniformly over the classes, step its Adam;
2. generator: the non-saturating BCE(D(G(z, y'), y'), 1), step its Adam, and
   clear the gradients its backward pass left on D.

Evaluation reports both players' losses and the mean D(x, y) and D(G(z, y), y)
on the validation images, the fakes drawn with the real images' labels from a
fixed seed.  ``sample`` draws the class ``request["class"]`` names, or every
class in turn (:mod:`archzoo.toolkit.conditioning`).

Adaptations to the recipe as written: the fakes' classes y' are drawn
uniformly rather than copied from the real batch, so the generator practises
every class equally whatever the batch holds; real images are mapped to
[-1, 1] first (:func:`archzoo.toolkit.generative.to_signed`), as for the DCGAN.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from archzoo import ConfigError, hookimpl
from archzoo.toolkit import unwrap
from archzoo.toolkit.conditioning import class_labels, guidance_weight
from archzoo.toolkit.generative import SampleError, from_signed, images_result, parse_request, to_signed


def generator(inputs: int, channels: int) -> nn.Sequential:
    """The DCGAN generator on an (inputs) x 1 x 1 code: 4x4, 7x7, 14x14, then 28x28 in [-1, 1]."""
    return nn.Sequential(
        nn.ConvTranspose2d(inputs, 256, 4, 1, 0, bias=False), nn.BatchNorm2d(256), nn.ReLU(True),
        nn.ConvTranspose2d(256, 128, 3, 2, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(True),
        nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(True),
        nn.ConvTranspose2d(64, channels, 4, 2, 1, bias=False), nn.Tanh(),
    )  # fmt: skip


def discriminator(channels: int) -> nn.Sequential:
    """The DCGAN discriminator: 28x28 -> 14x14 -> 7x7 -> 4x4 -> one probability of being real."""
    return nn.Sequential(
        nn.Conv2d(channels, 64, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True),
        nn.Conv2d(64, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.2, True),
        nn.Conv2d(128, 256, 3, 2, 1, bias=False), nn.BatchNorm2d(256), nn.LeakyReLU(0.2, True),
        nn.Conv2d(256, 1, 4, 1, 0, bias=False), nn.Sigmoid(), nn.Flatten(0),
    )  # fmt: skip


def dcgan_init(module: nn.Module) -> None:
    """The DCGAN paper's initialisation: conv weights N(0, 0.02), BatchNorm scales N(1, 0.02), shifts 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class CGAN(nn.Module):
    """G(z, y) and D(x, y) in one module (one checkpoint).  Call it, do not reach in:
    ``model(z, y, "generator")`` draws images, ``model(x, y)`` scores them."""

    def __init__(self, latent_dim: int, num_classes: int, image_shape: tuple[int, int, int]) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.num_classes = num_classes
        self.image_shape = image_shape
        channels, height, width = image_shape
        self.generator = generator(latent_dim + num_classes, channels)
        self.discriminator = discriminator(channels + 1)
        self.label_map = nn.Embedding(num_classes, height * width)  # e(y): one extra input channel for D
        self.apply(dcgan_init)

    def forward(self, x: torch.Tensor, y: torch.Tensor, network: str = "discriminator") -> torch.Tensor:
        if network == "generator":
            code = torch.cat([x.view(len(x), self.latent_dim), F.one_hot(y, self.num_classes).to(x.dtype)], dim=1)
            return self.generator(code.view(len(x), -1, 1, 1))
        _, height, width = self.image_shape
        return self.discriminator(torch.cat([x, self.label_map(y).view(len(x), 1, height, width)], dim=1))

    def noise(self, n: int, generator: torch.Generator | None = None, device: torch.device | str = "cpu"):
        return torch.randn(n, self.latent_dim, generator=generator).to(device)


@hookimpl
def build_model(spec, config):
    shape = tuple(config.input_shape)
    if len(shape) != 3 or shape[1:] != (28, 28):
        raise ConfigError(
            "input_shape",
            shape,
            "C x 28 x 28 images: the notes' DCGAN, which the cGAN conditions, is built for 28 x 28 (Fashion-MNIST, "
            "MNIST)",
            owner=spec.name,
        )
    model = CGAN(config.latent_dim, config.num_classes, shape)
    model.d_lr_ratio = config.d_lr_ratio  # read by configure_optimizers
    model.betas = (config.beta1, config.beta2)
    return model


@hookimpl
def configure_optimizers(spec, model, train_config):
    """Two Adams: the generator at the run's ``lr``; the discriminator, with its class embedding
    e(y), at ``lr x d_lr_ratio``."""
    gan = unwrap(model)
    lr, decay = train_config.lr, train_config.weight_decay
    judge = [*gan.discriminator.parameters(), *gan.label_map.parameters()]
    return {
        "generator": torch.optim.Adam(gan.generator.parameters(), lr=lr, betas=gan.betas, weight_decay=decay),
        "discriminator": torch.optim.Adam(judge, lr=lr * gan.d_lr_ratio, betas=gan.betas, weight_decay=decay),
    }


def bce(scores: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy(scores, torch.full_like(scores, target))


@hookimpl
def train_step(spec, model, batch, ctx):
    gan = unwrap(model)
    real, labels = to_signed(batch[0], ctx.info), batch[1].long()
    wanted = torch.randint(0, gan.num_classes, (len(real),), device=real.device)
    fake = model(gan.noise(len(real), device=real.device), wanted, "generator")

    # 1. the discriminator, on real pairs (x, y) and detached fake pairs (G(z, y'), y')
    d_real, d_fake = model(real, labels), model(fake.detach(), wanted)
    d_loss = bce(d_real, 1.0) + bce(d_fake, 0.0)
    ctx.backward(d_loss)
    ctx.step("discriminator")

    # 2. the generator, against the updated discriminator: D should take its pairs for real
    g_loss = bce(model(fake, wanted), 1.0)
    ctx.backward(g_loss)
    ctx.step("generator")
    ctx.optimizers["discriminator"].zero_grad(set_to_none=True)  # G's backward left gradients on D
    return {
        "loss": d_loss.item(),
        "d_loss": d_loss.item(),
        "g_loss": g_loss.item(),
        "d_real": d_real.mean().item(),
        "d_fake": d_fake.mean().item(),
    }


@hookimpl
def evaluate(spec, model, loader, ctx):
    """Real validation pairs against as many fakes of the same classes from a fixed seed."""
    gan = unwrap(model)
    generator = torch.Generator().manual_seed(0)
    reals, fakes = [], []
    with torch.no_grad():
        for batch in loader:
            real, labels = to_signed(batch[0], ctx.info), batch[1].long()
            fake = model(gan.noise(len(real), generator, real.device), labels, "generator")
            reals.append(ctx.gather(model(real, labels)))
            fakes.append(ctx.gather(model(fake, labels)))
    if not reals:
        raise ValueError("cannot evaluate on an empty data split")
    d_real, d_fake = torch.cat(reals), torch.cat(fakes)
    return {
        "g_loss": bce(d_fake, 1.0).item(),
        "d_loss": (bce(d_real, 1.0) + bce(d_fake, 0.0)).item(),
        "d_real": d_real.mean().item(),
        "d_fake": d_fake.mean().item(),
    }


@hookimpl
def sample(spec, model, request, ctx):
    """G(z, y) for ``n`` noise vectors: of the class ``request["class"]`` names, or every class in turn."""
    gan = unwrap(model)
    draw = parse_request(request, modes=("sample",), image_shape=None, max_steps=0, owner=spec.name)
    if guidance_weight(request, owner=spec.name):
        raise SampleError(
            f"{spec.name}: a cGAN draws its class directly and takes no guidance weight; classifier-free guidance is "
            "for a DDPM trained with label dropout (preset ddpm-fashion-guided)"
        )
    names = tuple(ctx.info.class_names) or tuple(str(i) for i in range(gan.num_classes))
    labels = class_labels(request, draw.n, names[: gan.num_classes], owner=spec.name)
    device = next(gan.parameters()).device
    z = gan.noise(draw.n, draw.generator())
    with torch.no_grad():
        images = from_signed(model(z.to(device), labels.to(device), "generator"))
    return images_result(images, draw, classes=[names[i] for i in labels.tolist()])
