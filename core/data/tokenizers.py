"""Tokenizers for text datasets: built from the training data, never downloaded,
saved as JSON inside every checkpoint.

A text model sees token ids, not characters.  The tokenizer that produced the
ids is as much a part of the model as its weights: a checkpoint without it
cannot read a new sentence.  So each text dataset trains (or defines) its
tokenizer, the trainer writes it into every checkpoint as ``tokenizer.json``,
and :func:`archzoo.checkpoints.io.load` reads it back.  Nothing here is pickled.

Four kinds, one interface (:class:`TextTokenizer`):

============  ==============================================================  =======================================
kind          tokens                                                          ``tokenizer.json``
============  ==============================================================  =======================================
``char``      one per character (a character model's vocabulary is tiny)      ``{"type": "archzoo-char", "chars": ...}``
``word``      lowercased words and punctuation marks, the most frequent ones  the ``tokenizers`` library's own format
``bpe``       byte-level byte-pair encoding (GPT-2's scheme), trained here    the ``tokenizers`` library's own format
``ids``       the text *is* token ids, written as numbers ("17 404 9")        ``{"type": "archzoo-ids", ...}``
============  ==============================================================  =======================================

``word`` and ``bpe`` are trained with Hugging Face's ``tokenizers`` library, so
their ``tokenizer.json`` also loads with plain ``tokenizers.Tokenizer.from_file``.

One convention holds for every kind: **token id 0 is padding** (:data:`PAD_ID`).
Batches are padded with it, and a model finds each sequence's real length
as ``(ids != PAD_ID).sum(1)``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from archzoo.errors import ArchzooError
from archzoo.registry.limits import parse_json

#: The most token ids a tokenizer read from a file may have.
MAX_VOCABULARY = 10_000_000

#: Token id 0 pads every batch, for every tokenizer.
PAD_ID = 0
PAD, UNK = "[PAD]", "[UNK]"
KINDS = ("char", "word", "bpe", "ids")
#: The file name a tokenizer has inside a checkpoint folder.


class TextTokenizer:
    """What every tokenizer offers.  Subclasses set ``kind`` and implement the rest."""

    kind: str = ""

    @property
    def vocab_size(self) -> int:
        raise NotImplementedError

    def encode(self, text: str) -> list[int]:
        raise NotImplementedError

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return [self.encode(t) for t in texts]

    def decode(self, ids: Iterable[int]) -> str:
        raise NotImplementedError

    def to_json(self) -> str:
        raise NotImplementedError

    #: Ids that stand for no text (padding, unknown): a generator never draws them.
    special_ids: tuple[int, ...] = (PAD_ID, 1)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.to_json(), encoding="utf-8")
        return path

    def describe(self) -> str:
        return f"{self.kind} tokenizer, {self.vocab_size:,} tokens"

    def __repr__(self) -> str:
        return f"<{self.describe()}>"


# -- characters -------------------------------------------------------------------------


class CharTokenizer(TextTokenizer):
    """One token per character: 0 is padding, 1 stands for any character not
    seen in training, then the characters themselves."""

    kind = "char"
    UNK_ID = 1
    UNKNOWN_TEXT = "\N{REPLACEMENT CHARACTER}"

    def __init__(self, chars: Sequence[str]) -> None:
        if any(len(c) != 1 for c in chars) or len(set(chars)) != len(chars):
            raise ArchzooError("a character vocabulary must list distinct single characters")
        self.chars = list(chars)
        self.index = {c: i + 2 for i, c in enumerate(self.chars)}
        # A lookup table by code point makes encoding millions of characters a numpy gather.
        top = max((ord(c) for c in self.chars), default=0)
        self._table = np.full(top + 2, self.UNK_ID, dtype=np.int64)
        for c, i in self.index.items():
            self._table[ord(c)] = i

    @classmethod
    def train(cls, texts: Iterable[str], max_size: int = 0) -> CharTokenizer:
        """The characters of ``texts`` (the ``max_size - 2`` most frequent, if given), sorted."""
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(text)
        if max_size and len(counts) > max_size - 2:
            kept = [c for c, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: max(max_size - 2, 1)]]
        else:
            kept = list(counts)
        return cls(sorted(kept))

    @property
    def vocab_size(self) -> int:
        return len(self.chars) + 2

    def encode_array(self, text: str) -> np.ndarray:
        """``text`` as an int64 array, fast for long corpora."""
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        codes = np.minimum(codes, len(self._table) - 1)  # beyond the table: unknown
        return self._table[codes]

    def encode(self, text: str) -> list[int]:
        return self.encode_array(text).tolist()

    def decode(self, ids: Iterable[int]) -> str:
        out = []
        for i in ids:
            i = int(i)
            if i >= 2 and i - 2 < len(self.chars):
                out.append(self.chars[i - 2])
            elif i == self.UNK_ID:
                out.append(self.UNKNOWN_TEXT)
        return "".join(out)

    def to_json(self) -> str:
        return json.dumps(
            {"type": "archzoo-char", "version": 1, "pad": PAD, "unk": UNK, "chars": self.chars}, ensure_ascii=False
        )


# -- the text is already token ids ---------------------------------------------------------


class IdTokenizer(TextTokenizer):
    """For data whose tokens are numbers already (the synthetic sentiment task):
    ``"17 404 9"`` is the sequence 17, 404, 9.  Ids run from 1 to ``vocab_size - 1``."""

    kind = "ids"
    special_ids = (PAD_ID,)

    def __init__(self, size: int) -> None:
        self.size = int(size)

    @property
    def vocab_size(self) -> int:
        return self.size

    def encode(self, text: str) -> list[int]:
        ids = []
        for word in text.replace(",", " ").split():
            try:
                value = int(word)
            except ValueError:
                raise ArchzooError(
                    f"this model reads token ids: write whole numbers from 1 to {self.size - 1} separated by spaces, "
                    f"not {word!r}"
                ) from None
            if not 1 <= value < self.size:
                raise ArchzooError(f"token id {value} is outside the vocabulary: ids run from 1 to {self.size - 1}")
            ids.append(value)
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        return " ".join(str(int(i)) for i in ids if int(i) != PAD_ID)

    def to_json(self) -> str:
        return json.dumps({"type": "archzoo-ids", "version": 1, "vocab_size": self.size})


# -- words and byte-pair encoding (the tokenizers library) ------------------------------------


class LibraryTokenizer(TextTokenizer):
    """A ``tokenizers.Tokenizer`` (word-level or BPE) behind the archzoo interface."""

    def __init__(self, tokenizer: Any) -> None:
        if tokenizer.token_to_id(PAD) != PAD_ID:
            raise ArchzooError(f"not an archzoo tokenizer: its padding token {PAD} must have id {PAD_ID}")
        self.tokenizer = tokenizer
        model_type = json.loads(tokenizer.to_str())["model"]["type"]
        self.kind = {"WordLevel": "word", "BPE": "bpe"}.get(model_type, model_type.lower())

    @classmethod
    def train_words(cls, texts: Iterable[str], vocab_size: int) -> LibraryTokenizer:
        """The ``vocab_size - 2`` most frequent lowercased words and punctuation marks
        (every word, when ``vocab_size`` is 0: as for characters, no limit)."""
        from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

        if vocab_size and vocab_size < 3:
            raise ArchzooError(f"a word vocabulary of {vocab_size} has no room for a word; give at least 3")
        tokenizer = Tokenizer(models.WordLevel(unk_token=UNK))
        tokenizer.normalizer = normalizers.Lowercase()
        tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()  # words, and runs of punctuation
        trainer = trainers.WordLevelTrainer(
            vocab_size=vocab_size or MAX_VOCABULARY, special_tokens=[PAD, UNK], show_progress=False
        )
        tokenizer.train_from_iterator(texts, trainer)
        if tokenizer.get_vocab_size() <= 2:
            raise ArchzooError("the training text holds no words to build a word vocabulary from; give more text")
        return cls(tokenizer)

    @classmethod
    def train_bpe(cls, texts: Iterable[str], vocab_size: int) -> LibraryTokenizer:
        """Byte-level BPE as GPT-2 has it: 256 byte tokens, then merges up to ``vocab_size``.
        Any text can be encoded (no unknown tokens) and decoding gives it back exactly."""
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

        tokenizer = Tokenizer(models.BPE())
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tokenizer.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=max(vocab_size, 258),
            special_tokens=[PAD, UNK],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
        tokenizer.train_from_iterator(texts, trainer)
        return cls(tokenizer)

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.get_vocab_size()

    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False).ids

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self.tokenizer.encode_batch(list(texts), add_special_tokens=False)]

    def decode(self, ids: Iterable[int]) -> str:
        return self.tokenizer.decode([int(i) for i in ids], skip_special_tokens=True)

    def to_json(self) -> str:
        return self.tokenizer.to_str()


# -- making and loading ---------------------------------------------------------------------


def train_tokenizer(kind: str, texts: Sequence[str], vocab_size: int) -> TextTokenizer:
    """Train a ``char``, ``word`` or ``bpe`` tokenizer on ``texts`` (a training split)."""
    if kind == "char":
        return CharTokenizer.train(texts, vocab_size)
    if kind == "word":
        return LibraryTokenizer.train_words(texts, vocab_size)
    if kind == "bpe":
        return LibraryTokenizer.train_bpe(texts, vocab_size)
    raise ArchzooError(f"unknown tokenizer {kind!r}; choose one of char, word, bpe")


def tokenizer_from_json(text: str | bytes, source: str = "tokenizer.json") -> TextTokenizer:
    """Rebuild a tokenizer from what :meth:`TextTokenizer.to_json` wrote.

    The file may come from anyone's checkpoint: it is parsed within archzoo's JSON
    limits and each kind's fields are checked, so a bad one is a message naming the field."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ArchzooError(f"{source} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    data = parse_json(text, source)
    kind = data.get("type") if isinstance(data, dict) else None
    if kind == "archzoo-char":
        chars = data.get("chars")
        if not isinstance(chars, list) or not all(isinstance(c, str) and len(c) == 1 for c in chars):
            raise ArchzooError(f"{source}: 'chars' must be a list of single characters")
        if len(chars) > MAX_VOCABULARY:
            raise ArchzooError(f"{source}: 'chars' lists {len(chars):,} characters; at most {MAX_VOCABULARY:,}")
        return CharTokenizer(chars)
    if kind == "archzoo-ids":
        size = data.get("vocab_size")
        if type(size) is not int or not 2 <= size <= MAX_VOCABULARY:
            raise ArchzooError(f"{source}: 'vocab_size' must be a whole number from 2 to {MAX_VOCABULARY:,}")
        return IdTokenizer(size)
    if isinstance(data, dict) and "model" in data:
        from tokenizers import Tokenizer

        try:
            return LibraryTokenizer(Tokenizer.from_str(text))
        except Exception as exc:  # the library's own parse errors
            raise ArchzooError(f"{source} is not a tokenizer archzoo can read: {exc}") from None
    raise ArchzooError(f"{source} is not a tokenizer archzoo can read")


