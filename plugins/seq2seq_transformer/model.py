"""The encoder-decoder Transformer of the lecture notes' 7.4 (figure 7.1).

Recipe, pre-norm (``norm="post"``: ``x = LayerNorm(x + sublayer(x))`` instead, eq. 7.9)::

    x = E_src(source) * sqrt(d) + PE                     # sinusoidal positions (7.3)
    encoder block:  x = x + SelfAttention(LN(x))          # padding masked out of the keys
                    x = x + FFN(LN(x))                    # FFN(x) = ReLU(x W_1 + b_1) W_2 + b_2 (eq. 7.8)
    memory = LN(x)
    y = E_tgt(target) * sqrt(d) + PE
    decoder block:  y = y + MaskedSelfAttention(LN(y))    # position t sees positions <= t
                    y = y + CrossAttention(LN(y), memory) # queries: decoder; keys, values: encoder
                    y = y + FFN(LN(y))
    logits = W_o LN(y)

``greedy`` encodes the source once and runs the decoder on its growing output, one
token more each time; the causal mask makes each row of the last pass's
cross-attention the one that chose that token.  The training step, evaluation and
sampling are archzoo's ``sequence-to-sequence`` defaults (:mod:`archzoo.toolkit.sequences`).
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn

from archzoo import ConfigError, hookimpl
from archzoo.toolkit import PAD_ID, sinusoidal_positions
from archzoo.toolkit.sequences import BOS_ID


class Residual(nn.Module):
    """One sublayer in its residual branch, with Add & Norm before (pre) or after (post)."""

    def __init__(self, d_model: int, dropout: float, pre_norm: bool) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)
        self.pre_norm = pre_norm

    def forward(self, x: torch.Tensor, sublayer) -> torch.Tensor:
        if self.pre_norm:
            return x + self.dropout(sublayer(self.norm(x)))
        return self.norm(x + self.dropout(sublayer(x)))


def feed_forward(d_model: int, d_ff: int) -> nn.Sequential:
    """FFN(x) = ReLU(x W_1 + b_1) W_2 + b_2 (eq. 7.8)."""
    return nn.Sequential(nn.Linear(d_model, d_ff), nn.ReLU(), nn.Linear(d_ff, d_model))


class EncoderBlock(nn.Module):
    def __init__(self, d_model: int, heads: int, d_ff: int, dropout: float, pre_norm: bool) -> None:
        super().__init__()
        self.self_attention = nn.MultiheadAttention(d_model, heads, dropout=dropout, batch_first=True)
        self.feed_forward = feed_forward(d_model, d_ff)
        self.attend, self.transform = (Residual(d_model, dropout, pre_norm) for _ in range(2))

    def forward(self, x: torch.Tensor, padding: torch.Tensor) -> torch.Tensor:
        x = self.attend(x, lambda h: self.self_attention(h, h, h, key_padding_mask=padding, need_weights=False)[0])
        return self.transform(x, self.feed_forward)


class DecoderBlock(nn.Module):
    """Masked self-attention, cross-attention to the encoder's output, feed-forward; each with Add & Norm."""

    def __init__(self, d_model: int, heads: int, d_ff: int, dropout: float, pre_norm: bool) -> None:
        super().__init__()
        self.self_attention = nn.MultiheadAttention(d_model, heads, dropout=dropout, batch_first=True)
        self.cross_attention = nn.MultiheadAttention(d_model, heads, dropout=dropout, batch_first=True)
        self.feed_forward = feed_forward(d_model, d_ff)
        self.attend, self.cross, self.transform = (Residual(d_model, dropout, pre_norm) for _ in range(3))

    def forward(self, y, memory, causal, source_padding) -> tuple[torch.Tensor, torch.Tensor]:
        """(the new y, the cross-attention weights (B, heads, T, S))."""
        y = self.attend(y, lambda h: self.self_attention(h, h, h, attn_mask=causal, need_weights=False)[0])
        weights = []

        def cross(h: torch.Tensor) -> torch.Tensor:
            out, w = self.cross_attention(
                h, memory, memory, key_padding_mask=source_padding, need_weights=True, average_attn_weights=False
            )
            weights.append(w)
            return out

        y = self.cross(y, cross)
        return self.transform(y, self.feed_forward), weights[0]


