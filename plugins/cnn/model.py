"""The convolutional network family, as in the lecture notes.

Recipe: ``blocks`` stages; stage i is ``convs_per_block`` x
(Conv k x k, padding k//2 -> BatchNorm -> ReLU) with ``width * 2**i`` channels,
then MaxPool 2x2 to halve the resolution (and Dropout2d, the notes' CIFAR10Net).  Global average pooling turns the
last feature map into one vector per image, so the head does not depend on
the input size; the head is Linear(C, classes), or
Linear(C, hidden) -> ReLU -> Dropout -> Linear(hidden, classes).

Two members from the notes, at 3x32x32 and 10 classes:

- the three-block network, 64/128/256 channels, two convs per block, head
  256-128-10 with dropout 0.5: 1,181,386 parameters;
- the "CNN in 10 lines", one Conv 3->64, BN, ReLU, MaxPool, GAP, Linear(64, 10):
  2,570 parameters.

Only ``build_model`` lives here: training step, evaluation and sampling are
the standard classification ones that archzoo supplies (cross-entropy step,
accuracy/loss evaluation, softmax probabilities).
"""

from __future__ import annotations

import torch.nn as nn

from archzoo import hookimpl
from archzoo.toolkit.layers import activation, initialise


def conv_bn_act(c_in: int, c_out: int, kernel_size: int, activation_name: str = "relu") -> list[nn.Module]:
    # the conv keeps its bias, as the notes write it (BN makes it redundant; the counts include it)
    conv = nn.Conv2d(c_in, c_out, kernel_size, padding=kernel_size // 2)
    return [conv, nn.BatchNorm2d(c_out), activation(activation_name)]


def build_cnn(
    kernel_size: int = 3,
    width: int = 16,
    blocks: int = 2,
    convs_per_block: int = 1,
    head_hidden: int = 0,
    dropout: float = 0.0,
    input_shape: tuple[int, ...] = (1, 8, 8),
    num_classes: int = 10,
    pool: bool = True,
    dropout2d: float = 0.0,
    activation_name: str = "relu",
    max_width: int = 0,
) -> nn.Sequential:
    """One member of the family, sized for ``input_shape`` = (C, H, W)."""
    if len(input_shape) != 3:
        raise ValueError(f"cnn needs images shaped (channels, height, width), not {tuple(input_shape)}")
    channels, h, w = input_shape
    pad = kernel_size // 2
    layers: list[nn.Module] = []
    for i in range(blocks):
        c_out = width * 2**i if not max_width else min(width * 2**i, max_width)
        for _ in range(convs_per_block):
            layers += conv_bn_act(channels, c_out, kernel_size, activation_name)
            channels = c_out
            h, w = h + 2 * pad - kernel_size + 1, w + 2 * pad - kernel_size + 1  # unchanged for odd k
        if pool and min(h, w) >= 2:  # a small input runs out of pixels before it runs out of blocks
            layers.append(nn.MaxPool2d(2))
            h, w = h // 2, w // 2
        if dropout2d > 0:
            layers.append(nn.Dropout2d(dropout2d))  # drops whole channels: neighbouring pixels are correlated
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]  # global average pool: (B, C, H, W) -> (B, C)
    if head_hidden > 0:
        layers += [
            nn.Linear(channels, head_hidden),
            activation(activation_name),
            nn.Dropout(dropout),
            nn.Linear(head_hidden, num_classes),
        ]
    else:
        layers.append(nn.Linear(channels, num_classes))
    return nn.Sequential(*layers)


@hookimpl
def build_model(spec, config):
    model = build_cnn(
        kernel_size=config.kernel_size,
        width=config.width,
        blocks=config.blocks,
        convs_per_block=config.convs_per_block,
        head_hidden=config.head_hidden,
        dropout=config.dropout,
        input_shape=tuple(config.input_shape),
        num_classes=config.num_classes,
        pool=config.pool,
        dropout2d=config.dropout2d,
        activation_name=config.activation,
        max_width=config.max_width,
    )
    return initialise(model, config.init, config.activation)
