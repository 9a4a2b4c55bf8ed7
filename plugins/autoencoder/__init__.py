"""Catalogue card for the (deterministic) autoencoder.

An MLP encoder squeezes each image into a code of ``latent_dim`` numbers and
an MLP decoder rebuilds the image from it, trained to reconstruct.  The notes'
2-D latent lab is the preset ``autoencoder-2d``: a two-number code, whose
space ``sample`` draws as a grid of decoded images.  ``sample`` also
interpolates between two inputs and reconstructs.

No torch here: this module runs whenever archzoo lists what is installed.
The network, its step, its evaluation and its sampler are in
:mod:`archzoo.plugins.autoencoder.model`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from archzoo import ArchSpec, hookimpl, param


@dataclass
class AutoencoderConfig:
    """Code size and widths; the decoder mirrors the encoder."""

    latent_dim: int = param(32, "size of the code (2: the notes' 2-D latent lab)", min=1, max=4096)
    hidden: tuple[int, ...] = param(
        (512, 256), "widths of the encoder's hidden layers; the decoder mirrors them", min=1, max=65536
    )
    reconstruction: Literal["mse", "bce"] = param(
        "mse", "reconstruction loss on [0, 1] pixels: mean squared error, or binary cross-entropy"
    )
    input_shape: tuple[int, ...] = param(
        (1, 28, 28), "shape of one image (filled from the dataset)", from_data="input_shape", min=1
    )


#: On Fashion-MNIST (784 pixels): encoder 784x512+512, 512x256+256, 256x32+32
#: (541,472); decoder 32x256+256, 256x512+512, 512x784+784 (542,224).
DEFAULT_PARAMETERS = 1_083_696


@hookimpl
def archzoo_register(registry):
    registry.add_architecture(
        ArchSpec(
            name="autoencoder",
            task="image-generation",
            metrics={"mse": "lower"},
            summary="MLP autoencoder with a configurable code size: reconstructions, a decoded latent grid, "
            "interpolation between two inputs.",
            config=AutoencoderConfig,
            default_dataset="fashion-mnist",
            citation="Hinton & Salakhutdinov (2006), Reducing the dimensionality of data with neural networks.",
            parameters=DEFAULT_PARAMETERS,
            implementation="archzoo.plugins.autoencoder.model",
            sample_modes=("sample", "grid", "interpolate", "reconstruct"),
            extra_tasks=("image-classification",),  # trains on any image dataset; the labels are not used
        )
    )
