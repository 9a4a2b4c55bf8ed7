"""Catalogue card for the denoising diffusion model (DDPM, with DDIM sampling).

The lecture notes' diffusion model: a SimpleUNet (sinusoidal time embedding of
size 128; residual blocks GroupNorm -> SiLU -> Conv with the time embedding
added in; 32/64/128 channels at 28x28, 14x14 and 7x7) trained to predict the
noise added to an image at a random step t of T = 1000, with the linear
schedule beta 1e-4 .. 0.02 or the cosine schedule (s = 0.008); MSE loss,
Adam 2e-4, batch 128.  ``sample`` runs DDPM's ancestral sampler (all T steps)
or DDIM (eta = 0) with any number of steps, from a seed.

On a 2-D dataset (``spirals``) the same diffusion runs with a small MLP
denoiser instead of the U-Net: the notes' spiral toy, preset ``ddpm-spirals``.

``ema_decay`` adds what Ho et al. sample from and the notes leave out: an
exponential moving average of the weights (preset ``ddpm-fashion-ema``).

``label_dropout`` makes it class-conditional for the notes' classifier-free
guidance (10.7): a class embedding joins the time embedding, and that share of
the training labels is replaced by a "null" class, so one network learns both
eps(x_t, t, c) and eps(x_t, t, null); ``sample`` then takes a class and a
guidance weight w (preset ``ddpm-fashion-guided``).  Off (0) by default: the
notes' unconditional DDPM, unchanged.

No torch here: this module runs whenever archzoo lists what is installed.
The networks, the step, the evaluation and both samplers are in
:mod:`archzoo.plugins.ddpm.model`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from archzoo import ArchSpec, hookimpl, param


@dataclass
class DDPMConfig:
    """The notes' SimpleUNet and schedule by default."""

    channels: tuple[int, ...] = param(
        (32, 64, 128),
        "U-Net widths, one per resolution (28, 14, 7 for Fashion-MNIST); each a multiple of groups",
        min=8,
        max=4096,
        applies_to=("images",),
    )
    time_dim: int = param(128, "size of the sinusoidal time embedding (even)", min=2, max=4096)
    groups: int = param(8, "U-Net: GroupNorm groups in the residual blocks", min=1, max=256, applies_to=("images",))
    timesteps: int = param(1000, "diffusion steps T", min=2, max=10000)
    noise_schedule: Literal["linear", "cosine"] = param(
        "linear", "beta schedule: linear from beta_start to beta_end, or Nichol & Dhariwal's cosine"
    )
    beta_start: float = param(1e-4, "linear schedule: beta_1", min=1e-8, max=0.5)
    beta_end: float = param(0.02, "linear schedule: beta_T", min=1e-8, max=0.999)
    cosine_s: float = param(0.008, "cosine schedule: the offset s", min=0.0, max=1.0)
    ema_decay: float = param(
        0.0,
        "keep an exponential moving average of the weights with this decay and sample and evaluate with it (0: off; "
        "Ho et al. use 0.9999)",
        min=0.0,
        max=0.99999,
    )
    label_dropout: float = param(
        0.0,
        "class-conditional with classifier-free guidance: the share of training labels replaced by the null class "
        "(0: unconditional, the notes' DDPM; Ho & Salimans use 0.1 to 0.2)",
        min=0.0,
        max=0.9,
    )
    num_classes: int = param(
        10, "classes a conditional model draws (filled from the dataset)", from_data="num_classes", min=1
    )
    toy_hidden: int = param(
        128, "2-D data: width of the MLP denoiser's three hidden layers", min=1, max=65536, applies_to=("points",)
    )
    toy_fourier: int = param(
        64,
        "2-D data: Gaussian Fourier features of the coordinates fed to the MLP (0: the raw coordinates only)",
        min=0,
        max=4096,
        applies_to=("points",),
    )
    toy_fourier_scale: float = param(
        4.0,
        "2-D data: standard deviation of the Fourier features' frequencies",
        min=0.0,
        max=1000.0,
        applies_to=("points",),
    )
    input_shape: tuple[int, ...] = param(
        (1, 28, 28),
        "shape of one example: C x H x W images, or (2,) points (filled from the dataset)",
        from_data="input_shape",
        min=1,
    )

    @property
    def class_conditional(self) -> bool:
        """Read by archzoo's front ends: whether a class to draw (``--class``) means something here."""
        return self.label_dropout > 0

    @property
    def guidable(self) -> bool:
        """Whether a guidance weight (``--guidance``) does: only with the null class learned, by label dropout."""
        return self.label_dropout > 0


#: On Fashion-MNIST: the time MLP 128x128+128 twice (33,024); the stem conv
#: 1->32 (320); residual blocks 32->32 (22,752), 32->64 (65,984) and 64->128
#: (246,656) down, 128->128 in the middle (312,192), [128+64]->64 (168,704)
#: and [64+32]->32 (44,416) up; two stride-2 convs (9,248 + 36,928), two
#: convs after upsampling (147,584 + 36,928); output GroupNorm + conv 32->1 (353).
#: With label_dropout > 0 the class embedding adds (K + 1) x time_dim: 11 x 128 = 1,408.
DEFAULT_PARAMETERS = 1_125_089


@hookimpl
def archzoo_register(registry):
    registry.add_architecture(
        ArchSpec(
            name="ddpm",
            task="image-generation",
            summary="Denoising diffusion (the notes' SimpleUNet, T = 1000, linear or cosine betas): DDPM ancestral "
            "and DDIM sampling; classifier-free guidance with label dropout; an MLP denoiser on 2-D points.",
            config=DDPMConfig,
            default_dataset="fashion-mnist",
            citation="Ho, Jain & Abbeel (2020), DDPM; Song, Meng & Ermon (2021), DDIM; Nichol & Dhariwal (2021), "
            "improved DDPM (cosine schedule); Ho & Salimans (2022), classifier-free guidance.",
            parameters=DEFAULT_PARAMETERS,
            implementation="archzoo.plugins.ddpm.model",
            # any image dataset (labels unused), and 2-D point sets such as spirals
            extra_tasks=("image-classification", "tabular-classification"),
        )
    )