class Seq2SeqTransformer(nn.Module):
    """Source ids (B, S) and decoder inputs (B, T) -> next-token logits (B, T, V)."""

    def __init__(
        self,
        vocab_size: int,
        *,
        d_model: int = 64,
        heads: int = 4,
        d_ff: int = 128,
        layers: int = 2,
        dropout: float = 0.0,
        norm: str = "pre",
    ) -> None:
        super().__init__()
        self.d_model = d_model
        pre_norm = norm == "pre"
        self.source_embedding = nn.Embedding(vocab_size, d_model, padding_idx=PAD_ID)
        self.target_embedding = nn.Embedding(vocab_size, d_model, padding_idx=PAD_ID)
        for embedding in (self.source_embedding, self.target_embedding):  # N(0, 1/d): unit variance once scaled
            nn.init.normal_(embedding.weight, std=d_model**-0.5)
            with torch.no_grad():
                embedding.weight[PAD_ID].zero_()
        self.dropout = nn.Dropout(dropout)
        self.encoder = nn.ModuleList(EncoderBlock(d_model, heads, d_ff, dropout, pre_norm) for _ in range(layers))
        self.decoder = nn.ModuleList(DecoderBlock(d_model, heads, d_ff, dropout, pre_norm) for _ in range(layers))
        self.encoder_norm = nn.LayerNorm(d_model) if pre_norm else nn.Identity()
        self.decoder_norm = nn.LayerNorm(d_model) if pre_norm else nn.Identity()
        self.out = nn.Linear(d_model, vocab_size)

    def embed(self, embedding: nn.Embedding, ids: torch.Tensor) -> torch.Tensor:
        positions = sinusoidal_positions(ids.shape[1], self.d_model, ids.device)
        return self.dropout(embedding(ids) * math.sqrt(self.d_model) + positions)

    def encode(self, sources: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        padding = sources.eq(PAD_ID)
        x = self.embed(self.source_embedding, sources)
        for block in self.encoder:
            x = block(x, padding)
        return self.encoder_norm(x), padding

    def decode(self, inputs, memory, source_padding) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """(logits (B, T, V), each decoder block's cross-attention (B, heads, T, S))."""
        T = inputs.shape[1]
        causal = torch.ones(T, T, dtype=torch.bool, device=inputs.device).triu(1)  # True: may not look
        y = self.embed(self.target_embedding, inputs)
        maps = {}
        for n, block in enumerate(self.decoder):
            y, maps[f"decoder.{n}.cross_attention"] = block(y, memory, causal, source_padding)
        return self.out(self.decoder_norm(y)), maps

    def forward(self, sources: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: every position at once, the causal mask keeping each from the later ones."""
        memory, padding = self.encode(sources)
        return self.decode(inputs, memory, padding)[0]

    @torch.no_grad()
    def greedy(self, sources: torch.Tensor, steps: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``steps`` tokens, each the most likely after the model's own previous ones, and every
        decoder block's cross-attention over them, ``{name: (B, heads, steps, S)}``."""
        memory, padding = self.encode(sources)
        ids = torch.full((len(sources), 1), BOS_ID, dtype=torch.int64, device=sources.device)
        maps: dict[str, torch.Tensor] = {}
        for _ in range(steps):
            logits, maps = self.decode(ids, memory, padding)
            ids = torch.cat([ids, logits[:, -1].argmax(dim=-1, keepdim=True)], dim=1)
        return ids[:, 1:], maps  # the last pass read <s> and every token but the last: one row per token


@hookimpl
def build_model(spec, config):
    if config.d_model % config.heads:
        raise ConfigError("heads", config.heads, f"a divisor of d_model ({config.d_model})", owner=spec.name)
    return Seq2SeqTransformer(
        config.vocab_size,
        d_model=config.d_model,
        heads=config.heads,
        d_ff=config.d_ff,
        layers=config.layers,
        dropout=config.dropout,
        norm=config.norm,
    )
