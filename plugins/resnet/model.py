"""Residual networks, as in the lecture notes.

**The residual block.**  Two 3x3 convolutions, each followed by batch norm,
with a ReLU between them; the block's input is added to their output before
the final ReLU::

    out = ReLU( BN(conv(ReLU(BN(conv(x))))) + shortcut(x) )

The shortcut is the identity when the block keeps the shape, and a 1x1
convolution (stride 2 when the block halves the resolution) plus batch norm
when it changes the channels or the size.  The convolutions have no bias:
the batch norm after each one has its own shift.

**The small ResNet** (``variant = "small"``): a 3x3 Conv-BN-ReLU stem to
``widths[0]`` channels, then one stage per width of ``blocks_per_stage``
blocks, every stage after the first starting with a stride-2 block, then
global average pooling and Linear.  It adapts to the data: the stem takes
any number of channels; for inputs above 64 pixels it also downsamples by 4
(stride-2 stem and a 2x2 max-pool) as ImageNet ResNets do; stages stop
halving a feature map that is down to one pixel.  The notes' 8-layer
exercise is one block per stage at 16/32/64 channels: the stem, six
convolutions in three blocks and the Linear (the 1x1 projections are not
counted as layers), 77,754 parameters on one-channel images and 10 classes.

**ResNet-18 and the two-phase transfer recipe** (``variant = "resnet18"``):
torchvision's ResNet-18 with the 1000-way ImageNet classifier replaced by a
new head, Dropout(0.3) + Linear(512, classes).  With ``pretrained = true``:

- phase 1, the first ``freeze_epochs`` epochs: the ImageNet backbone is
  frozen and only the new head learns, at ``lr`` (1e-3 in the preset);
- phase 2, the epochs after: layer3 and layer4 are unfrozen too, at
  ``lr * layer3_lr_scale`` and ``lr * layer4_lr_scale`` (1e-5 and 1e-4 in
  the preset); the stem, layer1 and layer2 stay frozen.

One run does both phases.  The optimiser holds the three parameter groups
from the start; during phase 1 the training step drops layer3's and layer4's
gradients before stepping (an optimiser skips a parameter without a
gradient), so nothing in them moves, and their batch norms stay in
evaluation mode, so their running statistics do not move either.  This keeps
every parameter that will ever train registered as trainable from the first
step, which is what multi-process training needs.  Frozen parts (always: the
stem, layer1 and layer2) do not even get gradients.

Where the ImageNet weights come from: the torch hub cache
(``$TORCH_HOME/hub/checkpoints/resnet18-f37072fd.pth``), or, only when
``download_weights = true``, a one-time download into it.  Otherwise the run
stops with an error that says where to put the file.  The weights are loaded
when training starts (in ``configure_optimizers``), not in ``build_model``:
``build_model`` also runs to load a checkpoint, and a fine-tuned checkpoint
carries all its weights, so its users never need the ImageNet file.  One
input channel (Fashion-MNIST) gets the sum of conv1's RGB filters, which is
what the pretrained network would compute on a gray image copied into
three channels.  (The images are normalised with their own dataset's mean
and deviation, not ImageNet's; the new head and phase 2 absorb the shift.)

Without pretrained weights ResNet-18 trains from scratch like any network:
everything learns at ``lr``.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from archzoo import ArchzooError, ConfigError, hookimpl
from archzoo.toolkit import batch_accuracy, classification_loss, unwrap


class ResidualBlock(nn.Module):
    """Conv-BN-ReLU-Conv-BN, plus the identity or a 1x1 projection, then ReLU."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        if stride == 1 and c_in == c_out:
            self.shortcut = nn.Identity()
        else:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class SmallResNet(nn.Module):
    """Stem -> stages of residual blocks -> global average pool -> (Dropout) -> Linear."""

    def __init__(
        self,
        input_shape: tuple[int, ...],
        num_classes: int,
        widths=(16, 32, 64),
        blocks_per_stage: int = 1,
        dropout: float = 0.0,
        resize: int = 0,
    ):
        super().__init__()
        channels, height, width = input_shape
        self.resize = resize
        size = resize or min(height, width)
        large = size > 64  # ImageNet-sized inputs: downsample by 4 in the stem
        stem = [
            nn.Conv2d(channels, widths[0], 3, stride=2 if large else 1, padding=1, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(),
        ]
        if large:
            stem.append(nn.MaxPool2d(2))
            size = size // 4
        self.stem = nn.Sequential(*stem)
        blocks, c_in = [], widths[0]
        for i, c_out in enumerate(widths):
            for j in range(blocks_per_stage):
                stride = 2 if i > 0 and j == 0 and size > 1 else 1
                size = (size + 1) // 2 if stride == 2 else size
                blocks.append(ResidualBlock(c_in, c_out, stride))
                c_in = c_out
        self.stages = nn.Sequential(*blocks)
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout), nn.Linear(c_in, num_classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.resize:
            x = F.interpolate(x, size=(self.resize, self.resize), mode="bilinear", align_corners=False)
        return self.head(self.stages(self.stem(x)))


class TransferResNet18(nn.Module):
    """torchvision's ResNet-18 with a new Dropout + Linear head, and the two phases of fine-tuning."""

    ALWAYS_FROZEN = ("conv1", "bn1", "layer1", "layer2")  # when pretrained

    def __init__(
        self,
        input_shape: tuple[int, ...],
        num_classes: int,
        dropout: float = 0.3,
        resize: int = 0,
        pretrained: bool = False,
        download_weights: bool = False,
        freeze_epochs: int = 0,
        layer3_lr_scale: float = 0.01,
        layer4_lr_scale: float = 0.1,
    ):
        super().__init__()
        from torchvision.models import resnet18

        self.resize = resize
        # The recipe, used when training starts (configure_optimizers) and in each step.
        self.pretrained, self.download_weights, self.freeze_epochs = pretrained, download_weights, freeze_epochs
        self.layer3_lr_scale, self.layer4_lr_scale = layer3_lr_scale, layer4_lr_scale
        self.phase = 0  # 0: not training with the recipe (yet)
        self.net = resnet18(weights=None)
        if input_shape[0] != 3:
            self.net.conv1 = nn.Conv2d(input_shape[0], 64, 7, stride=2, padding=3, bias=False)
        self.net.fc = nn.Sequential(nn.Dropout(dropout), nn.Linear(512, num_classes))  # the new head
        self.frozen: tuple[str, ...] = ()  # parts of self.net kept fixed (set when training starts)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.resize:
            x = F.interpolate(x, size=(self.resize, self.resize), mode="bilinear", align_corners=False)
        return self.net(x)

    def train(self, mode: bool = True):
        super().train(mode)
        if mode:  # frozen parts keep their batch-norm statistics
            for name in self.frozen:
                getattr(self.net, name).eval()
        return self

    def load_imagenet(self, state: dict[str, torch.Tensor]) -> None:
        """Take ImageNet weights for everything but the head (conv1 summed over RGB for gray inputs)."""
        state = {k: v for k, v in state.items() if not k.startswith("fc.")}
        if self.net.conv1.in_channels == 1:
            state["conv1.weight"] = state["conv1.weight"].sum(dim=1, keepdim=True)
        self.net.load_state_dict(state, strict=False)

    def set_phase(self, phase: int) -> None:
        """Phase 1: only the head learns.  Phase 2: layer3 and layer4 learn too."""
        self.phase = phase
        self.frozen = self.ALWAYS_FROZEN + (("layer3", "layer4") if phase == 1 else ())
        self.train(self.training)


@hookimpl
def build_model(spec, config):
    shape = tuple(config.input_shape)
    if len(shape) != 3:
        raise ConfigError("input_shape", shape, "images shaped (channels, height, width)", owner=spec.name)
    if config.variant == "small":
        return SmallResNet(
            shape, config.num_classes, tuple(config.widths), config.blocks_per_stage, config.dropout, config.resize
        )
    if config.freeze_epochs and not config.pretrained:
        raise ConfigError(
            "freeze_epochs",
            config.freeze_epochs,
            "0 unless pretrained=true (a frozen random backbone learns nothing)",
            owner=spec.name,
        )
    if config.pretrained and shape[0] not in (1, 3):
        raise ConfigError("input_shape", shape, "1 or 3 channels for the ImageNet weights", owner=spec.name)
    return TransferResNet18(
        shape,
        config.num_classes,
        config.dropout,
        config.resize,
        pretrained=config.pretrained,
        download_weights=config.download_weights,
        freeze_epochs=config.freeze_epochs,
        layer3_lr_scale=config.layer3_lr_scale,
        layer4_lr_scale=config.layer4_lr_scale,
    )


def imagenet_weights(download: bool = False) -> dict[str, torch.Tensor]:
    """ResNet-18's ImageNet weights from the torch hub cache; downloaded there only if ``download``."""
    from torchvision.models import ResNet18_Weights

    weights = ResNet18_Weights.IMAGENET1K_V1
    path = Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name
    if path.is_file():
        return torch.load(path, map_location="cpu", weights_only=True)
    if not download:
        raise ArchzooError(
            f"resnet18: the ImageNet weights are not available: {path} does not exist. "
            f"Copy {path.name} (from {weights.url}) there (TORCH_HOME moves the cache), "
            f"or let archzoo download it once with --set download_weights=true, "
            f"or train from scratch with --set pretrained=false"
        )
    try:
        return weights.get_state_dict(progress=True, check_hash=True)
    except Exception as exc:  # offline, proxy, disk: say what failed
        raise ArchzooError(f"resnet18: downloading the ImageNet weights from {weights.url} failed: {exc}") from exc


@hookimpl
def configure_optimizers(spec, model, train_config):
    """Start of training: for pretrained ResNet-18, load the ImageNet weights, freeze
    the stem, layer1 and layer2, and give layer3, layer4 and the head their own rates."""
    if not (isinstance(model, TransferResNet18) and model.pretrained):
        return None  # the default optimiser, everything at lr
    model.load_imagenet(imagenet_weights(download=model.download_weights))
    for name in model.ALWAYS_FROZEN:
        getattr(model.net, name).requires_grad_(False)
    model.set_phase(1 if model.freeze_epochs > 0 else 2)
    lr, net = train_config.lr, model.net
    groups = [
        {"params": list(net.layer3.parameters()), "lr": lr * model.layer3_lr_scale},
        {"params": list(net.layer4.parameters()), "lr": lr * model.layer4_lr_scale},
        {"params": list(net.fc.parameters()), "lr": lr},
    ]
    kinds = {"adamw": torch.optim.AdamW, "adam": torch.optim.Adam}
    if train_config.optimizer in kinds:
        return kinds[train_config.optimizer](groups, lr=lr, weight_decay=train_config.weight_decay)
    return torch.optim.SGD(groups, lr=lr, momentum=train_config.momentum, weight_decay=train_config.weight_decay)


@hookimpl
def train_step(spec, model, batch, ctx):
    """The transfer recipe's step: cross-entropy, with layer3/layer4 held still in phase 1.
    Every other ResNet uses archzoo's standard classification step."""
    net = unwrap(model)
    if not (isinstance(net, TransferResNet18) and net.pretrained):
        return None
    phase = 1 if ctx.epoch < net.freeze_epochs else 2
    if net.phase != phase:
        net.set_phase(phase)
    inputs, labels = batch
    logits = model(inputs)
    loss = classification_loss(logits, labels, ctx)
    ctx.backward(loss)
    if phase == 1:
        for p in (*net.net.layer3.parameters(), *net.net.layer4.parameters()):
            p.grad = None  # nothing to step: the backbone is frozen in phase 1
    ctx.step()
    return {"loss": loss.detach(), "accuracy": batch_accuracy(logits, labels), "phase": float(phase)}
