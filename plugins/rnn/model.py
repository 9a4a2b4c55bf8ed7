"""The recurrent sentiment classifier, as in the lecture notes.

Recipe (the notes' SentimentLSTM): ``Embedding(vocab, 128)`` ->
``LSTM(128, 256, num_layers=2, bidirectional=True, dropout=0.3)`` -> the last
layer's final hidden state of each direction, concatenated (512) ->
``Dropout(0.3) -> Linear(512, 128) -> ReLU -> Dropout(0.3) -> Linear(128, 2)``.
2,561,410 parameters at a vocabulary of 1,000.

Padding is handled properly: batches are padded with token 0 to the longest
sequence, and the recurrent layers see each sequence only up to its own
length (``pack_padded_sequence``), so the "final" state is the state after
the last real token, not after a run of padding, and the backward direction
starts at the last real token rather than in the padding.

Token embeddings start small, N(0, 1/embed_dim), rather than at PyTorch's
N(0, 1) (``embed_init="normal"``).  Large random embeddings give every token a
random signature the LSTM can use to memorise its training sequences: with
the ``rnn-notes`` recipe on the synthetic sentiment task, held-out accuracy is
0.76 with N(0, 1) embeddings and 0.86 with small ones (docs/errata.md).

Only ``build_model`` lives here: the training step, evaluation and sampling
are archzoo's standard classification hooks (a batch is ``(ids, labels)`` and
the model maps ids to logits); ``sample`` also takes ``{"texts": [...]}``,
read with the tokenizer saved in the checkpoint.
"""

from __future__ import annotations

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence

from archzoo import hookimpl
from archzoo.toolkit import PAD_ID

CELLS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


class SentimentRNN(nn.Module):
    """Embedding -> stacked (bi)directional recurrent layers -> final states -> head."""

    def __init__(
        self,
        vocab_size: int,
        num_classes: int = 2,
        *,
        cell: str = "lstm",
        embed_dim: int = 128,
        hidden: int = 256,
        layers: int = 2,
        bidirectional: bool = True,
        dropout: float = 0.3,
        head_hidden: int = 128,
        embed_init: str = "scaled",
    ) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=PAD_ID)
        if embed_init == "scaled":
            nn.init.normal_(self.embedding.weight, std=embed_dim**-0.5)
            with torch.no_grad():
                self.embedding.weight[PAD_ID].zero_()  # the padding vector stays zero, as nn.Embedding makes it
        self.rnn = CELLS[cell](
            embed_dim,
            hidden,
            num_layers=layers,
            batch_first=True,
            bidirectional=bidirectional,
            dropout=dropout if layers > 1 else 0.0,  # PyTorch applies it between layers only
        )
        self.directions = 2 if bidirectional else 1
        features = hidden * self.directions
        if head_hidden:
            self.head = nn.Sequential(
                nn.Dropout(dropout),
                nn.Linear(features, head_hidden),
                nn.ReLU(),
                nn.Dropout(dropout),
                nn.Linear(head_hidden, num_classes),
            )
        else:
            self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(features, num_classes))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        lengths = ids.ne(PAD_ID).sum(dim=1).clamp(min=1)  # (B,): real tokens in each row
        x = self.embedding(ids)  # (B, T, E)
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, state = self.rnn(packed)
        h = state[0] if isinstance(state, tuple) else state  # LSTM returns (h, c)
        # h: (layers * directions, B, hidden); the last layer's states are the last `directions` rows.
        final = torch.cat(list(h[-self.directions :]), dim=1)  # (B, hidden * directions)
        return self.head(final)  # (B, num_classes) logits


@hookimpl
def build_model(spec, config):
    return SentimentRNN(
        config.vocab_size,
        config.num_classes,
        cell=config.cell,
        embed_dim=config.embed_dim,
        hidden=config.hidden,
        layers=config.layers,
        bidirectional=config.bidirectional,
        dropout=config.dropout,
        head_hidden=config.head_hidden,
        embed_init=config.embed_init,
    )
