"""A GPT language model, as in the lecture notes (GPT-2's design).

Recipe::

    x = wte(ids) + wpe(positions)                       # token + learned position embeddings
    for each block:
        x = x + attn(ln_1(x))                           # causal: position t sees positions <= t
        x = x + mlp(ln_2(x))                            # Linear(d, 4d) -> GELU -> Linear(4d, d)
    logits = ln_f(x) @ wte.weight.T                     # the embedding, reused as the output layer

Weights start as GPT-2's: normal(0, 0.02), and the projections that write
into the residual stream (``attn.c_proj``, ``mlp.c_proj``) scaled down by
sqrt(2 * n_layer), so the stream's variance does not grow with depth.

Hooks:

- ``train_step``: a batch is a ``(B, L + 1)`` tensor of windows of the token
  stream; the model reads tokens ``0..L-1`` (at most ``block_size``) and is
  scored by cross-entropy on tokens ``1..L``: every position predicts its
  next token at once, the causal mask keeping it from peeking.
- ``evaluate``: the mean next-token cross-entropy (``loss``, nats per token)
  and ``perplexity = exp(loss)``.
- ``sample``: continue ``request["prompt"]`` by ``max_length`` tokens, drawing
  each from ``softmax(logits / temperature)`` restricted to the ``top_k`` most
  likely tokens (``top_k`` 0: all; ``temperature`` 0: always the most likely).
  The prompt is read and the text written by the tokenizer saved in the
  checkpoint (``ctx.tokenizer``).
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from archzoo import ArchzooError, ConfigError, SampleResult, hookimpl
from archzoo.toolkit import PAD_ID, unwrap


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention in which position t attends to positions 0..t only."""

    def __init__(self, n_embd: int, n_head: int, dropout: float, bias: bool) -> None:
        super().__init__()
        self.n_head = n_head
        self.c_attn = nn.Linear(n_embd, 3 * n_embd, bias=bias)  # queries, keys and values in one matmul
        self.c_proj = nn.Linear(n_embd, n_embd, bias=bias)
        self.dropout = dropout
        self.resid_dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        # (B, T, C) -> (B, heads, T, head size)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=self.dropout if self.training else 0.0)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # heads side by side again
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, n_embd: int, dropout: float, bias: bool) -> None:
        super().__init__()
        self.c_fc = nn.Linear(n_embd, 4 * n_embd, bias=bias)
        self.gelu = nn.GELU(approximate="tanh")  # GPT-2's GELU
        self.c_proj = nn.Linear(4 * n_embd, n_embd, bias=bias)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    """Pre-norm: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, n_embd: int, n_head: int, dropout: float, bias: bool) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd, bias=bias)
        self.attn = CausalSelfAttention(n_embd, n_head, dropout, bias)
        self.ln_2 = nn.LayerNorm(n_embd, bias=bias)
        self.mlp = MLP(n_embd, dropout, bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """Token ids ``(B, T)`` -> next-token logits ``(B, T, vocab)``, for T <= block_size."""

    def __init__(
        self,
        vocab_size: int,
        *,
        n_layer: int = 2,
        n_head: int = 4,
        n_embd: int = 64,
        block_size: int = 128,
        dropout: float = 0.0,
        bias: bool = True,
        tie_embeddings: bool = True,
    ) -> None:
        super().__init__()
        self.block_size = block_size
        self.wte = nn.Embedding(vocab_size, n_embd)
        self.wpe = nn.Embedding(block_size, n_embd)
        self.drop = nn.Dropout(dropout)
        self.h = nn.ModuleList(Block(n_embd, n_head, dropout, bias) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(n_embd, bias=bias)
        # Tied: the output layer *is* wte.weight (used in forward), so it is stored and counted once.
        self.lm_head = None if tie_embeddings else nn.Linear(n_embd, vocab_size, bias=False)
        self.apply(self._init_weights)
        for name, parameter in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(parameter, mean=0.0, std=0.02 / math.sqrt(2 * n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        T = ids.shape[1]
        if T > self.block_size:
            raise ValueError(f"sequence of {T} tokens is longer than the context of {self.block_size}")
        positions = torch.arange(T, device=ids.device)
        x = self.drop(self.wte(ids) + self.wpe(positions))
        for block in self.h:
            x = block(x)
        x = self.ln_f(x)
        return self.lm_head(x) if self.lm_head is not None else F.linear(x, self.wte.weight)


def next_token_losses(model: nn.Module, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Cross-entropy of every next-token prediction in ``tokens`` (B, L + 1), and
    which of them count (not padding); both (B, min(L, block_size))."""
    tokens = tokens[:, : unwrap(model).block_size + 1]
    inputs, targets = tokens[:, :-1], tokens[:, 1:]
    logits = model(inputs)
    losses = F.cross_entropy(logits.transpose(1, 2), targets, ignore_index=PAD_ID, reduction="none")
    return losses, targets.ne(PAD_ID)


