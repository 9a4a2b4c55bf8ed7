"""The recurrent encoder-decoder of the lecture notes' chapter 6, with its three attentions.

Recipe, for a source x_1 .. x_S and a decoder that has written y_1 .. y_{t-1}::

    h_1 .. h_S = Encoder(E x)                              # GRU or LSTM; padding packed away
    s_0 = the encoder's last state
    none:      c_t = h_S                                   # eq. 6.1: one vector for the whole source
    bahdanau:  e_tj = v_a^T tanh(W_a s_{t-1} + U_a h_j)    # eq. 6.2, before the step
               alpha_t = softmax_j(e_t), c_t = sum_j alpha_tj h_j       # eqs. 6.3, 6.4
    (none and bahdanau)  s_t = Decoder([E y_{t-1}; c_t], s_{t-1});  logits = W_o [s_t; c_t]
    luong:     s_t = Decoder(E y_{t-1}, s_{t-1})           # after the step
               e_tj = score(s_t, h_j)                      # dot, general or concat (eqs. 6.6-6.8)
               c_t = sum_j alpha_tj h_j;  logits = W_s tanh(W_c [c_t; s_t])

Padding positions get -inf scores, so the weights over the real source tokens sum
to 1 (theorem 6.1).  Training feeds the true y_{t-1} (teacher forcing), ``greedy``
its own last choice; both go through :meth:`Seq2Seq.step`.  The training step,
evaluation and sampling are archzoo's ``sequence-to-sequence`` defaults
(:mod:`archzoo.toolkit.sequences`).
"""

from __future__ import annotations

import torch
import torch.nn as nn

from archzoo import hookimpl
from archzoo.toolkit import PAD_ID
from archzoo.toolkit.sequences import BOS_ID


class BahdanauAttention(nn.Module):
    """e_tj = v_a^T tanh(W_a s_{t-1} + U_a h_j) (eq. 6.2), softmax over the source (eq. 6.3)."""

    def __init__(self, hidden_size: int, attention_dim: int) -> None:
        super().__init__()
        self.W_a = nn.Linear(hidden_size, attention_dim, bias=False)
        self.U_a = nn.Linear(hidden_size, attention_dim, bias=False)
        self.v_a = nn.Linear(attention_dim, 1, bias=False)

    def forward(self, s: torch.Tensor, memory: torch.Tensor, padding: torch.Tensor) -> torch.Tensor:
        # s (B, d_s), memory (B, S, d_h) -> alpha (B, S)
        e = self.v_a(torch.tanh(self.W_a(s)[:, None, :] + self.U_a(memory))).squeeze(-1)
        return torch.softmax(e.masked_fill(padding, float("-inf")), dim=-1)


class LuongAttention(nn.Module):
    """Luong's scores of s_t against each h_j: dot (eq. 6.6), general (6.7) or concat (6.8)."""

    def __init__(self, hidden_size: int, attention_dim: int, score: str) -> None:
        super().__init__()
        self.score = score
        if score == "general":
            self.W_a = nn.Linear(hidden_size, hidden_size, bias=False)
        elif score == "concat":
            self.W_a = nn.Linear(2 * hidden_size, attention_dim, bias=False)
            self.v_a = nn.Linear(attention_dim, 1, bias=False)

    def forward(self, s: torch.Tensor, memory: torch.Tensor, padding: torch.Tensor) -> torch.Tensor:
        if self.score == "dot":  # s_t^T h_j
            e = (memory @ s[:, :, None]).squeeze(-1)
        elif self.score == "general":  # s_t^T (W_a h_j)
            e = (self.W_a(memory) @ s[:, :, None]).squeeze(-1)
        else:  # v_a^T tanh(W_a [s_t; h_j])
            pairs = torch.cat([s[:, None, :].expand_as(memory), memory], dim=-1)
            e = self.v_a(torch.tanh(self.W_a(pairs))).squeeze(-1)
        return torch.softmax(e.masked_fill(padding, float("-inf")), dim=-1)