def load_tokenizer(path: str | Path) -> TextTokenizer:
    path = Path(path)
    return tokenizer_from_json(path.read_bytes(), str(path))


def check_texts(texts: Sequence[str] | str, error: type[ArchzooError] = ArchzooError) -> list[str]:
    """The texts a person handed in, as a list; no texts at all, or an empty
    (or whitespace-only) one, is an ``error`` that says which."""
    texts = [texts] if isinstance(texts, str) else list(texts)
    if not texts:
        raise error("give at least one text")
    for number, text in enumerate(texts, start=1):
        if not isinstance(text, str) or not text.strip():
            where = f"text {number} of {len(texts)}" if len(texts) > 1 else "the text"
            raise error(f"{where} is empty (or only whitespace): give some words to read")
    return texts


def encode_texts(
    tokenizer: TextTokenizer | None,
    texts: Sequence[str],
    *,
    max_tokens: int = 0,
    error: type[ArchzooError] = ArchzooError,
) -> tuple[list[list[int]], list[str]]:
    """Token ids for texts a person typed, and notes on what was changed.

    Empty (or whitespace-only) text is an ``error`` that says which one; texts
    longer than ``max_tokens`` (when given) are cut, and a note says so.
    """
    if tokenizer is None:
        raise error("this model has no tokenizer, so it cannot read text (its checkpoint lacks tokenizer.json)")
    texts = check_texts(texts, error)
    encoded = tokenizer.encode_batch(texts)
    notes = []
    for number, ids in enumerate(encoded, start=1):
        if not ids:
            raise error(f"text {number} gives no tokens the model knows: {texts[number - 1]!r}")
        if max_tokens and len(ids) > max_tokens:
            notes.append(f"text {number}: {len(ids)} tokens, more than the model reads; cut to its first {max_tokens}")
    if max_tokens:
        encoded = [ids[:max_tokens] for ids in encoded]
    return encoded, notes
