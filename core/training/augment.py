"""Image augmentation of training batches (notes 3.10 and 4.6), with torchvision's v2 transforms.

Each image of a batch gets its own random rotation, translation, crop, flip and
colour jitter, drawn on the CPU from a stream seeded by (run seed, step), so a
run, and a resumed run, sees the same augmented batches, and the model's own
random numbers (dropout, noise) are not disturbed.  The pixels are changed
where the batch is (on the GPU in a GPU run).  Images arrive normalised; they
are taken back to [0, 1] for the transforms (a black border stays black, a
brighter image is a brighter image) and normalised again.

Mixup and cutmix (notes 3.12) blend pairs of examples and their labels: the
labels become rows of class probabilities, which ``classification_loss`` reads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torchvision.transforms import v2

from archzoo.data.types import DataInfo
from archzoo.errors import DataError
from archzoo.registry.config import TrainConfig

#: Keeps the augmentation stream apart from the run's other seeded streams.
STREAM = 7_919


def augments(tc: TrainConfig) -> bool:
    """Does the run change its training images at all?"""
    return any((tc.augment_rotation, tc.augment_translate, tc.augment_crop_padding, tc.augment_flip, tc.augment_jitter))


def per_image_transform(tc: TrainConfig, image_size: tuple[int, int]) -> v2.Transform | None:
    """The transforms each image gets, in the notes' order; None when none is asked for."""
    steps: list[v2.Transform] = []
    if tc.augment_crop_padding:
        steps.append(v2.RandomCrop(image_size, padding=tc.augment_crop_padding))
    if tc.augment_flip:
        steps.append(v2.RandomHorizontalFlip())
    if tc.augment_rotation or tc.augment_translate:
        translate = (tc.augment_translate, tc.augment_translate) if tc.augment_translate else None
        steps.append(
            v2.RandomAffine(
                degrees=tc.augment_rotation, translate=translate, interpolation=v2.InterpolationMode.BILINEAR
            )
        )
    if tc.augment_jitter:
        steps.append(v2.ColorJitter(brightness=tc.augment_jitter, contrast=tc.augment_jitter))
    return v2.Compose(steps) if steps else None


def blend_transform(tc: TrainConfig, num_classes: int) -> v2.Transform | None:
    """Mixup, cutmix, or one of the two at random for each batch; None for neither."""
    blends = []
    if tc.mixup:
        blends.append(v2.MixUp(alpha=tc.mixup, num_classes=num_classes))
    if tc.cutmix:
        blends.append(v2.CutMix(alpha=tc.cutmix, num_classes=num_classes))
    if not blends:
        return None
    return blends[0] if len(blends) == 1 else v2.RandomChoice(blends)


class BatchAugmenter:
    """Changes the images (and, blending, the labels) of ``(images, labels)`` training batches."""

    def __init__(self, tc: TrainConfig, info: DataInfo) -> None:
        self.seed = tc.seed
        self.images = per_image_transform(tc, tuple(info.input_shape[1:]))
        self.blend = blend_transform(tc, info.num_classes)
        channels = info.input_shape[0]
        self.mean = torch.tensor(info.mean or (0.0,) * channels).view(1, -1, 1, 1)
        self.std = torch.tensor(info.std or (1.0,) * channels).view(1, -1, 1, 1)

    def __call__(self, images: torch.Tensor, labels: torch.Tensor, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        if images.ndim != 4:
            raise DataError(
                f"augmentation and mixup change batches of images shaped (batch, channels, height, width); this "
                f"dataset's batches are shaped {tuple(images.shape)}: turn them off for it"
            )
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed * STREAM + step)
            if self.images is not None:
                mean, std = self.mean.to(images.device), self.std.to(images.device)
                pixels = images * std + mean  # back to [0, 1]
                pixels = torch.stack([self.images(image) for image in pixels])  # its own draw for each image
                images = (pixels - mean) / std
            if self.blend is not None:
                images, labels = self.blend(images, labels)
        return images, labels


def augmenting(train_step: Callable, augmenter: BatchAugmenter) -> Callable:
    """``train_step`` given augmented copies of its ``(images, labels)`` batches."""

    def step(model: Any, batch: Any, ctx: Any) -> dict[str, Any]:
        images, labels, *rest = batch
        images, labels = augmenter(images, labels, ctx.global_step)
        return train_step(model, (images, labels, *rest), ctx)

    return step
