"""The standard sequence-to-sequence hooks: a teacher-forced training step, greedy
decoding judged per token and per sequence, and greedy decoding with its attention as
the sample.  Used by any architecture on ``sequence-to-sequence`` that does not write
its own (the ``seq2seq`` and ``seq2seq-transformer`` plugins write only their models).

A model for them maps ``(sources, decoder_inputs)`` (B, S) and (B, T) token ids to
next-token logits (B, T, V), and has ``greedy(sources, steps)``: ``steps`` tokens
chosen one at a time, each the most likely after those before, with the attention
that chose them, ``{name: (B, heads, steps, S)}`` (empty for a model without).

A batch is ``(sources, targets, longer)`` (:mod:`archzoo.data.sequences`): targets
are ``<s> y_1 .. y_n </s>``, so the decoder reads ``targets[:, :-1]`` and is scored
on ``targets[:, 1:]``.  Registered at the lowest priority (``trylast``), answering
``None`` for every other task.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from archzoo.data.sequences import BOS_ID, EOS_ID, TASK, decode, encode
from archzoo.data.tokenizers import PAD_ID
from archzoo.errors import DataError
from archzoo.registry.hookspecs import hookimpl
from archzoo.registry.limits import MAX_TEXT_LINES, check_count
from archzoo.registry.specs import SampleResult
from archzoo.toolkit.generative import SampleError
from archzoo.toolkit.models import unwrap

#: Output tokens a request may ask for at most.
MAX_OUTPUT = 1024

__all__ = ["BOS_ID", "EOS_ID", "sequence_metrics", "sequence_step", "translated"]


@hookimpl(trylast=True)
def train_step(spec, model, batch, ctx):
    if spec.task != TASK:
        return None
    return sequence_step(model, batch, ctx)


@hookimpl(trylast=True)
def evaluate(spec, model, loader, ctx):
    if spec.task != TASK:
        return None
    return sequence_metrics(model, loader, ctx)


@hookimpl(trylast=True)
def sample(spec, model, request, ctx):
    if spec.task != TASK:
        return None
    return translated(model, request, ctx)


def sequence_step(model, batch, ctx) -> dict[str, torch.Tensor]:
    """Teacher forcing: the decoder reads the true previous tokens, and is scored by
    cross-entropy on every next one (padding left out); one optimizer step."""
    sources, targets = batch[0], batch[1]
    logits = model(sources, targets[:, :-1])
    loss = F.cross_entropy(logits.transpose(1, 2), targets[:, 1:], ignore_index=PAD_ID)
    ctx.backward(loss)
    ctx.step()
    return {"loss": loss.detach()}


def sequence_metrics(model, loader, ctx) -> dict[str, float]:
    """Greedy decoding against the truth: ``token_accuracy`` (the share of target tokens,
    ``</s>`` included, decoded right), ``sequence_accuracy`` (the share of sequences decoded
    right to their end) and ``loss`` (teacher-forced cross-entropy per token), for the sources
    of the training lengths and, with ``longer_`` in front, for the test split's longer ones."""
    parts: dict[str, list[torch.Tensor]] = {"hits": [], "tokens": [], "right": [], "nll": [], "longer": []}
    with torch.no_grad():
        for sources, targets, longer in loader:
            truth = targets[:, 1:]
            counted = truth.ne(PAD_ID)
            logits = model(sources, targets[:, :-1])
            nll = F.cross_entropy(logits.transpose(1, 2).float(), truth, ignore_index=PAD_ID, reduction="none")
            predicted, _ = unwrap(model).greedy(sources, truth.shape[1])
            hits = predicted.eq(truth) & counted
            for name, value in (
                ("hits", hits.sum(dim=1)),
                ("tokens", counted.sum(dim=1)),
                ("right", hits.sum(dim=1).eq(counted.sum(dim=1)).long()),  # whole numbers gather everywhere
                ("nll", nll.sum(dim=1)),
                ("longer", longer.long()),
            ):
                parts[name].append(ctx.gather(value))
    if not parts["hits"]:
        raise ValueError("cannot evaluate on an empty data split")
    every = {name: torch.cat(values) for name, values in parts.items()}
    metrics: dict[str, float] = {}
    longer = every["longer"].bool()
    for prefix, chosen in (("", ~longer), ("longer_", longer)):
        if not bool(chosen.any()):
            continue
        tokens = every["tokens"][chosen].sum().clamp(min=1).double()
        metrics[f"{prefix}token_accuracy"] = (every["hits"][chosen].sum() / tokens).item()
        metrics[f"{prefix}sequence_accuracy"] = every["right"][chosen].double().mean().item()
        metrics[f"{prefix}loss"] = (every["nll"][chosen].double().sum() / tokens).item()
    return metrics


def translated(model, request: dict[str, Any], ctx) -> SampleResult:
    """Greedy outputs of ``request["texts"]`` (symbols separated by spaces) or
    ``request["inputs"]`` (padded source ids, N x S), each with its attention matrix."""
    names, (longest_source, longest_target) = tuple(ctx.info.class_names), ctx.info.input_shape
    if "texts" in request:
        texts = list(request["texts"])
        check_count("input sequences", len(texts), MAX_TEXT_LINES)
        try:
            rows = [encode(text, names, longest_source) for text in texts]
        except DataError as exc:  # a request's sequence, not the dataset's: the sampler's error
            raise SampleError(str(exc)) from None
    else:
        rows = [[i for i in row if i != PAD_ID] for row in request["inputs"].tolist()]
    if not rows or not all(rows):
        raise SampleError("give at least one input sequence, and no empty one")
    sources = torch.full((len(rows), max(map(len, rows))), PAD_ID, dtype=torch.int64)
    for n, row in enumerate(rows):
        sources[n, : len(row)] = torch.tensor(row, dtype=torch.int64)
    steps = check_count("max_length (output tokens)", int(request.get("max_length") or longest_target), MAX_OUTPUT)
    if steps < 1:
        raise SampleError(f"max_length must be at least 1 output token, not {steps}")
    with torch.no_grad():
        ids, maps = unwrap(model).greedy(sources.to(ctx.device), steps)
    outputs: dict[str, list] = {"texts": [], "tokens": [], "sources": [], "attention": [], "maps": []}
    for n, row in enumerate(rows):
        produced = ids[n].tolist()
        tokens = decode(produced, names)
        shown = len(tokens) + int(EOS_ID in produced)  # the rows of the tokens written, </s> too
        outputs["texts"].append(" ".join(tokens))
        outputs["tokens"].append(tokens + (["</s>"] if shown > len(tokens) else []))
        outputs["sources"].append([names[i] for i in row])
        own = {name: m[n, :, :shown, : len(row)].float().cpu() for name, m in maps.items()}
        outputs["maps"].append({name: m.tolist() for name, m in own.items()})
        # The prediction's matrix: the model's last attention (a Transformer's last cross-attention), heads averaged.
        outputs["attention"].append(own[list(own)[-1]].mean(dim=0).tolist() if own else None)
    return SampleResult(kind="sequences", outputs=outputs)
