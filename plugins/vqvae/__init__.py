"""Catalogue card for the VQ-VAE (vector-quantised variational autoencoder).

The lecture notes' VQ-VAE (section 9.7, exercise 9.5): a convolutional
encoder turns an image into a grid of d = 64 vectors, each replaced by its
nearest entry of a codebook of K = 512; a decoder rebuilds the image from the
grid of codes.  The gradient passes the quantisation by the straight-through
estimator; the loss is reconstruction + codebook term + beta x commitment term
(equation 9.25).  The notes give no beta: 0.25 is van den Oord et al.'s.
Preset ``vqvae-notes`` trains it on Fashion-MNIST.  140,545 parameters.

No torch here: this module runs whenever archzoo lists what is installed.
The network, its step, its evaluation and its sampler are in
:mod:`archzoo.plugins.vqvae.model`.
"""

from __future__ import annotations

from dataclasses import dataclass

from archzoo import ArchSpec, hookimpl, param


@dataclass
class VQVAEConfig:
    """The notes' codebook size and code dimension, the commitment weight, the encoder's widths."""

    num_codes: int = param(512, "K, the number of codebook vectors (the notes: 512)", min=2, max=65536)
    code_dim: int = param(64, "d, the size of each codebook vector and encoder output (the notes: 64)", min=1, max=4096)
    beta: float = param(
        0.25,
        "weight of the commitment term ||z_e - sg[e]||^2 (the notes name no value; 0.25 is van den Oord et al.'s)",
        min=0.0,
        max=1000.0,
    )
    channels: tuple[int, ...] = param(
        (32, 64),
        "widths of the encoder's 4x4 stride-2 convolutions (each halves the image); the decoder mirrors them",
        min=1,
        max=4096,
    )
    input_shape: tuple[int, ...] = param(
        (1, 28, 28), "shape of one image (filled from the dataset)", from_data="input_shape", min=1
    )


#: On Fashion-MNIST (1x28x28), a 7x7 grid of codes: encoder Conv 1->32 (544), Conv 32->64 (32,832),
#: a 1x1 Conv 64->d=64 (4,160); codebook 512 x 64 (32,768); decoder Conv 3x3 64->64 (36,928),
#: ConvTranspose 64->32 (32,800), ConvTranspose 32->1 (513).
DEFAULT_PARAMETERS = 140_545


@hookimpl
def archzoo_register(registry):
    registry.add_architecture(
        ArchSpec(
            name="vqvae",
            task="image-generation",
            metrics={
                "reconstruction": "lower",
                "codebook": "lower",
                "mse": "lower",
                "bce": "lower",
                "codes_used": "higher",
                "code_perplexity": "higher",
            },
            summary="VQ-VAE (the notes' K=512 codes of d=64): conv encoder to a grid of codes, nearest-code "
            "quantisation with the straight-through estimator, codebook usage, reconstructions, decoded random codes.",
            config=VQVAEConfig,
            default_dataset="fashion-mnist",
            citation="van den Oord, Vinyals & Kavukcuoglu (2017), Neural discrete representation learning.",
            parameters=DEFAULT_PARAMETERS,
            implementation="archzoo.plugins.vqvae.model",
            sample_modes=("sample", "reconstruct"),
            extra_tasks=("image-classification",),  # trains on any image dataset; the labels are not used
        )
    )
