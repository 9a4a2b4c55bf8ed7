"""The Vision Transformer, as in the lecture notes.

Recipe, for an image of C x H x W and patches of P x P:

1. Patch embedding: a Conv2d(C, dim, kernel P, stride P) cuts the image into
   (H/P) x (W/P) patches and maps each to a vector of ``dim`` (the same as
   flattening each patch and applying one Linear).
2. A learned [CLS] token is put in front of the patch sequence.
3. Learned position embeddings, one per position (patches + [CLS]), are added.
4. ``depth`` pre-norm encoder blocks:
   x = x + MultiHeadAttention(LayerNorm(x)), then x = x + MLP(LayerNorm(x)),
   the MLP being Linear(dim, mlp_dim) - GELU - Linear(mlp_dim, dim).
5. A final LayerNorm, then Linear(dim, classes) on the [CLS] position.

P must divide H and W: a patch grid that does not tile the image would drop
its border (or fail), so ``build_model`` refuses it and lists the sizes that
work.  On 28x28 images the notes' 8x8 patches do not fit (28 = 3*8 + 4); 7x7
patches give the same 4x4 grid of 16 patches (``vit-patch7-fashion``).

Only ``build_model`` lives here: training step, evaluation and sampling are
archzoo's standard classification ones.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from archzoo import ConfigError, hookimpl


class EncoderBlock(nn.Module):
    """Pre-norm: x + Attention(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, dim: int, heads: int, mlp_dim: int, dropout: float = 0.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attention = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(
            nn.Linear(dim, mlp_dim),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(mlp_dim, dim),
            nn.Dropout(dropout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm1(x)
        x = x + self.attention(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.norm2(x))


class ViT(nn.Module):
    def __init__(
        self,
        input_shape: tuple[int, int, int],
        num_classes: int,
        patch_size: int = 2,
        dim: int = 64,
        depth: int = 2,
        heads: int = 4,
        mlp_dim: int = 128,
        dropout: float = 0.0,
    ):
        super().__init__()
        channels, height, width = input_shape
        num_patches = (height // patch_size) * (width // patch_size)
        self.patch_embedding = nn.Conv2d(channels, dim, kernel_size=patch_size, stride=patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.positions = nn.Parameter(torch.zeros(1, num_patches + 1, dim))
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        nn.init.trunc_normal_(self.positions, std=0.02)
        self.dropout = nn.Dropout(dropout)
        self.blocks = nn.Sequential(*(EncoderBlock(dim, heads, mlp_dim, dropout) for _ in range(depth)))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        patches = self.patch_embedding(images).flatten(2).transpose(1, 2)  # (B, dim, H/P, W/P) -> (B, N, dim)
        cls = self.cls_token.expand(len(images), -1, -1)
        x = self.dropout(torch.cat([cls, patches], dim=1) + self.positions)  # (B, N + 1, dim)
        x = self.norm(self.blocks(x))
        return self.head(x[:, 0])  # classify from [CLS]


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


@hookimpl
def build_model(spec, config):
    shape = tuple(config.input_shape)
    if len(shape) != 3:
        raise ConfigError("input_shape", shape, "images shaped (channels, height, width)", owner=spec.name)
    _, height, width = shape
    p = config.patch_size
    if height % p or width % p:
        fits = [d for d in divisors(height) if width % d == 0]
        raise ConfigError(
            "patch_size",
            p,
            f"a size that tiles the {height}x{width} images exactly, one of {', '.join(map(str, fits))} "
            f"({p}x{p} patches would leave {height % p} rows and {width % p} columns over)",
            owner=spec.name,
        )
    if config.dim % config.heads:
        raise ConfigError(
            "heads",
            config.heads,
            f"a divisor of dim = {config.dim} (each head gets dim / heads channels)",
            owner=spec.name,
        )
    return ViT(shape, config.num_classes, p, config.dim, config.depth, config.heads, config.mlp_dim, config.dropout)
