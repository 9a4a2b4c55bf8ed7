"""Catalogue card for the Transformer encoder classifier.

The lecture notes' encoder: token embeddings scaled by sqrt(d), sinusoidal
positions, pre-norm blocks (LayerNorm -> multi-head self-attention, LayerNorm
-> GELU feed-forward, each added back to the residual stream), a final
LayerNorm, the mean over the non-padding tokens, and one Linear to the
classes.  The notes' size (vocabulary 10,000, d 128, 4 heads, d_ff 512, 4
layers) has exactly 2,073,602 parameters; the original post-norm block
(Vaswani et al.) is a config choice.

No torch here: this module runs whenever archzoo lists what is installed.
The network is in :mod:`archzoo.plugins.transformer.model`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from archzoo import ArchSpec, hookimpl, param


@dataclass
class TransformerConfig:
    """The encoder's size and block layout.  The default is a small one (d 64,
    2 blocks) that trains in seconds; the presets hold the notes' size
    (d 128, 4 heads, d_ff 512, 4 blocks)."""

    d_model: int = param(64, "width of the token vectors (the residual stream)", min=1, max=65536)
    heads: int = param(4, "attention heads per block (must divide d_model)", min=1, max=1024)
    d_ff: int = param(128, "hidden width of each block's feed-forward network", min=1, max=262144)
    layers: int = param(2, "encoder blocks", min=1, max=64)
    dropout: float = param(
        0.1, "dropout on the embeddings, attention weights and each residual branch", min=0.0, max=0.95
    )
    norm: Literal["pre", "post"] = param(
        "pre",
        "pre: LayerNorm before each sublayer, plus a final LayerNorm (the notes); post: after each residual sum "
        "(Vaswani et al., 2017)",
    )
    embed_init: Literal["scaled", "normal"] = param(
        "scaled",
        "token embeddings start N(0, 1/d_model), so the sqrt(d_model) factor makes them unit-variance like the "
        "positions (scaled, Vaswani et al.); or N(0, 1), PyTorch's default (normal)",
    )
    vocab_size: int = param(
        1000,
        "token ids the embedding has rows for (filled from the dataset's tokenizer)",
        from_data="vocab_size",
        min=2,
    )
    num_classes: int = param(2, "number of classes (filled from the dataset)", from_data="num_classes", min=2)


def transformer_parameters(
    vocab_size: int,
    d_model: int = 128,
    heads: int = 4,
    d_ff: int = 512,
    layers: int = 4,
    num_classes: int = 2,
    norm: str = "pre",
) -> int:
    """Parameters of the encoder classifier, counted without building it.

    Per block: two LayerNorms (2 x 2d), attention's q/k/v and output
    projections (4d^2 + 4d), the feed-forward pair (2 d d_ff + d_ff + d).
    """
    d = d_model
    block = 2 * 2 * d + (4 * d * d + 4 * d) + (2 * d * d_ff + d_ff + d)
    final_norm = 2 * d if norm == "pre" else 0
    return vocab_size * d + layers * block + final_norm + d * num_classes + num_classes


#: The default on ``sentiment-synthetic`` (vocabulary 1,000, 2 classes): 64,000
#: (embedding) + 2 x 33,472 (blocks) + 128 (final LayerNorm) + 130 (head).
DEFAULT_PARAMETERS = 131_202

#: The notes' size (presets ``transformer-notes`` and ``transformer-synthetic``):
#: 1,280,000 (embedding, vocabulary 10,000) + 4 x 198,272 (blocks) + 256 + 258;
#: at vocabulary 1,000 the embedding is 128,000 and the total 921,602.
NOTES_PARAMETERS = 2_073_602


@hookimpl
def archzoo_register(registry):
    registry.add_architecture(
        ArchSpec(
            name="transformer",
            task="text-classification",
            summary="Transformer encoder classifier (the notes'): scaled embeddings + sinusoidal positions, pre-norm "
            "attention/GELU blocks, final LayerNorm, mean over real tokens, Linear.",
            config=TransformerConfig,
            default_dataset="sentiment-synthetic",
            citation="Vaswani et al. (2017), Attention is all you need. NeurIPS; Xiong et al. (2020), On layer "
            "normalization in the Transformer architecture (pre-norm); lecture notes' encoder classifier.",
            parameters=DEFAULT_PARAMETERS,
            implementation="archzoo.plugins.transformer.model",
        )
    )
