"""Catalogue card for the variational autoencoder.

The lecture notes' MNIST VAE: an encoder 784-512 (ReLU) to the mean and the
log-variance of a 20-D Gaussian code, a decoder 20-512-784 ending in a
sigmoid, the loss binary cross-entropy (summed over pixels) plus beta times
the closed-form KL divergence from N(0, I); Adam at 1e-3, batch 128, 30 epochs
(preset ``vae-notes``).  835,384 parameters.  A convolutional variant
(``variant=conv``) and the notes' latent-size and beta sweeps are settings.

No torch here: this module runs whenever archzoo lists what is installed.
The network, its step, its evaluation and its sampler are in
:mod:`archzoo.plugins.vae.model`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from archzoo import ArchSpec, hookimpl, param


@dataclass
class VAEConfig:
    """The notes' VAE by default; latent size, beta, widths and the variant are the knobs the notes turn."""

    latent_dim: int = param(20, "size of the Gaussian code z (the notes sweep 2, 5, 10, 20, 50)", min=1, max=4096)
    beta: float = param(
        1.0, "weight of the KL term; 1 is the ELBO, >1 a beta-VAE (the notes sweep 0.5, 1, 2, 4)", min=0.0, max=1000.0
    )
    kl_warmup_epochs: int = param(
        0,
        "KL annealing (notes 9.9.1): the KL weight rises from beta/N in the first epoch to beta in epoch N, against "
        "posterior collapse; 0 trains at beta from the start (evaluation always weighs it by beta)",
        min=0,
        max=100000,
    )
    free_bits: float = param(
        0.0,
        "free bits (notes 9.9.1): nats of KL each latent dimension may keep without penalty, on the batch's mean; "
        "dimensions under it are not pushed further to the prior; 0 turns it off",
        min=0.0,
        max=100.0,
    )
    hidden: tuple[int, ...] = param(
        (512,), "MLP variant: widths of the encoder's hidden layers; the decoder mirrors them", min=1, max=65536
    )
    variant: Literal["mlp", "conv"] = param(
        "mlp", "mlp: the notes' fully connected VAE; conv: two stride-2 convolutions (32, 64 channels) each way"
    )
    input_shape: tuple[int, ...] = param(
        (1, 28, 28), "shape of one image (filled from the dataset)", from_data="input_shape", min=1
    )


#: On Fashion-MNIST (1x28x28 = 784 pixels), the notes' MNIST VAE exactly:
#: encoder 784x512+512 (401,920); mean and log-variance heads 2 x (512x20+20)
#: (20,520); decoder 20x512+512 (10,752) and 512x784+784 (402,192).
DEFAULT_PARAMETERS = 835_384


@hookimpl
def archzoo_register(registry):
    registry.add_architecture(
        ArchSpec(
            name="vae",
            task="image-generation",
            metrics={"reconstruction": "lower", "kl": "lower"},
            summary="Variational autoencoder (the notes' MNIST VAE 784-512-20 / 20-512-784): BCE + beta x KL, prior "
            "samples, reconstructions, latent traversal.",
            config=VAEConfig,
            default_dataset="fashion-mnist",
            citation="Kingma & Welling (2014), Auto-encoding variational Bayes; Higgins et al. (2017), beta-VAE.",
            parameters=DEFAULT_PARAMETERS,
            implementation="archzoo.plugins.vae.model",
            sample_modes=("sample", "reconstruct", "interpolate", "traverse", "grid"),
            extra_tasks=("image-classification",),  # trains on any image dataset; the labels are not used
        )
    )
