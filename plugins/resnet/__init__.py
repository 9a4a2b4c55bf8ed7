"""Catalogue card for the residual networks.

Two members of one family, chosen with ``variant``:

- ``small``: the notes' ResNet built from residual blocks
  (Conv-BN-ReLU-Conv-BN plus an identity shortcut, or a 1x1 projection when
  the shape changes), sized for small images; one block per stage at
  16/32/64 channels is the notes' 8-layer exercise (``resnet8-fashion``).
- ``resnet18``: torchvision's ResNet-18 with the notes' two-phase transfer
  recipe (``resnet18-transfer-fashion``): ImageNet weights, a new
  Dropout(0.3) + Linear head trained on a frozen backbone, then layer3 and
  layer4 unfrozen with learning rates 1e-5 / 1e-4 / 1e-3.  The weights are
  read from the torch hub cache and downloaded only when
  ``download_weights=true`` says so.

No torch here: this module runs whenever archzoo lists what is installed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from archzoo import ArchSpec, hookimpl, param


@dataclass
class ResNetConfig:
    """Which ResNet, its shape (small) or its transfer recipe (resnet18)."""

    variant: Literal["small", "resnet18"] = param(
        "small",
        "small: residual blocks sized by widths/blocks_per_stage; resnet18: torchvision's, for transfer learning",
    )
    widths: tuple[int, ...] = param(
        (16, 32, 64),
        "small: channels of each stage; every stage after the first halves the resolution",
        min=1,
        max=4096,
    )
    blocks_per_stage: int = param(1, "small: residual blocks (two convolutions each) per stage", min=1, max=64)
    dropout: float = param(
        0.0, "dropout before the final Linear (the transfer recipe's new head uses 0.3)", min=0.0, max=0.95
    )
    resize: int = param(
        0,
        "resize inputs to resize x resize pixels inside the model (ImageNet features like larger objects); 0 keeps "
        "their size",
        min=0,
        max=1024,
    )
    pretrained: bool = param(
        False, "resnet18: start from ImageNet weights (from the torch hub cache; see download_weights)"
    )
    download_weights: bool = param(
        False, "resnet18: allow downloading the ImageNet weights (45 MB) when they are not in the torch hub cache"
    )
    freeze_epochs: int = param(
        0,
        "resnet18 + pretrained: epochs of phase 1 (only the new head learns); then phase 2 (layer3, layer4 and the "
        "head)",
        min=0,
        max=100000,
    )
    layer4_lr_scale: float = param(
        0.1, "resnet18 + pretrained: layer4's learning rate as a fraction of lr (the head's)", min=0.0, max=10.0
    )
    layer3_lr_scale: float = param(
        0.01, "resnet18 + pretrained: layer3's learning rate as a fraction of lr", min=0.0, max=10.0
    )
    input_shape: tuple[int, ...] = param(
        (1, 8, 8),
        "shape of one image, (channels, height, width) (filled from the dataset)",
        from_data="input_shape",
        min=1,
    )
    num_classes: int = param(10, "number of classes (filled from the dataset)", from_data="num_classes", min=2)


#: The small default on ``digits`` (1x8x8, 10 classes): a ResNet-8, 16/32/64 channels.
#: stem 144 + 32; stage 1: 2 x (2,304 + 32); stage 2: 4,608 + 64 + 9,216 + 64 + projection 512 + 64;
#: stage 3: 18,432 + 128 + 36,864 + 128 + projection 2,048 + 128; head 64*10 + 10.
DEFAULT_PARAMETERS = 77_754


@hookimpl
def archzoo_register(registry):
    registry.add_architecture(
        ArchSpec(
            name="resnet",
            task="image-classification",
            summary="Residual networks: a small ResNet of Conv-BN-ReLU-Conv-BN blocks with identity/projection "
            "shortcuts, or torchvision's ResNet-18 with the two-phase transfer recipe.",
            config=ResNetConfig,
            default_dataset="digits",
            citation="He, Zhang, Ren & Sun (2016), Deep residual learning for image recognition. CVPR.",
            parameters=DEFAULT_PARAMETERS,
            implementation="archzoo.plugins.resnet.model",
        )
    )
