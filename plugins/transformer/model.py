"""The Transformer encoder classifier, as in the lecture notes.

Recipe: ``x = Embedding(ids) * sqrt(d) + PE`` (sinusoidal positions, no
parameters), dropout, then ``layers`` pre-norm blocks::

    x = x + Dropout(MultiHeadAttention(LayerNorm(x)))   # padding masked out of the keys
    x = x + Dropout(FF(LayerNorm(x)))                   # FF = Linear(d, d_ff) -> GELU -> Dropout -> Linear(d_ff, d)

a final LayerNorm, the mean of the token vectors over the real (non-padding)
tokens, and ``Linear(d, classes)``.  The notes' size: vocabulary 10,000,
d 128, 4 heads, d_ff 512, 4 layers: 2,073,602 parameters.

The sqrt(d) factor presumes embeddings that start small: Vaswani et al. share
them with the output layer, initialised N(0, 1/d), so that scaled they have
unit variance, like the sinusoids.  PyTorch's ``nn.Embedding`` starts at
N(0, 1); scaled by sqrt(128) its vectors are 11 times larger than the
positions, and on the synthetic sentiment task the model then overfits
early (validation accuracy about 0.81 instead of 0.86; see docs/errata.md).
So embeddings start at N(0, 1/d) (``embed_init="scaled"``); ``"normal"``
keeps PyTorch's default for comparison.

``norm="post"`` gives the original block of Vaswani et al.:
``x = LayerNorm(x + Dropout(sublayer(x)))``, without the final LayerNorm
(which a post-norm stack already ends in): 256 parameters fewer.

Only ``build_model`` lives here: the training step, evaluation and sampling
are archzoo's standard classification hooks (a batch is ``(ids, labels)``,
padded with token 0); ``sample`` also takes ``{"texts": [...]}``, read with the
tokenizer saved in the checkpoint.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn

from archzoo import ConfigError, hookimpl
from archzoo.toolkit import PAD_ID, sinusoidal_positions


class EncoderBlock(nn.Module):
    """Self-attention and a GELU feed-forward network, each in a residual branch."""

    def __init__(self, d_model: int, heads: int, d_ff: int, dropout: float, norm: str = "pre") -> None:
        super().__init__()
        self.pre_norm = norm == "pre"
        self.norm1 = nn.LayerNorm(d_model)
        self.attention = nn.MultiheadAttention(d_model, heads, dropout=dropout, batch_first=True)
        self.norm2 = nn.LayerNorm(d_model)
        self.feed_forward = nn.Sequential(
            nn.Linear(d_model, d_ff),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(d_ff, d_model),
        )
        self.dropout = nn.Dropout(dropout)

    def attend(self, x: torch.Tensor, padding: torch.Tensor) -> torch.Tensor:
        out, _ = self.attention(x, x, x, key_padding_mask=padding, need_weights=False)
        return self.dropout(out)

    def forward(self, x: torch.Tensor, padding: torch.Tensor) -> torch.Tensor:
        if self.pre_norm:
            x = x + self.attend(self.norm1(x), padding)
            return x + self.dropout(self.feed_forward(self.norm2(x)))
        x = self.norm1(x + self.attend(x, padding))
        return self.norm2(x + self.dropout(self.feed_forward(x)))


class TransformerClassifier(nn.Module):
    """Embed and position the tokens, encode them, average the real ones, classify."""

    def __init__(
        self,
        vocab_size: int,
        num_classes: int = 2,
        *,
        d_model: int = 128,
        heads: int = 4,
        d_ff: int = 512,
        layers: int = 4,
        dropout: float = 0.1,
        norm: str = "pre",
        embed_init: str = "scaled",
    ) -> None:
        super().__init__()
        self.d_model = d_model
        self.embedding = nn.Embedding(vocab_size, d_model, padding_idx=PAD_ID)
        if embed_init == "scaled":
            nn.init.normal_(self.embedding.weight, std=d_model**-0.5)
            with torch.no_grad():
                self.embedding.weight[PAD_ID].zero_()  # the padding vector stays zero, as nn.Embedding makes it
        self.dropout = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(EncoderBlock(d_model, heads, d_ff, dropout, norm) for _ in range(layers))
        self.final_norm = nn.LayerNorm(d_model) if norm == "pre" else nn.Identity()
        self.head = nn.Linear(d_model, num_classes)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        padding = ids.eq(PAD_ID)  # (B, T), True at padding
        positions = sinusoidal_positions(ids.shape[1], self.d_model, ids.device)
        x = self.dropout(self.embedding(ids) * math.sqrt(self.d_model) + positions)
        for block in self.blocks:
            x = block(x, padding)
        x = self.final_norm(x)
        keep = (~padding).unsqueeze(-1).to(x.dtype)  # (B, T, 1)
        pooled = (x * keep).sum(dim=1) / keep.sum(dim=1).clamp(min=1.0)  # mean over real tokens
        return self.head(pooled)  # (B, num_classes) logits


@hookimpl
def build_model(spec, config):
    if config.d_model % config.heads:
        raise ConfigError("heads", config.heads, f"a divisor of d_model ({config.d_model})", owner=spec.name)
    return TransformerClassifier(
        config.vocab_size,
        config.num_classes,
        d_model=config.d_model,
        heads=config.heads,
        d_ff=config.d_ff,
        layers=config.layers,
        dropout=config.dropout,
        norm=config.norm,
        embed_init=config.embed_init,
    )
