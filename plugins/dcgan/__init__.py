"""Catalogue card for the DCGAN.

Exactly the lecture notes' Fashion-MNIST DCGAN.  Generator: a 100-D noise
vector through ConvTranspose 100->256 (4, 1, 0) to 4x4, 256->128 (3, 2, 1) to
7x7, 128->64 (4, 2, 1) to 14x14, 64->1 (4, 2, 1) to 28x28, BatchNorm and ReLU
between, Tanh at the end (837,504 parameters).  Discriminator: the mirror,
Conv 1->64 (4, 2, 1), 64->128 (4, 2, 1), 128->256 (3, 2, 1), 256->1 (4, 1, 0),
LeakyReLU(0.2), BatchNorm on the middle two, Sigmoid at the end (431,872
parameters).  No biases; weights from N(0, 0.02); Adam 2e-4 with betas
(0.5, 0.999) for both; BCE; batch 128; images in [-1, 1].

Presets hold the notes' variants: the recipe (``dcgan-fashion``), a smaller
noise vector, TTUR (generator 1e-4, discriminator 4e-4) and WGAN-GP
(n_critic 5, lambda 10).

No torch here: this module runs whenever archzoo lists what is installed.
The networks, the two-optimizer step, the evaluation and the sampler are in
:mod:`archzoo.plugins.dcgan.model`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from archzoo import ArchSpec, hookimpl, param


@dataclass
class DCGANConfig:
    """The notes' DCGAN by default.  The generator's learning rate is the run's
    ``lr``; the discriminator's is ``lr x d_lr_ratio`` (4 for TTUR)."""

    latent_dim: int = param(100, "size of the noise vector z", min=1, max=4096)
    loss: Literal["bce", "wgan-gp"] = param(
        "bce", "bce: the notes' non-saturating GAN loss; wgan-gp: Wasserstein loss with a gradient penalty (no Sigmoid)"
    )
    d_lr_ratio: float = param(
        1.0, "discriminator learning rate / generator learning rate (TTUR: 4)", min=0.0, max=1000.0
    )
    beta1: float = param(0.5, "Adam's beta1 for both networks (the notes: 0.5)", min=0.0, max=0.999)
    beta2: float = param(0.999, "Adam's beta2 for both networks", min=0.0, max=0.9999)
    n_critic: int = param(1, "discriminator steps per generator step (WGAN-GP: 5)", min=1, max=100)
    gp_weight: float = param(10.0, "wgan-gp: weight lambda of the gradient penalty", min=0.0, max=1e6)
    d_norm: Literal["batch", "layer", "none"] = param(
        "batch", "normalisation in the discriminator's middle layers; a gradient penalty needs layer or none"
    )
    input_shape: tuple[int, ...] = param(
        (1, 28, 28), "shape of one image: C x 28 x 28 (filled from the dataset)", from_data="input_shape", min=1
    )


#: Generator 409,600 + 512 + 294,912 + 256 + 131,072 + 128 + 1,024 = 837,504;
#: discriminator 1,024 + 131,072 + 256 + 294,912 + 512 + 4,096 = 431,872.
GENERATOR_PARAMETERS = 837_504
DISCRIMINATOR_PARAMETERS = 431_872
DEFAULT_PARAMETERS = GENERATOR_PARAMETERS + DISCRIMINATOR_PARAMETERS  # 1,269,376: both live in one checkpoint


@hookimpl
def archzoo_register(registry):
    registry.add_architecture(
        ArchSpec(
            name="dcgan",
            task="image-generation",
            metrics={
                "d_loss": "lower",
                "g_loss": "lower",
                "bce": "lower",
                "w_loss": "lower",
                "d_real": "higher",
                "d_fake": "lower",
            },
            summary="The notes' Fashion-MNIST DCGAN: ConvTranspose generator (837,504) and Conv discriminator "
            "(431,872), two Adam optimizers; TTUR and WGAN-GP variants.",
            config=DCGANConfig,
            default_dataset="fashion-mnist",
            citation="Radford, Metz & Chintala (2016), DCGAN; Heusel et al. (2017), TTUR; Gulrajani et al. (2017), "
            "WGAN-GP.",
            parameters=DEFAULT_PARAMETERS,
            implementation="archzoo.plugins.dcgan.model",
            sample_modes=("sample", "walk"),
            extra_tasks=("image-classification",),  # trains on any 28x28 image dataset; the labels are not used
            # G and D run and step separately: one DistributedDataParallel around both
            # cannot synchronise that, so on several processes the trainer does it by hand.
            separate_steps=True,
            # At the suite's 1e-2 one Adam step moves the N(0, 0.02) weights by half their spread and the
            # losses swing by chance; at the recipe's rate they fall steadily.
            check_lr=2e-4,
        )
    )
