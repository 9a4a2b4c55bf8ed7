"""Catalogue card for the recurrent encoder-decoder, with or without attention.

The lecture notes' chapter 6 seq2seq: a GRU or LSTM encoder reads the source into
states h_1 .. h_S; a decoder of the same kind writes the target one token at a time.
Without attention every step reads one context vector, c = h_S (eq. 6.1: the
bottleneck); with Bahdanau's additive attention (eqs. 6.2-6.4) each step t reads
c_t = sum_j alpha_tj h_j, scored from the state before the step, s_{t-1}; with
Luong's (eqs. 6.6-6.8, scores ``dot``, ``general`` or ``concat``) from the state after
it, s_t.  Trained with teacher forcing, decoded greedily (archzoo's
``sequence-to-sequence`` defaults).

No torch here: this module runs whenever archzoo lists what is installed.
The network is in :mod:`archzoo.plugins.seq2seq.model`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from archzoo import ArchSpec, hookimpl, param


@dataclass
class Seq2SeqConfig:
    """The encoder-decoder's cell, its attention and its sizes; the vocabulary comes from the data."""

    cell: Literal["gru", "lstm"] = param("gru", "the recurrent cell of encoder and decoder (notes 5.5, 5.6)")
    attention: Literal["none", "bahdanau", "luong"] = param(
        "bahdanau",
        "none: every step reads c = h_S (eq. 6.1); bahdanau: additive, from s_{t-1} (eqs. 6.2-6.4); luong: from "
        "s_t, scored by 'score' (eqs. 6.6-6.8)",
    )
    score: Literal["dot", "general", "concat"] = param(
        "general",
        "Luong's score: dot s_t^T h_j (eq. 6.6), general s_t^T W_a h_j (eq. 6.7), concat v_a^T tanh(W_a [s_t; h_j]) "
        "(eq. 6.8); read with attention=luong only",
    )
    embedding_dim: int = param(32, "width of the token embeddings", min=1, max=4096)
    hidden_size: int = param(64, "width of the encoder and decoder states, d_h = d_s", min=1, max=4096)
    attention_dim: int = param(64, "d_a: width of the additive scores (bahdanau, and luong's concat)", min=1, max=4096)
    layers: int = param(1, "stacked recurrent layers in encoder and decoder (the top one attends)", min=1, max=8)
    dropout: float = param(0.0, "dropout on the embeddings and before the output layer", min=0.0, max=0.95)
    vocab_size: int = param(13, "token ids (filled from the dataset's vocabulary)", from_data="vocab_size", min=4)


def seq2seq_parameters(
    vocab_size: int,
    cell: str = "gru",
    attention: str = "bahdanau",
    score: str = "general",
    embedding_dim: int = 32,
    hidden_size: int = 64,
    attention_dim: int = 64,
    layers: int = 1,
) -> int:
    """Parameters of :class:`Seq2SeqConfig`'s model, counted without building it.

    A recurrent layer of input width i has gates x (h i + h h + 2h) parameters (3 gates
    for a GRU, 4 for an LSTM; PyTorch keeps two bias vectors).  Without attention and
    with Bahdanau's the decoder reads [E y; c] and predicts from [s; c]; with Luong's it
    reads E y and predicts from tanh(W_c [c; s]).
    """
    v, e, h, a = vocab_size, embedding_dim, hidden_size, attention_dim
    gates = 3 if cell == "gru" else 4

    def recurrent(first_input: int) -> int:
        return sum(gates * (h * (first_input if n == 0 else h) + h * h + 2 * h) for n in range(layers))

    embeddings = 2 * v * e
    if attention == "luong":
        scores = {"dot": 0, "general": h * h, "concat": a * 2 * h + a}[score]
        decoder = recurrent(e) + scores + (2 * h * h + h) + (h * v + v)
    else:
        scores = 2 * a * h + a if attention == "bahdanau" else 0
        decoder = recurrent(e + h) + scores + (2 * h * v + v)
    return embeddings + recurrent(e) + decoder


#: On ``copy`` (13 tokens: 10 symbols, padding, <s>, </s>), GRU, Bahdanau: 832 (embeddings)
#: + 18,816 (encoder) + 31,104 (decoder GRU) + 8,256 (W_a, U_a, v_a) + 1,677 (output).
#: = seq2seq_parameters(13)
DEFAULT_PARAMETERS = 60_685


@hookimpl
def archzoo_register(registry):
    registry.add_architecture(
        ArchSpec(
            name="seq2seq",
            task="sequence-to-sequence",
            summary="Recurrent encoder-decoder (GRU or LSTM) with no, Bahdanau (additive) or Luong attention; "
            "teacher forcing in training, greedy decoding.",
            config=Seq2SeqConfig,
            default_dataset="copy",
            citation="Sutskever, Vinyals & Le (2014), Sequence to sequence learning with neural networks; Bahdanau, "
            "Cho & Bengio (2015), Neural machine translation by jointly learning to align and translate; Luong, Pham "
            "& Manning (2015), Effective approaches to attention-based neural machine translation.",
            parameters=DEFAULT_PARAMETERS,
            implementation="archzoo.plugins.seq2seq.model",
        )
    )