@hookimpl
def build_model(spec, config):
    if config.n_embd % config.n_head:
        raise ConfigError("n_head", config.n_head, f"a divisor of n_embd ({config.n_embd})", owner=spec.name)
    return GPT(
        config.vocab_size,
        n_layer=config.n_layer,
        n_head=config.n_head,
        n_embd=config.n_embd,
        block_size=config.block_size,
        dropout=config.dropout,
        bias=config.bias,
        tie_embeddings=config.tie_embeddings,
    )


@hookimpl
def train_step(spec, model, batch, ctx):
    losses, counted = next_token_losses(model, batch)
    loss = losses.sum() / counted.sum().clamp(min=1)
    ctx.backward(loss)
    ctx.step()
    return {"loss": loss.detach()}


@hookimpl
def evaluate(spec, model, loader, ctx):
    sums, counts = [], []
    with torch.no_grad():
        for batch in loader:
            losses, counted = next_token_losses(model, batch)
            sums.append(ctx.gather((losses * counted).sum(dim=1)))  # per window, so processes combine exactly
            counts.append(ctx.gather(counted.sum(dim=1)))
    if not sums:
        raise ValueError("cannot evaluate on an empty data split")
    loss = (torch.cat(sums).sum() / torch.cat(counts).sum().clamp(min=1)).item()
    return {"loss": loss, "perplexity": math.exp(min(loss, 700.0))}


@hookimpl
def sample(spec, model, request, ctx):
    """Continue a prompt: ``prompt`` (str, may be empty), ``max_length`` (new
    tokens, 100), ``temperature`` (1.0), ``top_k`` (0: every token), ``n`` (1)
    and ``seed`` (None: the global random state)."""
    tokenizer = ctx.tokenizer
    if tokenizer is None:
        raise ArchzooError(
            "this GPT has no tokenizer (its checkpoint lacks tokenizer.json), so it cannot read a prompt or write text"
        )
    prompt = str(request.get("prompt") or "")
    max_length = int(request.get("max_length", 100))
    temperature = float(request.get("temperature", 1.0))
    top_k = int(request.get("top_k") or 0)
    n = int(request.get("n", 1))
    seed = request.get("seed")
    if max_length < 0 or n < 1 or temperature < 0 or top_k < 0:
        raise ArchzooError("max_length and top_k must be at least 0, n at least 1, and temperature not negative")
    start = tokenizer.encode(prompt) if prompt else []
    start = start or tokenizer.encode("\n") or [PAD_ID + 1]  # nothing to continue: start as after a line break
    generator = torch.Generator().manual_seed(int(seed)) if seed is not None else None
    ids = generate(
        model,
        torch.tensor([start] * n, device=ctx.device),
        max_length,
        temperature,
        top_k,
        generator,
        never=getattr(tokenizer, "special_ids", (PAD_ID,)),
    )
    # The prompt as given (a tokenizer may lowercase it or not know a character), then what was drawn.
    texts = [prompt + tokenizer.decode(row[len(start) :].tolist()) for row in ids.cpu()]
    return SampleResult(kind="text", outputs={"texts": texts, "prompt": prompt})


@torch.no_grad()
def generate(
    model: nn.Module,
    ids: torch.Tensor,
    max_length: int,
    temperature: float = 1.0,
    top_k: int = 0,
    generator: torch.Generator | None = None,
    never: tuple[int, ...] = (PAD_ID,),
) -> torch.Tensor:
    """Append ``max_length`` sampled tokens to each row of ``ids`` (B, T); the
    ``never`` ids (padding, unknown) are not drawn."""
    block_size = unwrap(model).block_size
    for _ in range(max_length):
        logits = model(ids[:, -block_size:])[:, -1, :].float()  # the prediction after the last token
        logits[:, list(never)] = float("-inf")  # padding and "unknown" are not text
        if temperature == 0:
            next_id = logits.argmax(dim=-1, keepdim=True)
        else:
            logits = logits / temperature
            if top_k:
                kth = torch.topk(logits, min(top_k, logits.shape[-1]), dim=-1).values[:, -1:]
                logits = logits.masked_fill(logits < kth, float("-inf"))
            probabilities = torch.softmax(logits, dim=-1)
            next_id = torch.multinomial(probabilities.cpu(), 1, generator=generator).to(ids.device)
        ids = torch.cat([ids, next_id], dim=1)
    return ids
