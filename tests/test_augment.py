"""Image augmentation, mixup and cutmix of training batches (notes 3.10, 3.12, 4.6):
seeded per (seed, step), drawn per image, on real digits and Fashion-MNIST-like data."""

from __future__ import annotations

import pytest
import torch

from archzoo.api import train
from archzoo.data.loading import load_dataset
from archzoo.errors import ConfigError
from archzoo.registry.config import TrainConfig
from archzoo.registry.plans import plan_run
from archzoo.training.augment import BatchAugmenter

DIGITS = load_dataset("digits")


def batch(n=16):
    images, labels = DIGITS.train.tensors
    return images[:n].clone(), labels[:n].clone()


def augmenter(**settings):
    return BatchAugmenter(TrainConfig(**settings), DIGITS.info)


def test_the_same_seed_and_step_give_the_same_batch_and_another_seed_another():
    images, labels = batch()
    settings = {"augment_rotation": 15.0, "augment_translate": 0.1, "augment_flip": True, "augment_jitter": 0.2}
    first, _ = augmenter(seed=0, **settings)(images, labels, step=5)
    again, _ = augmenter(seed=0, **settings)(images, labels, step=5)
    other_seed, _ = augmenter(seed=1, **settings)(images, labels, step=5)
    next_step, _ = augmenter(seed=0, **settings)(images, labels, step=6)
    assert torch.equal(first, again)
    assert not torch.equal(first, other_seed) and not torch.equal(first, next_step)
    assert not torch.equal(first, images) and torch.equal(images, batch()[0])  # the loader's batch is left alone


def test_each_image_gets_its_own_draw():
    images, labels = batch(1)
    twins = images.repeat(8, 1, 1, 1)
    out, _ = augmenter(augment_rotation=30.0)(twins, labels.repeat(8), step=0)
    assert len({tuple(image.flatten().tolist()) for image in out}) == 8


def test_the_randomness_of_training_is_not_disturbed():
    images, labels = batch()
    torch.manual_seed(3)
    expected = torch.rand(3)
    torch.manual_seed(3)
    augmenter(augment_rotation=10.0, mixup=0.2)(images, labels, step=0)
    assert torch.equal(torch.rand(3), expected)


def test_transforms_work_on_pixels_not_on_normalised_values():
    """A rotation's empty corners are black (0 in [0, 1]) once normalised back, not the mean."""
    images, labels = batch(4)
    info = DIGITS.info
    mean, std = torch.tensor(info.mean).view(1, -1, 1, 1), torch.tensor(info.std).view(1, -1, 1, 1)
    out, _ = augmenter(augment_rotation=45.0)(images, labels, step=1)
    pixels = out * std + mean
    assert pixels.min() >= -1e-5 and pixels.max() <= 1 + 1e-5
    assert torch.allclose(pixels[..., 0, 0], torch.zeros(4), atol=1e-5)  # a corner rotated in from outside


def test_a_flip_mirrors_whole_images_and_a_padded_crop_shifts_them():
    images, labels = batch(32)
    flipped, _ = augmenter(augment_flip=True)(images, labels, step=0)
    mirrored = [torch.equal(f, torch.flip(i, dims=[-1])) for f, i in zip(flipped, images)]
    unchanged = [torch.equal(f, i) for f, i in zip(flipped, images)]
    assert all(m or u for m, u in zip(mirrored, unchanged)) and any(mirrored) and any(unchanged)
    cropped, _ = augmenter(augment_crop_padding=2)(images, labels, step=0)
    assert cropped.shape == images.shape and not torch.equal(cropped, images)


def test_mixup_blends_each_image_with_its_neighbour_by_the_weight_its_label_carries():
    images, labels = batch(8)
    labels = torch.arange(8)  # all different: each row's weight on its own class is lambda
    mixed, soft = augmenter(mixup=0.4)(images, labels, step=2)
    assert soft.shape == (8, DIGITS.info.num_classes)
    torch.testing.assert_close(soft.sum(dim=1), torch.ones(8))
    lam = soft[0, 0].item()
    assert 0 < lam < 1
    torch.testing.assert_close(mixed, lam * images + (1 - lam) * images.roll(1, dims=0))


def test_cutmix_takes_every_pixel_from_the_image_or_its_neighbour():
    images, labels = batch(8)
    cut, soft = augmenter(cutmix=1.0)(images, labels, step=4)
    from_own, from_other = cut == images, cut == images.roll(1, dims=0)
    assert torch.all(from_own | from_other)
    own_share = from_own[0].float().mean().item()  # the label weight is the image's share of pixels
    assert soft[0, labels[0]].item() == pytest.approx(own_share, abs=0.15)


def test_a_cnn_trains_with_augmentation_and_mixup_reproducibly(store):
    settings = {
        "epochs": "1",
        "batch_size": "128",
        "augment_rotation": "10",
        "augment_translate": "0.1",
        "mixup": "0.2",
        "label_smoothing": "0.1",
    }
    first = train("cnn", dataset="digits", overrides=settings, out="a")
    second = train("cnn", dataset="digits", overrides=settings, out="b")
    plain = train("cnn", dataset="digits", overrides={"epochs": "1", "batch_size": "128"}, out="c")
    assert first.status == "finished" and first.step_losses == second.step_losses
    assert first.step_losses != plain.step_losses


def test_augmenting_what_is_not_an_image_is_refused_by_name():
    with pytest.raises(
        ConfigError, match="augment_rotation.*read only for images, and 'moons' holds points \\(rows of numbers\\)"
    ):
        plan_run("mlp", dataset="moons", overrides={"augment_rotation": "10"})
    with pytest.raises(ConfigError, match="mixup.*'sst2' holds texts"):
        plan_run("rnn", dataset="sst2", overrides={"mixup": "0.2"})
    with pytest.raises(ConfigError, match="mixup.*dcgan on 'fashion-mnist' is image-generation"):
        plan_run("dcgan", dataset="fashion-mnist", overrides={"mixup": "0.2"})
    plan_run("dcgan", dataset="fashion-mnist", overrides={"augment_flip": "true"})  # a generator may augment
