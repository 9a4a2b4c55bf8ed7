"""Synthetic sequence-to-sequence tasks that show attention at work: ``copy``, ``reverse``, ``sort``.

A source is a row of symbols (``3 1 4 1 5``) drawn uniformly from a vocabulary of
``vocab`` symbols, named ``0``, ``1``, ...; its target is the same row (copy), the
row backwards (reverse) or in ascending order (sort).  Output token t of a copy reads
input token t, of a reverse input token L - 1 - t: the attention matrix a model
learns should show that diagonal, or anti-diagonal.

Settings in the name (``copy:vocab=10,min_length=4,max_length=8,longer=12``):
training and validation sources have ``min_length`` to ``max_length`` symbols; the
test split holds as many sources of those lengths again, then as many *longer* ones
(``max_length + 1`` to ``longer``; ``longer=0`` leaves them out), so a model's
length generalisation is measured on lengths it never saw.

Token ids: 0 padding, 1 start ``<s>``, 2 end ``</s>``, then the symbols.  The
:class:`DataInfo` keeps the whole vocabulary, id -> name, as its ``class_names``
(a checkpoint reads and writes sequences without a tokenizer file), and as its
``input_shape`` the longest source and the longest target (with ``</s>``) the data
holds: the most a model trained on it is asked to read and write.  Each example is
``(source, target, longer)``: the source padded, the target ``<s> y_1 .. y_n </s>``
padded, and whether it is one of the longer test sources.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import torch
from torch.utils.data import TensorDataset

from archzoo.data.regression import _setting
from archzoo.data.tokenizers import PAD_ID
from archzoo.data.types import SPLIT_SEED, DataInfo, DataOptions, DatasetSplits
from archzoo.errors import DataError

TASK = "sequence-to-sequence"
BOS_ID, EOS_ID = 1, 2
SPECIALS = ("<pad>", "<s>", "</s>")
NAMES = ("copy", "reverse", "sort")

#: The settings each dataset's name may carry: name -> (kind, default, lowest, highest); their help
#: is in the catalogue (:mod:`archzoo.data.catalogue`).
SETTINGS: dict[str, tuple[type, int, int, int]] = {
    "vocab": (int, 10, 2, 100),
    "min_length": (int, 4, 1, 64),
    "max_length": (int, 8, 1, 64),
    "longer": (int, 12, 0, 128),
    "examples": (int, 4000, 10, 200_000),
    "test_examples": (int, 500, 1, 20_000),
}


def vocabulary(symbols: int) -> tuple[str, ...]:
    """Token id -> name: the three special tokens, then ``"0"`` .. ``str(symbols - 1)``."""
    return (*SPECIALS, *(str(i) for i in range(symbols)))


def target_of(task: str, source: list[int]) -> list[int]:
    """What ``task`` makes of a source (symbol ids)."""
    if task == "copy":
        return list(source)
    if task == "reverse":
        return source[::-1]
    return sorted(source)


def encode(text: str, names: tuple[str, ...], longest: int) -> list[int]:
    """``"3 1 4"`` -> the symbols' ids, or a :class:`DataError` naming the token outside the
    vocabulary, or the length above ``longest`` (the most the model reads)."""
    tokens = text.split()
    if not tokens:
        raise DataError("the input sequence is empty: give symbols separated by spaces, such as '3 1 4 1 5'")
    ids = {name: i for i, name in enumerate(names) if i > EOS_ID}
    for token in tokens:
        if token not in ids:
            symbols = names[EOS_ID + 1 :]
            raise DataError(
                f"token {token!r} is not in the vocabulary; it has {len(symbols)} symbols: {' '.join(symbols)}"
            )
    if len(tokens) > longest:
        raise DataError(
            f"the input has {len(tokens)} tokens; this model reads at most {longest} "
            "(the longest source of the data it was trained and tested on)"
        )
    return [ids[token] for token in tokens]


def decode(ids: list[int], names: tuple[str, ...]) -> list[str]:
    """Token ids up to the first ``</s>`` -> their names (padding and ``<s>`` left out)."""
    out = []
    for i in ids:
        if i == EOS_ID:
            break
        if i > EOS_ID:
            out.append(names[i])
    return out


def collate(examples: list[tuple[torch.Tensor, ...]]) -> tuple[torch.Tensor, ...]:
    """Stack examples and cut the columns that are padding in every row: a batch of short
    sources is as short as its longest, not as the longest in the dataset."""
    sources, targets, longer = (torch.stack(part) for part in zip(*examples))
    return _trimmed(sources), _trimmed(targets), longer


def _trimmed(ids: torch.Tensor) -> torch.Tensor:
    used = ids.ne(PAD_ID).any(dim=0).nonzero()
    return ids[:, : int(used.max()) + 1] if len(used) else ids[:, :1]


def _draw(rng: np.random.Generator, task: str, count: int, low: int, high: int, symbols: int) -> list[tuple]:
    lengths = rng.integers(low, high + 1, count)
    out = []
    for length in lengths:
        source = (rng.integers(0, symbols, int(length)) + EOS_ID + 1).tolist()
        out.append((tuple(source), tuple(target_of(task, source))))
    return out


def _tensors(pairs: list[tuple], longest_source: int, longest_target: int, longer: bool) -> TensorDataset:
    sources = torch.full((len(pairs), longest_source), PAD_ID, dtype=torch.int64)
    targets = torch.full((len(pairs), longest_target + 2), PAD_ID, dtype=torch.int64)  # <s> y </s>
    for row, (source, target) in enumerate(pairs):
        sources[row, : len(source)] = torch.tensor(source)
        targets[row, : len(target) + 2] = torch.tensor([BOS_ID, *target, EOS_ID])
    return TensorDataset(sources, targets, torch.full((len(pairs),), longer, dtype=torch.bool))


@cache
def _pairs(task: str, symbols: int, low: int, high: int, longer: int, examples: int, tests: int):
    """(training pool, test pairs of the training lengths, longer test pairs), drawn from
    :data:`SPLIT_SEED`; a test source also drawn for training is drawn again."""
    rng = np.random.default_rng([SPLIT_SEED, NAMES.index(task)])
    pool = _draw(rng, task, examples, low, high, symbols)
    seen = {source for source, _ in pool}
    test: list[tuple] = []
    for _ in range(50):  # short sources over few symbols may all be taken; give up rather than loop
        test += [pair for pair in _draw(rng, task, tests - len(test), low, high, symbols) if pair[0] not in seen]
        if len(test) == tests:
            break
    longer_pairs = _draw(rng, task, tests, high + 1, longer, symbols) if longer else []
    return pool, test, longer_pairs


def load_sequences(task: str, options: DataOptions) -> DatasetSplits:
    settings = dict(options.settings)
    values = {name: _setting(settings, name, *spec) for name, spec in SETTINGS.items()}
    low, high, longer = values["min_length"], values["max_length"], values["longer"]
    if low > high:
        raise DataError(f"dataset setting min_length={low} is above max_length={high}")
    if longer and longer <= high:
        raise DataError(f"dataset setting longer={longer} must be above max_length={high} (or 0: no longer sequences)")
    pool, test, longer_pairs = _pairs(
        task, values["vocab"], low, high, longer, values["examples"], values["test_examples"]
    )
    longest = max(high, longer)
    n_val = int(round(len(pool) * options.val_fraction))
    train, val = pool[n_val:], pool[:n_val]
    splits_test = torch.utils.data.ConcatDataset(
        [_tensors(test, longest, longest, False)] + ([_tensors(longer_pairs, longest, longest, True)] if longer else [])
    )
    names = vocabulary(values["vocab"])
    info = DataInfo(task, TASK, (longest, longest + 1), 0, names, vocab_size=len(names))
    splits = DatasetSplits(
        info,
        _tensors(train, longest, longest, False),
        _tensors(val, longest, longest, False) if val else None,
        splits_test,
        collate=collate,
    )
    there = f" + {len(longer_pairs)} longer ({high + 1}-{longer})" if longer else ""
    splits.notes.append(
        f"{task}: {len(train)} training sequences of {low}-{high} symbols out of {values['vocab']}; "
        f"test {len(test)} of {low}-{high}{there}"
    )
    return splits


def load_copy(options: DataOptions) -> DatasetSplits:
    return load_sequences("copy", options)


def load_reverse(options: DataOptions) -> DatasetSplits:
    return load_sequences("reverse", options)


def load_sort(options: DataOptions) -> DatasetSplits:
    return load_sequences("sort", options)


def clear_caches() -> None:
    """Forget the drawn sequences."""
    _pairs.cache_clear()
