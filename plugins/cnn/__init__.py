"""Catalogue card for the convolutional network family.

One function, :func:`archzoo.plugins.cnn.model.build_cnn`, draws every CNN in
the lecture notes: ``blocks`` stages of ``convs_per_block`` x
(Conv -> BatchNorm -> activation) whose channels double each stage
(``width``, ``2*width``, ...), each followed by a 2x2 max-pool (and
Dropout2d when asked); then global average pooling and a small head.  Changing the config moves along the family, from
the "CNN in 10 lines" (one conv, 2,570 parameters) to the notes' three-block
64/128/256 network (1,181,386 parameters).

No torch here: this module runs whenever archzoo lists what is installed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from archzoo import ArchSpec, hookimpl, param


@dataclass
class CNNConfig:
    """The shape of one member of the CNN family.  The default is small enough
    to train on ``digits`` (1x8x8) in seconds; the presets hold the notes' recipes."""

    kernel_size: int = param(
        3, "convolution kernel size (padding kernel_size//2 keeps the spatial size)", choices=(1, 3, 5, 7)
    )
    width: int = param(16, "channels of the first block; block i has width * 2**i", min=1, max=4096)
    blocks: int = param(2, "number of conv blocks, each ending in a 2x2 max-pool", min=1, max=8)
    max_width: int = param(
        0,
        "cap on a block's channels: width * 2**i stops doubling there (the notes' ablation, 4.8, stops at 4 x "
        "width); 0: no cap",
        min=0,
        max=65536,
    )
    convs_per_block: int = param(1, "Conv-BatchNorm-ReLU layers in each block", min=1, max=8)
    pool: bool = param(True, "max-pool 2x2 after each block (skipped anyway once the feature map is 1 pixel wide)")
    head_hidden: int = param(
        0, "width of the hidden layer in the classifier head; 0 for a single Linear", min=0, max=65536
    )
    dropout: float = param(0.0, "dropout before the last Linear when head_hidden > 0", min=0.0, max=0.95)
    dropout2d: float = param(
        0.0,
        "Dropout2d after each block: whole feature maps dropped with this probability (the notes' CIFAR10Net, 4.6, "
        "uses 0.25); 0 turns it off",
        min=0.0,
        max=0.95,
    )
    activation: Literal["relu", "gelu", "tanh", "sigmoid", "leaky_relu", "elu", "silu", "mish"] = param(
        "relu", "nonlinearity after each BatchNorm and in the head (notes 1.1.2; leaky ReLU with slope 0.01)"
    )
    init: Literal["default", "xavier", "he", "normal"] = param(
        "default",
        "weight initialisation of the convolutions and Linears (notes 1.5): PyTorch's default, Xavier/Glorot "
        "uniform, He/Kaiming normal, or N(0, 0.02^2); biases start at 0",
    )
    input_shape: tuple[int, ...] = param(
        (1, 8, 8),
        "shape of one image, (channels, height, width) (filled from the dataset)",
        from_data="input_shape",
        min=1,
    )
    num_classes: int = param(10, "number of classes (filled from the dataset)", from_data="num_classes", min=2)


#: Parameters of the default config on ``digits`` (1x8x8, 10 classes):
#: conv 1->16 (160) + BN (32) + conv 16->32 (4,640) + BN (64) + Linear 32->10 (330).
DEFAULT_PARAMETERS = 5_226


@hookimpl
def archzoo_register(registry):
    registry.add_architecture(
        ArchSpec(
            name="cnn",
            task="image-classification",
            summary="Convolutional network family: blocks of Conv-BN-ReLU with doubling channels and max-pooling, "
            "global average pool, linear head.",
            config=CNNConfig,
            default_dataset="digits",
            citation="LeCun et al. (1998), Gradient-based learning applied to document recognition; Ioffe & Szegedy "
            "(2015), Batch normalization.",
            parameters=DEFAULT_PARAMETERS,
            implementation="archzoo.plugins.cnn.model",
        )
    )