class Seq2Seq(nn.Module):
    """Source ids (B, S) and decoder inputs (B, T) -> next-token logits (B, T, V)."""

    def __init__(
        self,
        vocab_size: int,
        *,
        cell: str = "gru",
        attention: str = "bahdanau",
        score: str = "general",
        embedding_dim: int = 32,
        hidden_size: int = 64,
        attention_dim: int = 64,
        layers: int = 1,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.attention = attention
        self.map_name = f"luong ({score})" if attention == "luong" else attention  # its name in views
        rnn = nn.GRU if cell == "gru" else nn.LSTM
        self.source_embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD_ID)
        self.encoder = rnn(embedding_dim, hidden_size, layers, batch_first=True)
        self.target_embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD_ID)
        self.dropout = nn.Dropout(dropout)
        if attention == "luong":
            self.decoder = rnn(embedding_dim, hidden_size, layers, batch_first=True)
            self.attend = LuongAttention(hidden_size, attention_dim, score)
            self.W_c = nn.Linear(2 * hidden_size, hidden_size)
            self.out = nn.Linear(hidden_size, vocab_size)
        else:
            self.decoder = rnn(embedding_dim + hidden_size, hidden_size, layers, batch_first=True)
            self.attend = BahdanauAttention(hidden_size, attention_dim) if attention == "bahdanau" else None
            self.out = nn.Linear(2 * hidden_size, vocab_size)

    def encode(self, sources: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, object]:
        """(h_1 .. h_S (B, S, d_h), padding (B, S), the encoder's last state: the decoder's s_0)."""
        padding = sources.eq(PAD_ID)
        lengths = (~padding).sum(dim=1).clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(
            self.dropout(self.source_embedding(sources)), lengths, batch_first=True, enforce_sorted=False
        )
        memory, state = self.encoder(packed)  # the state is each sequence's own last real step
        memory, _ = nn.utils.rnn.pad_packed_sequence(memory, batch_first=True, total_length=sources.shape[1])
        return memory, padding, state

    @staticmethod
    def top(state: object) -> torch.Tensor:
        """s: the top layer's hidden state (an LSTM's state is (h, cell))."""
        return (state[0] if isinstance(state, tuple) else state)[-1]

    def step(self, y_prev, state, memory, padding, final):
        """One decoder step: (logits (B, V), the new state, alpha (B, S) or None)."""
        embedded = self.dropout(self.target_embedding(y_prev))[:, None, :]  # (B, 1, e)
        if self.attention == "luong":
            output, state = self.decoder(embedded, state)
            s = output[:, 0]
            alpha = self.attend(s, memory, padding)
            context = (alpha[:, None, :] @ memory).squeeze(1)  # c_t = sum_j alpha_tj h_j
            return self.out(self.dropout(torch.tanh(self.W_c(torch.cat([context, s], dim=-1))))), state, alpha
        if self.attend is None:
            alpha, context = None, final  # c = h_S at every step
        else:
            alpha = self.attend(self.top(state), memory, padding)  # from s_{t-1}
            context = (alpha[:, None, :] @ memory).squeeze(1)
        output, state = self.decoder(torch.cat([embedded, context[:, None, :]], dim=-1), state)
        return self.out(self.dropout(torch.cat([output[:, 0], context], dim=-1))), state, alpha

    def forward(self, sources: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: step t reads the true token inputs[:, t]."""
        memory, padding, state = self.encode(sources)
        final = self.top(state)
        logits = []
        for t in range(inputs.shape[1]):
            step_logits, state, _ = self.step(inputs[:, t], state, memory, padding, final)
            logits.append(step_logits)
        return torch.stack(logits, dim=1)

    @torch.no_grad()
    def greedy(self, sources: torch.Tensor, steps: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``steps`` tokens, each the most likely after the model's own previous one, and the
        attention that chose them, ``{name: (B, 1, steps, S)}`` (none without attention)."""
        memory, padding, state = self.encode(sources)
        final = self.top(state)
        y = torch.full((len(sources),), BOS_ID, dtype=torch.int64, device=sources.device)
        ids, alphas = [], []
        for _ in range(steps):
            step_logits, state, alpha = self.step(y, state, memory, padding, final)
            y = step_logits.argmax(dim=-1)
            ids.append(y)
            alphas.append(alpha)
        maps = {self.map_name: torch.stack(alphas, dim=1)[:, None]} if self.attend is not None else {}
        return torch.stack(ids, dim=1), maps


@hookimpl
def build_model(spec, config):
    return Seq2Seq(
        config.vocab_size,
        cell=config.cell,
        attention=config.attention,
        score=config.score,
        embedding_dim=config.embedding_dim,
        hidden_size=config.hidden_size,
        attention_dim=config.attention_dim,
        layers=config.layers,
        dropout=config.dropout,
    )
