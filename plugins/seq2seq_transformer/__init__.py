"""Catalogue card for the encoder-decoder Transformer.

The lecture notes' complete Transformer (7.4, figure 7.1): token embeddings scaled
by sqrt(d_model) plus sinusoidal positions (7.3); an encoder of blocks of
multi-head self-attention and a ReLU feed-forward network (eq. 7.8), each with
Add & Norm; a decoder whose blocks add, between its masked (causal) self-attention
and its feed-forward network, a cross-attention whose queries come from the decoder
and keys and values from the encoder's output (definition 6.6).  Pre-norm by default
(eq. 7.10, with a final LayerNorm on each stack), post-norm (eq. 7.9, the original) as
a choice.  Trained with teacher forcing, decoded greedily (archzoo's
``sequence-to-sequence`` defaults); the attention of a prediction is the last
decoder block's cross-attention.

No torch here: this module runs whenever archzoo lists what is installed.
The network is in :mod:`archzoo.plugins.seq2seq_transformer.model`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from archzoo import ArchSpec, hookimpl, param


@dataclass
class Seq2SeqTransformerConfig:
    """The encoder-decoder's width, heads and depth; the vocabulary comes from the data."""

    d_model: int = param(64, "width of the token vectors (the residual stream)", min=1, max=65536)
    heads: int = param(4, "attention heads per attention layer (must divide d_model)", min=1, max=1024)
    d_ff: int = param(
        128, "hidden width of each block's feed-forward network (notes: typically 4 d_model)", min=1, max=262144
    )
    layers: int = param(2, "blocks in the encoder, and as many in the decoder (N in figure 7.1)", min=1, max=64)
    dropout: float = param(
        0.0, "dropout on the embeddings, attention weights and each residual branch", min=0.0, max=0.95
    )
    norm: Literal["pre", "post"] = param(
        "pre",
        "pre: LayerNorm before each sublayer and at each stack's end (eq. 7.10); post: Add & Norm after each "
        "(eq. 7.9, Vaswani et al.)",
    )
    vocab_size: int = param(13, "token ids (filled from the dataset's vocabulary)", from_data="vocab_size", min=4)


def seq2seq_transformer_parameters(
    vocab_size: int, d_model: int = 64, heads: int = 4, d_ff: int = 128, layers: int = 2, norm: str = "pre"
) -> int:
    """Parameters of :class:`Seq2SeqTransformerConfig`'s model, counted without building it.

    An attention layer has its q/k/v and output projections, 4d^2 + 4d; a feed-forward
    network 2 d d_ff + d_ff + d; a LayerNorm 2d.  An encoder block has one attention and
    two norms, a decoder block two attentions and three norms; pre-norm adds one final
    LayerNorm per stack.  Source and target embeddings are separate, and so is the output layer.
    """
    d = d_model
    attention, feed_forward, norm_size = 4 * d * d + 4 * d, 2 * d * d_ff + d_ff + d, 2 * d
    encoder = layers * (attention + feed_forward + 2 * norm_size)
    decoder = layers * (2 * attention + feed_forward + 3 * norm_size)
    final_norms = 2 * norm_size if norm == "pre" else 0
    return 2 * vocab_size * d + encoder + decoder + final_norms + d * vocab_size + vocab_size


#: On ``copy`` (13 tokens): 1,664 (embeddings) + 2 x 33,472 (encoder blocks) + 2 x 50,240
#: (decoder blocks) + 256 (final norms) + 845 (output).  = seq2seq_transformer_parameters(13)
DEFAULT_PARAMETERS = 170_189


@hookimpl
def archzoo_register(registry):
    registry.add_architecture(
        ArchSpec(
            name="seq2seq-transformer",
            task="sequence-to-sequence",
            summary="Encoder-decoder Transformer (the notes' 7.4): self-attention encoder, decoder with causal "
            "self-attention and cross-attention; teacher forcing in training, greedy decoding.",
            config=Seq2SeqTransformerConfig,
            default_dataset="copy",
            citation="Vaswani et al. (2017), Attention is all you need. NeurIPS; Xiong et al. (2020), On layer "
            "normalization in the Transformer architecture (pre-norm).",
            parameters=DEFAULT_PARAMETERS,
            implementation="archzoo.plugins.seq2seq_transformer.model",
        )
    )
