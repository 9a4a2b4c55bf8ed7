"""Building blocks the notes' networks share: activations, normalisation, initialisation,
and the Transformer's sinusoidal positions.

One table of the notes' activations (1.1.2, and SiLU and Mish beside them)
and one ``initialise`` for the notes' schemes (1.5), so every plugin that
offers ``activation`` or ``init`` offers the same names with the same meaning.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn

#: The nonlinearities a config may name; leaky ReLU with the notes' slope of 0.01.
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "silu": nn.SiLU,
    "mish": nn.Mish,
}

#: Weight initialisations a config may name (notes 1.5): PyTorch's own, Xavier/Glorot
#: uniform, He/Kaiming normal, and N(0, 0.02^2).
INITS = ("default", "xavier", "he", "normal")


def activation(name: str) -> nn.Module:
    """A fresh module for the activation ``name`` (a key of :data:`ACTIVATIONS`)."""
    return ACTIVATIONS[name]()


def norm_1d(kind: str, width: int) -> list[nn.Module]:
    """The normalisation after a hidden Linear: BatchNorm1d, LayerNorm, or nothing."""
    if kind == "batch":
        return [nn.BatchNorm1d(width)]
    if kind == "layer":
        return [nn.LayerNorm(width)]
    return []


def initialise(model: nn.Module, scheme: str, nonlinearity: str = "relu") -> nn.Module:
    """Re-draw the weights of every Linear and Conv layer by ``scheme``; biases start at 0.

    ``xavier``: U(-a, a) with a = sqrt(6 / (n_in + n_out)), for symmetric activations;
    ``he``: N(0, 2 / n_in), for ReLU-like ones (the gain follows ``nonlinearity``);
    ``normal``: N(0, 0.02^2); ``default`` leaves PyTorch's initialisation alone.
    Normalisation layers keep their ones and zeros."""
    if scheme == "default":
        return model
    if scheme not in INITS:
        raise ValueError(f"unknown initialisation {scheme!r}; choose one of {', '.join(INITS)}")
    for module in model.modules():
        if not isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)):
            continue
        if scheme == "xavier":
            nn.init.xavier_uniform_(module.weight)
        elif scheme == "he":
            nn.init.kaiming_normal_(module.weight, **_kaiming_gain(nonlinearity))
        else:
            nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    return model


def _kaiming_gain(nonlinearity: str) -> dict:
    """torch's Kaiming arguments for an activation: ReLU's gain sqrt(2) for the ReLU family,
    leaky ReLU's for its slope, and 1 (linear) for the saturating ones."""
    if nonlinearity == "leaky_relu":
        return {"a": 0.01, "nonlinearity": "leaky_relu"}
    if nonlinearity in ("tanh", "sigmoid"):
        return {"nonlinearity": nonlinearity}
    return {"nonlinearity": "relu"}


def sinusoidal_positions(length: int, d_model: int, device: torch.device | None = None) -> torch.Tensor:
    """The Transformer's positions (notes 7.2), shape (length, d):
    PE[pos, 2i] = sin(pos / 10000^(2i/d)), PE[pos, 2i+1] = cos(pos / 10000^(2i/d))."""
    position = torch.arange(length, dtype=torch.float32, device=device)[:, None]
    frequency = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32, device=device) * (-math.log(1e4) / d_model))
    table = torch.zeros(length, d_model, device=device)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency)[:, : d_model // 2]
    return table
