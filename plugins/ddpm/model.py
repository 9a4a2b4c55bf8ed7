"""The denoising diffusion model, as in the lecture notes.

Forward process: x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, eps ~ N(0, I),
where abar_t is the product of (1 - beta_s) up to t, for betas rising linearly
from 1e-4 to 0.02 over T = 1000 steps, or the cosine schedule
abar_t = f(t) / f(0), f(t) = cos^2(pi/2 (t/T + s) / (1 + s)), s = 0.008.

Model: a network eps_theta(x_t, t) that predicts the noise.  For images the
notes' SimpleUNet: the step t as a sinusoidal embedding (128) through a small
MLP; residual blocks GroupNorm -> SiLU -> Conv 3x3, the time embedding
projected and added to every pixel, then GroupNorm -> SiLU -> Conv 3x3, plus
the (1x1-projected) input; 32 channels at 28x28, 64 at 14x14, 128 at 7x7,
a middle block, and the way back up with skip connections.  For 2-D points
an MLP on the point and Fourier features of it, the time embedding added
before each of its three hidden layers.

Step: pick t uniformly, noise the batch, regress the noise (MSE), Adam.

Classifier-free guidance (the notes' 10.7), with ``label_dropout`` p > 0: a
class embedding e(c) joins the time embedding wherever it is added, and each
training label is replaced by a "null" class (index K) with probability p, so
the one network learns eps(x_t, t, c) and eps(x_t, t, null).  Sampling with
guidance weight w uses eq. 10.22,

    eps_hat = (1 + w) eps(x_t, t, c) - w eps(x_t, t, null),

in both samplers; w = 0 is the conditional prediction alone (one pass).

Samplers (``sample``):

- ``sampler=ddpm``: the ancestral sampler of Ho et al. (Algorithm 2), all T
  steps: x_{t-1} = (x_t - beta_t / sqrt(1 - abar_t) eps_theta) / sqrt(alpha_t)
  + sqrt(beta_t) z, with no noise added at the last step;
- ``sampler=ddim`` (default): Song et al.'s DDIM with eta = 0 (deterministic)
  on S evenly spaced steps (``steps``, default 50): predict x_0 from eps_theta,
  then jump to the earlier step along the same noise direction.

Both start from noise drawn with the request's seed on the CPU, so a seed
gives the same images on any machine.  On 2-D data ``sample`` returns the
points (in the data's units) and a scatter plot of them as the image.

Fixes and adaptations to the recipe as written:

- The notes' first residual block normalises the raw image with
  ``GroupNorm(8, 1)``: 8 groups cannot split one channel and PyTorch refuses
  to build it.  A 3x3 stem convolution lifts the image to 32 channels first,
  so every GroupNorm sees a multiple of 8 channels.
- Images are modelled in [-1, 1], the scale the schedule assumes (unit
  variance of x_T); archzoo serves standardised pixels, so they are mapped
  first (:func:`archzoo.toolkit.generative.to_signed`).
- Both samplers clip each predicted x_0 to [-1, 1] (``clip``, on for
  images), as Ho et al.'s and Song et al.'s released code do: the bare
  formulas let one poor noise prediction of a young model throw pixels far
  out of range, and the image ends as salt-and-pepper noise.  With clipping
  off (``request["clip"] = False``) they are exactly the papers' equations.
- No noise is added at the last ancestral step (z = 0 at t = 1 in Algorithm 2),
  so the returned image is the model's mean, not the mean plus fresh noise.
- The cosine schedule's betas are clipped at 0.999, as Nichol & Dhariwal do:
  near t = T the formula gives beta -> 1 and a division by sqrt(1 - 1).
- The 2-D toy's MLP on raw coordinates learns the spirals' thin arms very
  slowly (an MLP's bias towards smooth functions): after 20,000 steps it
  still drew a round blob, its noise error at t = 50 no better than
  predicting zero.  Gaussian Fourier features of the coordinates (Tancik et
  al., 2020; 64 features, scale 4) draw the arms within 5,000 steps.
- The notes sample from the weights as the last step left them.  Ho et al.
  sample from an exponential moving average of them (decay 0.9999): the
  raw weights of a young model jitter from step to step and its samples carry
  that jitter as texture noise.  ``ema_decay > 0`` keeps such an average (a
  frozen copy of the denoiser, saved in the checkpoint) and uses it whenever
  the model is in eval mode, i.e. for evaluation and both samplers.  Its
  decay ramps up as min(decay, (1 + n) / (10 + n)) after n updates, so a
  short run is not averaged into its random initialisation.
- Evaluation draws its steps and noise from a fixed seed, so the validation
  loss that picks the best checkpoint does not move with the random draw.
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from archzoo import ConfigError, hookimpl
from archzoo.toolkit import unwrap
from archzoo.toolkit.conditioning import class_labels, guidance_weight
from archzoo.toolkit.generative import (
    SampleError,
    from_signed,
    images_result,
    parse_request,
    points_result,
    to_signed,
)

DEFAULT_DDIM_STEPS = 50
SAMPLERS = ("ddim", "ddpm")


# -- schedules --------------------------------------------------------------------------


def linear_betas(timesteps: int, start: float = 1e-4, end: float = 0.02) -> torch.Tensor:
    return torch.linspace(start, end, timesteps, dtype=torch.float64)


def cosine_betas(timesteps: int, s: float = 0.008) -> torch.Tensor:
    steps = torch.arange(timesteps + 1, dtype=torch.float64) / timesteps
    f = torch.cos((steps + s) / (1 + s) * math.pi / 2) ** 2
    alpha_bar = f / f[0]
    return (1 - alpha_bar[1:] / alpha_bar[:-1]).clamp(max=0.999)


# -- networks -----------------------------------------------------------------------------


def sinusoidal_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Transformer-style position encoding of the step: sin and cos at geometrically spaced frequencies."""
    half = dim // 2
    frequencies = torch.exp(-math.log(10_000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    angles = t.float()[:, None] * frequencies[None]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


class TimeEmbedding(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        return self.mlp(sinusoidal_embedding(t, self.dim))


class ClassEmbedding(nn.Module):
    """e(c) for the classes 0..K-1 and the null class K (no class: what label dropout
    trains), the size of the time embedding it is added to."""

    def __init__(self, num_classes: int, dim: int) -> None:
        super().__init__()
        self.null = num_classes
        self.table = nn.Embedding(num_classes + 1, dim)

    def forward(self, y: torch.Tensor | None, n: int, device: torch.device) -> torch.Tensor:
        if y is None:
            y = torch.full((n,), self.null, dtype=torch.long, device=device)
        return self.table(y)


def condition(time: torch.Tensor, label: ClassEmbedding | None, y: torch.Tensor | None) -> torch.Tensor:
    """The step's embedding, plus the class's for a conditional denoiser (the null class when y is None)."""
    return time if label is None else time + label(y, len(time), time.device)


class ResidualBlock(nn.Module):
    """GroupNorm -> SiLU -> Conv, + time, GroupNorm -> SiLU -> Conv, + skip."""

    def __init__(self, c_in: int, c_out: int, time_dim: int, groups: int) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.time = nn.Linear(time_dim, c_out)
        self.norm2 = nn.GroupNorm(groups, c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return h + self.skip(x)


class SimpleUNet(nn.Module):
    """eps_theta(x_t, t[, c]) for images: one residual block per resolution down,
    a middle block, one block per resolution up on [upsampled, skip]."""

    def __init__(
        self, image_channels: int, channels: tuple[int, ...], time_dim: int, groups: int, num_classes: int = 0
    ) -> None:
        super().__init__()
        self.time = TimeEmbedding(time_dim)
        self.label = ClassEmbedding(num_classes, time_dim) if num_classes else None
        self.stem = nn.Conv2d(image_channels, channels[0], 3, padding=1)  # the fix for GroupNorm(8, 1)
        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        previous = channels[0]
        for i, width in enumerate(channels):
            self.down.append(ResidualBlock(previous, width, time_dim, groups))
            previous = width
            if i < len(channels) - 1:
                self.downsample.append(nn.Conv2d(width, width, 3, stride=2, padding=1))
        self.middle = ResidualBlock(previous, previous, time_dim, groups)
        self.upsample = nn.ModuleList()
        self.up = nn.ModuleList()
        for width in reversed(channels[:-1]):
            self.upsample.append(nn.Conv2d(previous, previous, 3, padding=1))  # after nearest-neighbour x2
            self.up.append(ResidualBlock(previous + width, width, time_dim, groups))
            previous = width
        self.out = nn.Sequential(
            nn.GroupNorm(groups, previous), nn.SiLU(), nn.Conv2d(previous, image_channels, 3, padding=1)
        )

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        temb = condition(self.time(t), self.label, y)
        h = self.stem(x)
        skips = []
        for i, block in enumerate(self.down):
            h = block(h, temb)
            if i < len(self.downsample):
                skips.append(h)
                h = self.downsample[i](h)
        h = self.middle(h, temb)
        for upsample, block in zip(self.upsample, self.up):
            h = upsample(F.interpolate(h, scale_factor=2.0, mode="nearest"))
            h = block(torch.cat([h, skips.pop()], dim=1), temb)
        return self.out(h)


class PointDenoiser(nn.Module):
    """eps_theta(x_t, t) for 2-D points: an MLP on the point and Gaussian Fourier
    features of it, [x, sin(xB), cos(xB)] with B ~ N(0, scale^2) fixed at build
    time, the time embedding added before every hidden layer."""

    def __init__(
        self, dim: int, hidden: int, time_dim: int, fourier: int = 64, scale: float = 4.0, num_classes: int = 0
    ) -> None:
        super().__init__()
        self.time = TimeEmbedding(time_dim)
        self.label = ClassEmbedding(num_classes, time_dim) if num_classes else None
        self.register_buffer("frequencies", torch.randn(dim, fourier) * scale)  # saved: the features must not change
        self.inp = nn.Linear(dim + 2 * fourier, hidden)
        self.hidden = nn.ModuleList([nn.Linear(hidden, hidden) for _ in range(3)])
        self.time_proj = nn.ModuleList([nn.Linear(time_dim, hidden) for _ in range(3)])
        self.out = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        temb = F.silu(condition(self.time(t), self.label, y))
        angles = x @ self.frequencies
        h = self.inp(torch.cat([x, angles.sin(), angles.cos()], dim=1))
        for layer, time_proj in zip(self.hidden, self.time_proj):
            h = layer(F.silu(h + time_proj(temb)))
        return self.out(F.silu(h))


class Diffusion(nn.Module):
    """The denoiser and its noise schedule.  ``model(x_t, t)`` predicts the noise;
    a conditional one (``num_classes`` > 0) takes the classes too, ``model(x_t, t, y)``,
    and without them predicts for the null class.

    The schedule is rebuilt from the config, not saved: its buffers are not
    persistent, so a checkpoint holds the network's weights only (and, with
    ``ema_decay``, their moving average and its update count)."""

    def __init__(
        self,
        denoiser: nn.Module,
        betas: torch.Tensor,
        data_shape: tuple[int, ...],
        images: bool,
        ema_decay: float = 0.0,
        label_dropout: float = 0.0,
        num_classes: int = 0,
    ) -> None:
        super().__init__()
        self.denoiser = denoiser
        self.num_classes = num_classes  # of a conditional denoiser; its null class is number num_classes
        self.label_dropout = label_dropout
        self.ema_decay = ema_decay
        if ema_decay > 0:
            self.ema = copy.deepcopy(denoiser).requires_grad_(False)
            self.register_buffer("ema_updates", torch.zeros((), dtype=torch.long))
        self.data_shape = tuple(data_shape)
        self.images = images
        self.timesteps = len(betas)
        alphas = 1 - betas
        alpha_bar = torch.cumprod(alphas, dim=0)
        for name, value in (("betas", betas), ("alphas", alphas), ("alpha_bar", alpha_bar)):
            self.register_buffer(name, value.float(), persistent=False)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """The trained weights while training; their average (if kept) in eval mode."""
        inputs = (x_t, t) if y is None else (x_t, t, y)  # an unconditional denoiser takes no classes
        if not self.training and self.ema_decay > 0:
            return self.ema(*inputs)
        return self.denoiser(*inputs)

    @torch.no_grad()
    def update_ema(self) -> None:
        """ema <- decay * ema + (1 - decay) * weights, after each optimizer step."""
        if self.ema_decay <= 0:
            return
        n = int(self.ema_updates)
        decay = min(self.ema_decay, (1 + n) / (10 + n))
        for average, current in zip(self.ema.parameters(), self.denoiser.parameters()):
            average.lerp_(current, 1 - decay)
        for average, current in zip(self.ema.buffers(), self.denoiser.buffers()):
            average.copy_(current)
        self.ema_updates += 1

    def noised(self, x0: torch.Tensor, t: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """q(x_t | x_0) sampled with the given noise."""
        shape = (-1,) + (1,) * (x0.ndim - 1)
        ab = self.alpha_bar[t].view(shape)
        return ab.sqrt() * x0 + (1 - ab).sqrt() * eps


def _data(batch, info, diffusion: Diffusion) -> torch.Tensor:
    """The training examples on the scale the schedule assumes: images in [-1, 1], points standardised."""
    x = batch[0]
    return to_signed(x, info) if diffusion.images else x


def _labels(batch, diffusion: Diffusion, dropout: float = 0.0) -> torch.Tensor | None:
    """A conditional model's classes for the batch, each replaced by the null class with
    probability ``dropout``; None for an unconditional model (which draws nothing here)."""
    if not diffusion.num_classes:
        return None
    y = batch[1].long()
    if dropout > 0:
        y = y.masked_fill(torch.rand(len(y), device=y.device) < dropout, diffusion.num_classes)
    return y


@hookimpl
def build_model(spec, config):
    shape = tuple(config.input_shape)
    if config.time_dim % 2:
        raise ConfigError("time_dim", config.time_dim, "an even number (half sines, half cosines)", owner=spec.name)
    if config.noise_schedule == "linear":
        if config.beta_end <= config.beta_start:
            raise ConfigError("beta_end", config.beta_end, f"above beta_start ({config.beta_start})", owner=spec.name)
        betas = linear_betas(config.timesteps, config.beta_start, config.beta_end)
    else:
        betas = cosine_betas(config.timesteps, config.cosine_s)
    classes = config.num_classes if config.label_dropout > 0 else 0  # label dropout is what makes it conditional
    if len(shape) == 1:
        denoiser = PointDenoiser(
            shape[0], config.toy_hidden, config.time_dim, config.toy_fourier, config.toy_fourier_scale, classes
        )
        return Diffusion(
            denoiser,
            betas,
            shape,
            images=False,
            ema_decay=config.ema_decay,
            label_dropout=config.label_dropout,
            num_classes=classes,
        )
    if len(shape) != 3:
        raise ConfigError("input_shape", shape, "C x H x W images or a vector of coordinates (D,)", owner=spec.name)
    bad = [c for c in config.channels if c % config.groups]
    if bad:
        raise ConfigError(
            "channels", config.channels, f"multiples of groups ({config.groups}); {bad[0]} is not", owner=spec.name
        )
    factor = 2 ** (len(config.channels) - 1)
    if shape[1] % factor or shape[2] % factor:
        raise ConfigError(
            "input_shape",
            shape,
            f"height and width divisible by {factor} for {len(config.channels)} resolutions "
            f"(channels={','.join(map(str, config.channels))})",
            owner=spec.name,
        )
    denoiser = SimpleUNet(shape[0], tuple(config.channels), config.time_dim, config.groups, classes)
    return Diffusion(
        denoiser,
        betas,
        shape,
        images=True,
        ema_decay=config.ema_decay,
        label_dropout=config.label_dropout,
        num_classes=classes,
    )


def noise_losses(
    model: nn.Module, x0: torch.Tensor, t: torch.Tensor, eps: torch.Tensor, y: torch.Tensor | None = None
) -> torch.Tensor:
    """Per-example mean squared error between the true and the predicted noise."""
    predicted = model(unwrap(model).noised(x0, t, eps), t, y)
    return (predicted - eps).pow(2).flatten(1).mean(dim=1)


@hookimpl
def train_step(spec, model, batch, ctx):
    diffusion = unwrap(model)
    x0 = _data(batch, ctx.info, diffusion)
    t = torch.randint(0, diffusion.timesteps, (len(x0),), device=x0.device)
    eps = torch.randn_like(x0)
    loss = noise_losses(model, x0, t, eps, _labels(batch, diffusion, diffusion.label_dropout)).mean()
    ctx.backward(loss)
    ctx.step()
    diffusion.update_ema()
    return {"loss": loss.detach()}


@hookimpl
def evaluate(spec, model, loader, ctx):
    """The noise-prediction MSE, with steps and noise drawn from a fixed seed."""
    diffusion = unwrap(model)
    generator = torch.Generator().manual_seed(0)
    losses = []
    with torch.no_grad():
        for batch in loader:
            x0 = _data(batch, ctx.info, diffusion)
            t = torch.randint(0, diffusion.timesteps, (len(x0),), generator=generator).to(x0.device)
            eps = torch.randn(x0.shape, generator=generator).to(x0.device)
            losses.append(ctx.gather(noise_losses(model, x0, t, eps, _labels(batch, diffusion))))
    if not losses:
        raise ValueError("cannot evaluate on an empty data split")
    return {"loss": torch.cat(losses).mean().item()}


# -- samplers -------------------------------------------------------------------------------


def guided_noise(
    model: nn.Module, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None = None, guidance: float = 0.0
) -> torch.Tensor:
    """The noise prediction a sampler steps with: eps(x_t, t) of an unconditional model, or
    eq. 10.22's (1 + w) eps(x_t, t, c) - w eps(x_t, t, null) for the classes ``labels``
    (w = 0: the conditional prediction alone, in one pass)."""
    if labels is None:
        return model(x, t)
    conditional = model(x, t, labels)
    if guidance == 0:
        return conditional
    return (1 + guidance) * conditional - guidance * model(x, t, None)


@torch.no_grad()
def ddpm_sample(
    model: nn.Module,
    x: torch.Tensor,
    generator: torch.Generator,
    clip: bool = False,
    labels: torch.Tensor | None = None,
    guidance: float = 0.0,
) -> torch.Tensor:
    """Ho et al.'s Algorithm 2 from x_T = ``x``: T denoising steps, sigma_t^2 = beta_t.

    With ``clip`` the mean is computed, as in Ho et al.'s released code, from the
    predicted x_0 clipped to [-1, 1] (the posterior mean of q(x_{t-1} | x_t, x_0));
    without clipping that is exactly Algorithm 2's (x_t - beta_t / sqrt(1 - abar_t) eps) / sqrt(alpha_t).
    ``labels`` and ``guidance``: the classes to draw and the weight w (:func:`guided_noise`)."""
    d = unwrap(model)
    for step in reversed(range(d.timesteps)):
        t = torch.full((len(x),), step, device=x.device, dtype=torch.long)
        eps = guided_noise(model, x, t, labels, guidance)
        beta, alpha, alpha_bar = d.betas[step], d.alphas[step], d.alpha_bar[step]
        if clip:
            alpha_bar_prev = d.alpha_bar[step - 1] if step > 0 else torch.ones((), device=x.device)
            x0 = ((x - (1 - alpha_bar).sqrt() * eps) / alpha_bar.sqrt()).clamp(-1.0, 1.0)
            x = (alpha_bar_prev.sqrt() * beta * x0 + alpha.sqrt() * (1 - alpha_bar_prev) * x) / (1 - alpha_bar)
        else:
            x = (x - beta / (1 - alpha_bar).sqrt() * eps) / alpha.sqrt()
        if step > 0:
            x = x + beta.sqrt() * torch.randn(x.shape, generator=generator).to(x.device)
    return x


def ddim_steps(timesteps: int, steps: int) -> list[int]:
    """``steps`` evenly spaced steps from 0 to T-1, ascending, without repeats."""
    return sorted({int(round(v)) for v in torch.linspace(0, timesteps - 1, steps).tolist()})


@torch.no_grad()
def ddim_sample(
    model: nn.Module,
    x: torch.Tensor,
    steps: int,
    eta: float = 0.0,
    generator: torch.Generator | None = None,
    clip: bool = False,
    trace: list[tuple[int, torch.Tensor]] | None = None,
    labels: torch.Tensor | None = None,
    guidance: float = 0.0,
) -> torch.Tensor:
    """Song et al.'s DDIM from x_T = ``x`` in ``steps`` steps (eta = 0: deterministic).
    With ``clip`` the predicted x_0 is clipped to [-1, 1] and the noise direction
    recomputed from it, so that one bad prediction cannot throw the image out of range.
    ``trace``, a list, receives (t, x_t) after every step, from x_T down to x_0 (t = 0).
    ``labels`` and ``guidance``: the classes to draw and the weight w (:func:`guided_noise`)."""
    d = unwrap(model)
    sequence = ddim_steps(d.timesteps, steps)
    if trace is not None:
        trace.append((d.timesteps, x.clone()))
    for i in reversed(range(len(sequence))):
        step = sequence[i]
        t = torch.full((len(x),), step, device=x.device, dtype=torch.long)
        eps = guided_noise(model, x, t, labels, guidance)
        alpha_bar = d.alpha_bar[step]
        alpha_bar_prev = d.alpha_bar[sequence[i - 1]] if i > 0 else torch.ones((), device=x.device)
        x0 = (x - (1 - alpha_bar).sqrt() * eps) / alpha_bar.sqrt()
        if clip:
            x0 = x0.clamp(-1.0, 1.0)
            eps = (x - alpha_bar.sqrt() * x0) / (1 - alpha_bar).sqrt()
        sigma = eta * ((1 - alpha_bar_prev) / (1 - alpha_bar) * (1 - alpha_bar / alpha_bar_prev)).sqrt()
        x = alpha_bar_prev.sqrt() * x0 + (1 - alpha_bar_prev - sigma**2).clamp(min=0).sqrt() * eps
        if eta > 0 and i > 0:
            x = x + sigma * torch.randn(x.shape, generator=generator).to(x.device)
        if trace is not None:
            trace.append((sequence[i - 1] if i > 0 else 0, x.clone()))
    return x


@hookimpl
def sample(spec, model, request, ctx):
    """``n`` samples from seeded noise.  ``sampler``: ddim (default; ``steps``
    from 1 to T, 0 for 50) or ddpm (all T steps; ``steps`` 0 or T).
    ``eta`` (DDIM only, default 0) adds DDPM-like noise between 0 and 1.
    ``clip`` (default: on for images) clips each predicted x_0 to [-1, 1].
    A model trained with label dropout draws ``class`` (every class in turn without
    one), guided with weight ``guidance`` (eq. 10.22; default 0, the conditional model)."""
    d = unwrap(model)
    draw = parse_request(
        request,
        modes=spec.sample_modes or ("sample",),
        image_shape=d.data_shape,
        max_steps=d.timesteps,
        owner=spec.name,
    )
    sampler = str(request.get("sampler") or "ddim")
    if sampler not in SAMPLERS:
        raise SampleError(f"{spec.name}: unknown sampler {sampler!r}; choose {' or '.join(SAMPLERS)}")
    try:
        eta = float(request.get("eta", 0.0))
    except (TypeError, ValueError):
        raise SampleError(f"{spec.name}: eta must be a number between 0 and 1, not {request.get('eta')!r}") from None
    if not 0.0 <= eta <= 1.0:
        raise SampleError(f"{spec.name}: eta must be between 0 and 1, not {eta}")
    if sampler == "ddpm" and draw.steps not in (0, d.timesteps):
        raise SampleError(
            f"{spec.name}: the ancestral DDPM sampler takes all T = {d.timesteps} steps, not {draw.steps}; "
            f"for fewer steps use sampler ddim"
        )
    clip = bool(request.get("clip", d.images))  # images live in [-1, 1]; points have no such bound
    labels, guidance, names = _condition(spec, d, request, draw.n, ctx.info)
    device = next(d.parameters()).device
    generator = draw.generator()
    x = torch.randn((draw.n, *d.data_shape), generator=generator).to(device)
    if labels is not None:
        labels = labels.to(device)
    if sampler == "ddpm":
        steps = d.timesteps
        x = ddpm_sample(model, x, generator, clip, labels, guidance)
    else:
        steps = draw.steps or min(DEFAULT_DDIM_STEPS, d.timesteps)
        x = ddim_sample(model, x, steps, eta, generator, clip, labels=labels, guidance=guidance)
    extra = {"sampler": sampler, "steps": steps, "clip": clip}
    if labels is not None:
        extra.update(classes=[names[i] for i in labels.tolist()], guidance=guidance)
    if d.images:
        return images_result(from_signed(x), draw, **extra)
    return points_result(x, draw, ctx.info, **extra)  # 2-D points in the data's units, and their scatter plot


def _condition(spec, d: Diffusion, request, n: int, info) -> tuple[torch.Tensor | None, float, tuple[str, ...]]:
    """(the class of each image, the guidance weight, the class names) a request asks for;
    an unconditional model refuses a class or a guidance weight, naming label dropout."""
    guidance = guidance_weight(request, owner=spec.name)
    if not d.num_classes:
        if guidance:
            raise SampleError(
                f"{spec.name}: classifier-free guidance needs a DDPM trained with label dropout (label_dropout > 0, "
                "e.g. preset ddpm-fashion-guided); this one was trained without it, unconditionally"
            )
        if request.get("class") not in (None, ""):
            raise SampleError(
                f"{spec.name}: this DDPM was trained without labels (label_dropout 0) and draws no class; train one "
                "with label dropout (label_dropout > 0, e.g. preset ddpm-fashion-guided) to choose the class"
            )
        return None, 0.0, ()
    names = tuple(info.class_names)[: d.num_classes] or tuple(str(i) for i in range(d.num_classes))
    return class_labels(request, n, names, owner=spec.name), guidance, names


#: Frames of the reverse diffusion the ``diffusion`` view shows, from x_T to x_0.
FRAMES = 8


@hookimpl
def archzoo_views(spec, model, ctx):
    """The ``diffusion`` view: DDIM's reverse process (the default 50 steps, seeded) from
    noise at t = T to samples at t = 0, in :data:`FRAMES` frames: points in the data's units,
    or images."""
    d = unwrap(model)

    def frames(request):
        n = request.count or (500 if not d.images else 8)
        generator = torch.Generator().manual_seed(request.seed)
        x = torch.randn((n, *d.data_shape), generator=generator).to(next(d.parameters()).device)
        trace = []
        ddim_sample(model, x, min(DEFAULT_DDIM_STEPS, d.timesteps), 0.0, generator, d.images, trace)
        picked = sorted({round(i * (len(trace) - 1) / (FRAMES - 1)) for i in range(FRAMES)})
        shown = []
        for i in picked:
            state = trace[i][1].cpu()
            if d.images:
                shown.append(from_signed(state))
            elif ctx.info.mean:
                shown.append(state * torch.tensor(ctx.info.std) + torch.tensor(ctx.info.mean))
            else:
                shown.append(state)
        return {
            "frames": shown,
            "titles": [f"t = {trace[i][0]}" for i in picked],
            "sampler": "ddim",
            "steps": len(trace) - 1,
            "seed": request.seed,
        }

    return {"diffusion": frames}
