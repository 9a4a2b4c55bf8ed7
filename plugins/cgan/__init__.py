"""Catalogue card for the conditional GAN (cGAN).

The lecture notes' 8.5 on their DCGAN (8.7): both players see the class y,
min_G max_D E[log D(x, y)] + E[log(1 - D(G(z, y), y))] (eq. 8.17), with the
conditioning of exercise 8.4's hint.  The generator is the DCGAN's, fed the
100-D noise vector with the one-hot class appended (110 input channels:
878,464 parameters on Fashion-MNIST); the discriminator is the DCGAN's with one
more input channel, a learned 28 x 28 embedding of the class beside the image
(431,872 + 1,024 + 7,840 = 440,736).  The DCGAN's recipe otherwise: no biases,
N(0, 0.02) weights, Adam 2e-4 with betas (0.5, 0.999) for both, BCE, batch 128.

It trains on labelled 28 x 28 images (Fashion-MNIST by default, MNIST) and
draws the class a request names (``archzoo sample RUN --class Sandal``).

No torch here: this module runs whenever archzoo lists what is installed.
The networks, the step, the evaluation and the sampler are in
:mod:`archzoo.plugins.cgan.model`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from archzoo import ArchSpec, hookimpl, param


@dataclass
class CGANConfig:
    """The notes' DCGAN recipe, conditioned on the class."""

    #: Read by archzoo's front ends: a class to draw (``--class``) means something to this
    #: generator; a guidance weight does not (that is a diffusion model's).
    class_conditional: ClassVar[bool] = True
    guidable: ClassVar[bool] = False

    latent_dim: int = param(100, "size of the noise vector z", min=1, max=4096)
    d_lr_ratio: float = param(
        1.0, "discriminator learning rate / generator learning rate (TTUR: 4)", min=0.0, max=1000.0
    )
    beta1: float = param(0.5, "Adam's beta1 for both networks (the notes: 0.5)", min=0.0, max=0.999)
    beta2: float = param(0.999, "Adam's beta2 for both networks", min=0.0, max=0.9999)
    num_classes: int = param(10, "classes y the players see (filled from the dataset)", from_data="num_classes", min=1)
    input_shape: tuple[int, ...] = param(
        (1, 28, 28), "shape of one image: C x 28 x 28 (filled from the dataset)", from_data="input_shape", min=1
    )


#: Generator: the DCGAN's 837,504 with 10 more input channels on its first ConvTranspose
#: (10 x 256 x 4 x 4 = 40,960); discriminator: the DCGAN's 431,872, one more input channel
#: on its first conv (64 x 4 x 4 = 1,024) and the class embedding (10 x 784 = 7,840).
GENERATOR_PARAMETERS = 878_464
DISCRIMINATOR_PARAMETERS = 440_736
DEFAULT_PARAMETERS = GENERATOR_PARAMETERS + DISCRIMINATOR_PARAMETERS  # 1,319,200


@hookimpl
def archzoo_register(registry):
    registry.add_architecture(
        ArchSpec(
            name="cgan",
            task="image-generation",
            metrics={"d_loss": "lower", "g_loss": "lower", "d_real": "higher", "d_fake": "lower"},
            summary="Conditional GAN (notes 8.5) on the notes' DCGAN: one-hot class appended to z, a class-embedding "
            "channel beside the image for D; draws the class asked for.",
            config=CGANConfig,
            default_dataset="fashion-mnist",
            citation="Mirza & Osindero (2014), conditional GAN; Radford, Metz & Chintala (2016), DCGAN.",
            parameters=DEFAULT_PARAMETERS,
            implementation="archzoo.plugins.cgan.model",
            extra_tasks=("image-classification",),  # trains on labelled 28x28 images
            separate_steps=True,  # G and D step separately, as the DCGAN's
            # At the suite's 1e-2 one Adam step moves the N(0, 0.02) weights by half their spread and the
            # losses swing by chance; at the recipe's rate they fall steadily.
            check_lr=2e-4,
        )
    )
