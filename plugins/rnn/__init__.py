"""Catalogue card for the recurrent sentiment classifier.

The lecture notes' SentimentLSTM: token embeddings (128), a 2-layer
bidirectional LSTM (256 units each way), the two directions' final hidden
states joined (512) and a small head 512-128-2, with dropout 0.3.  At the
notes' vocabulary of 1,000 it has exactly 2,561,410 parameters.  The cell
(LSTM, GRU or a plain RNN), depth, width and direction are config, so the
notes' comparisons are one ``--set`` away.

No torch here: this module runs whenever archzoo lists what is installed.
The network is in :mod:`archzoo.plugins.rnn.model`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from archzoo import ArchSpec, hookimpl, param


@dataclass
class RNNConfig:
    """The SentimentLSTM family.  The default is a small one (one bidirectional
    layer of 64) that trains in seconds; the presets hold the notes' recipe
    (``rnn-notes``: embedding 128, two bidirectional layers of 256, head 512-128-2)."""

    cell: Literal["lstm", "gru", "rnn"] = param("lstm", "recurrent cell: LSTM, GRU, or a plain tanh RNN")
    embed_dim: int = param(64, "size of each token's embedding vector", min=1, max=65536)
    hidden: int = param(64, "hidden units of each recurrent layer, per direction", min=1, max=65536)
    layers: int = param(1, "stacked recurrent layers", min=1, max=16)
    bidirectional: bool = param(True, "also read each sequence backwards and join both directions' final states")
    dropout: float = param(0.3, "dropout between recurrent layers and in the head", min=0.0, max=0.95)
    head_hidden: int = param(64, "hidden width of the classifier head; 0 for a single Linear", min=0, max=65536)
    embed_init: Literal["scaled", "normal"] = param(
        "scaled",
        "token embeddings start N(0, 1/embed_dim) (scaled), or N(0, 1), PyTorch's default (normal), which lets the "
        "network memorise its training set sooner",
    )
    vocab_size: int = param(
        1000,
        "token ids the embedding has rows for (filled from the dataset's tokenizer)",
        from_data="vocab_size",
        min=2,
    )
    num_classes: int = param(2, "number of classes (filled from the dataset)", from_data="num_classes", min=2)


#: The default on ``sentiment-synthetic`` (vocabulary 1,000, 2 classes): embedding
#: 1,000x64 (64,000) + LSTM, both directions 2x(4x64x(64+64) + 2x4x64) (66,560)
#: + Linear 128->64 (8,256) + Linear 64->2 (130).
DEFAULT_PARAMETERS = 138_946

#: The notes' SentimentLSTM (preset ``rnn-notes``) at vocabulary 1,000:
#: embedding 1,000x128 (128,000) + LSTM layer 1, 2x(4x256x(128+256) + 2x4x256) (790,528)
#: + layer 2, 2x(4x256x(512+256) + 2x4x256) (1,576,960) + Linear 512->128 (65,664) + Linear 128->2 (258).
NOTES_PARAMETERS = 2_561_410


@hookimpl
def archzoo_register(registry):
    registry.add_architecture(
        ArchSpec(
            name="rnn",
            task="text-classification",
            summary="Recurrent text classifier (the notes' SentimentLSTM): embedding, stacked (bi)LSTM/GRU/RNN over "
            "the unpadded tokens, final states into a small head.",
            config=RNNConfig,
            default_dataset="sentiment-synthetic",
            citation="Hochreiter & Schmidhuber (1997), Long short-term memory. Neural Computation 9(8); Schuster & "
            "Paliwal (1997), Bidirectional recurrent neural networks; lecture notes' SentimentLSTM.",
            parameters=DEFAULT_PARAMETERS,
            implementation="archzoo.plugins.rnn.model",
        )
    )
