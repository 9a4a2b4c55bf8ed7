"""Sequence-to-sequence by checkpoint: an input sequence in, the output sequence and its attention out.

:func:`translate` is what ``archzoo predict RUN --text "3 1 4 1 5"`` runs on a
``sequence-to-sequence`` checkpoint, what the app's sequence box calls and what the
``attention`` view draws: each input read with the checkpoint's own vocabulary (a
token outside it, or more tokens than the model reads, is an error naming it),
decoded greedily by the plugin's ``sample``, with the matrix of attention weights,
output tokens against input tokens, that chose each output token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from archzoo.checkpoints.io import LoadedCheckpoint, load
from archzoo.errors import ArchzooError
from archzoo.inference.sampling import expect, sample_checkpoint
from archzoo.registry.host import Host, get_host
from archzoo.registry.limits import MAX_TEXT_LINES, check_count, check_text_request

TASK = "sequence-to-sequence"


@dataclass
class Translation:
    """One input sequence, its output, and the attention that wrote it (None: a model without)."""

    source: list[str]
    tokens: list[str]
    text: str
    attention: list[list[float]] | None
    #: Every attention map, layer name -> heads x outputs x inputs (a Transformer's every block).
    maps: dict[str, Any] = field(default_factory=dict)


def loaded_sequences(location: Any, host: Host) -> LoadedCheckpoint:
    """The checkpoint, loaded, or an error when it does not map sequences to sequences."""
    loaded = location if isinstance(location, LoadedCheckpoint) else load(location, host=host)
    if loaded.info.task != TASK:
        raise ArchzooError(f"this checkpoint is a {loaded.info.task} model; this needs a {TASK} model")
    return loaded


def what_it_reads(info: Any) -> str:
    """``"at most 12 tokens of: 0 1 2 ..."``: the longest input and the vocabulary, for help texts."""
    return f"at most {info.input_shape[0]} tokens of: {' '.join(info.class_names[3:])}"


def translate(location: Any, texts: list[str], *, host: Host | None = None) -> list[Translation]:
    """The output sequence of each input text (symbols separated by spaces) and its attention."""
    host = host or get_host()
    loaded = loaded_sequences(location, host)
    check_count("input sequences", len(texts), MAX_TEXT_LINES)
    texts = [check_text_request(text, "the input sequence") for text in texts]
    if not texts:
        raise ArchzooError("give at least one input sequence, such as '3 1 4 1 5'")
    result = sample_checkpoint(loaded, {"texts": texts}, host=host)
    expect(result, "sequences")
    out = result.outputs
    return [
        Translation(source, tokens, text, attention, maps)
        for source, tokens, text, attention, maps in zip(
            out["sources"], out["tokens"], out["texts"], out["attention"], out["maps"]
        )
    ]
