"""Text datasets: what the sequence models of the lecture notes read.

Two shapes of text data, one per task:

- **text-classification**: each example is a sequence of token ids and a
  label.  Sequences differ in length, so batches are padded on the fly with
  :data:`~archzoo.tokenization.PAD_ID` (0) to the longest one in the batch
  (:func:`pad_batch`, the splits' ``collate``); a model recovers each
  sequence's length as ``(ids != 0).sum(1)`` and masks the padding.  A batch is
  ``(ids, labels)``, so the standard classification hooks apply unchanged.
- **text-generation**: one long stream of tokens (the documents joined by
  newlines) cut into windows of :data:`WINDOW` + 1 tokens; a language model
  reads the first ``WINDOW`` and predicts the last ``WINDOW``.  A batch is one
  ``(B, WINDOW + 1)`` tensor.

The datasets:

- ``sentiment-synthetic``: the notes' synthetic task, already token ids.
- ``sst2``: GLUE's SST-2 sentences; GLUE keeps the test labels secret, so the
  public dev set (872 sentences) is the test split here.
- ``sst2-sentences``: the same sentences as a corpus for a language model.
- ``sentences-synthetic``: a small corpus from a toy English grammar, so a
  character language model has something to learn offline in seconds.
- a CSV or TSV file given by path (text-classification), with the text and
  label columns named by ``text_column`` / ``label_column``
  (``--set text_column=review``);
- any other text file given by path (text-generation).

Tokenizers are trained on the training split only (:mod:`archzoo.data.tokenizers`)
and travel with the splits (``DatasetSplits.tokenizer``) into every
checkpoint.  A loaded checkpoint's tokenizer can be handed back in
``DataOptions.trained_tokenizer`` so that evaluation encodes new data exactly
as the model learned it.
"""

from __future__ import annotations

import csv
import io
import itertools
import os
import urllib.request
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from archzoo.data.splitting import check_val_fraction, split_indices
from archzoo.data.tokenizers import (
    PAD_ID,
    CharTokenizer,
    IdTokenizer,
    TextTokenizer,
    train_tokenizer,
)
from archzoo.data.types import SPLIT_SEED, DataInfo, DataOptions, DatasetSplits
from archzoo.errors import DataError
from archzoo.files import staged_file

#: Tokens a language model reads per training window (it predicts as many).
WINDOW = 128
#: Longest sequence a classifier is given; longer texts are cut (with a note).
MAX_TOKENS = 512
#: Share of the examples held out as the test split when a file has no test set of its own.
TEST_FRACTION = 0.1
#: Column names tried, in order, when ``text_column`` is not given.
TEXT_COLUMNS = ("text", "sentence", "content", "review", "document", "comment")


# -- datasets and batches ---------------------------------------------------------------------


class TokenSequences(Dataset):
    """Variable-length token sequences and their labels, stored flat: one
    int64 tensor of every token and the offsets where each sequence starts."""

    def __init__(self, sequences: list[np.ndarray] | list[list[int]], labels: np.ndarray) -> None:
        lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
        self.offsets = torch.from_numpy(np.concatenate([[0], np.cumsum(lengths)]))
        flat = np.fromiter(itertools.chain.from_iterable(sequences), dtype=np.int64, count=int(lengths.sum()))
        self.tokens = torch.from_numpy(flat)
        self.labels = torch.as_tensor(np.asarray(labels), dtype=torch.int64)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        start, end = int(self.offsets[index]), int(self.offsets[index + 1])
        return self.tokens[start:end], self.labels[index]

    def lengths(self) -> torch.Tensor:
        return self.offsets[1:] - self.offsets[:-1]

    def take(self, indices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """A whole batch at once (:mod:`archzoo.data.batches`): what :func:`pad_batch`
        makes of these examples, by one gather instead of a loop."""
        starts = self.offsets[indices]
        sizes = self.offsets[indices + 1] - starts
        positions = torch.arange(int(sizes.max()) if len(sizes) else 0, device=starts.device)
        inside = positions < sizes[:, None]
        gathered = self.tokens[(starts[:, None] + positions).clamp(max=max(len(self.tokens) - 1, 0))]
        return gathered.masked_fill(~inside, PAD_ID), self.labels[indices]

    @property
    def tensors(self) -> tuple[torch.Tensor, ...]:
        return self.offsets, self.tokens, self.labels

    def to(self, device: torch.device) -> TokenSequences:
        moved = object.__new__(TokenSequences)
        moved.offsets, moved.tokens, moved.labels = (t.to(device) for t in self.tensors)
        return moved


def pad_batch(items: list[tuple[torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Dynamic padding: ``(ids, label)`` pairs -> ``(B, T)`` ids padded with 0 to the
    longest in the batch, and ``(B,)`` labels."""
    sequences = [ids for ids, _ in items]
    longest = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), longest), PAD_ID, dtype=torch.int64)
    for row, sequence in enumerate(sequences):
        ids[row, : len(sequence)] = sequence
    return ids, torch.stack([torch.as_tensor(label) for _, label in items])


def bucket_by_length(
    order: torch.Tensor, lengths: torch.Tensor, batch_size: int, generator: torch.Generator, pool: int = 50
) -> torch.Tensor:
    """Length-bucketed batches from a shuffled ``order``: sort each run of
    ``pool`` batches' worth of examples by length, cut it into batches, then
    shuffle the batches, so each batch needs little padding and the epoch's
    order stays random (and a function of ``generator`` alone)."""
    batches = []
    step = max(batch_size * pool, 1)
    for start in range(0, len(order), step):
        chunk = order[start : start + step]
        chunk = chunk[torch.argsort(lengths[chunk], stable=True)]
        batches += list(chunk.split(batch_size))
    shuffled = torch.randperm(len(batches), generator=generator).tolist()
    return torch.cat([batches[i] for i in shuffled]) if batches else order


def pad_ids(sequences: list[list[int]]) -> torch.Tensor:
    """Token id lists (a person's texts, encoded) -> one padded ``(B, T)`` tensor."""
    return pad_batch([(torch.tensor(s, dtype=torch.int64), torch.tensor(0)) for s in sequences])[0]


def padding_mask(ids: torch.Tensor) -> torch.Tensor:
    """True where ``ids`` is padding."""
    return ids.eq(PAD_ID)


def lengths(ids: torch.Tensor) -> torch.Tensor:
    """Real length of each row of a padded batch."""
    return ids.ne(PAD_ID).sum(dim=1)


class TokenWindows(Dataset):
    """A token stream as consecutive windows of ``window + 1`` tokens (the last
    token of one window is the first of the next, so every token is predicted once)."""

    def __init__(self, stream: torch.Tensor, window: int = WINDOW) -> None:
        self.stream = stream
        self.window = min(window, max(len(stream) - 1, 1))
        self.count = max((len(stream) - 1) // self.window, 0)

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> torch.Tensor:
        if not 0 <= index < self.count:
            raise IndexError(index)
        start = index * self.window
        return self.stream[start : start + self.window + 1]

    def take(self, indices: torch.Tensor) -> torch.Tensor:
        """A whole batch of windows at once (:mod:`archzoo.data.batches`)."""
        on_host = indices.device.type == "cpu"  # a check on the device would wait for it every batch
        if on_host and len(indices) and not (0 <= int(indices.min()) and int(indices.max()) < self.count):
            raise IndexError(indices)
        offsets = torch.arange(self.window + 1, device=indices.device)
        return self.stream[indices[:, None] * self.window + offsets]

    @property
    def tensors(self) -> tuple[torch.Tensor, ...]:
        return (self.stream,)

    def to(self, device: torch.device) -> TokenWindows:
        moved = object.__new__(TokenWindows)
        moved.stream, moved.window, moved.count = self.stream.to(device), self.window, self.count
        return moved


# -- tables of text and labels ----------------------------------------------------------------


@dataclass(frozen=True)
class TextTable:
    """Texts and their label strings read from one file, and what was skipped."""

    texts: tuple[str, ...]
    labels: tuple[str, ...]
    text_column: str
    label_column: str
    notes: tuple[str, ...] = ()


def read_table(path: Path, text_column: str | None = None, label_column: str | None = None) -> TextTable:
    """Read a CSV or TSV file with a header row.

    The text column is ``text_column`` or else the first of :data:`TEXT_COLUMNS`
    present (or, with two columns, the one that is not the label); the label
    column is ``label_column`` or else ``label``.  A column that is not there is
    an error listing those that are.  Rows with empty text are skipped (a note
    says which lines); a row with no label is an error naming its line.
    """
    stat = path.stat()
    return _read_table(str(path), stat.st_mtime_ns, stat.st_size, text_column, label_column)


@lru_cache(maxsize=8)
def _read_table(
    path_text: str, _mtime: int, _size: int, text_column: str | None, label_column: str | None
) -> TextTable:
    path = Path(path_text)
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 text ({exc})") from None
    tsv = path.suffix.lower() in (".tsv", ".tab") or (path.suffix.lower() != ".csv" and "\t" in raw.split("\n", 1)[0])
    reader = (
        csv.reader(io.StringIO(raw), delimiter="\t", quoting=csv.QUOTE_NONE) if tsv else csv.reader(io.StringIO(raw))
    )
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise DataError(f"{path} is empty: a text table needs a header row, then one row per example") from None
    label_name = label_column or "label"
    if label_name not in header:
        raise DataError(
            f"{path} has no label column '{label_name}'; its columns are {', '.join(map(repr, header))} "
            f"(name the label column with --set label_column=NAME)"
        )
    text_name = text_column or _guess_text_column(header, label_name)
    if text_name is None or text_name not in header:
        wanted = (
            f"no text column '{text_name}'" if text_name else "no column named " + " or ".join(map(repr, TEXT_COLUMNS))
        )
        raise DataError(
            f"{path} has {wanted}; its columns are {', '.join(map(repr, header))} "
            f"(name the text column with --set text_column=NAME)"
        )
    t, l = header.index(text_name), header.index(label_name)
    texts, labels, empty = [], [], []
    for line, row in enumerate(reader, start=2):
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # a blank line
        if len(row) != len(header):
            raise DataError(f"{path}, line {line}: {len(row)} fields, but the header has {len(header)}")
        text, label = row[t].strip(), row[l].strip()
        if not text:
            empty.append(line)
            continue
        if not label:
            raise DataError(f"{path}, line {line}: the label ('{label_name}') is empty")
        texts.append(text)
        labels.append(label)
    notes = []
    if empty:
        shown = ", ".join(map(str, empty[:5])) + (f" and {len(empty) - 5} more" if len(empty) > 5 else "")
        notes.append(
            f"{path.name}: skipped {len(empty)} row{'s' if len(empty) > 1 else ''} with empty text "
            f"(line{'s' if len(empty) > 1 else ''} {shown})"
        )
    if not texts:
        raise DataError(f"{path} has no rows with text in column '{text_name}'")
    return TextTable(tuple(texts), tuple(labels), text_name, label_name, tuple(notes))


def _guess_text_column(header: list[str], label_name: str) -> str | None:
    lowered = {h.lower(): h for h in header}
    for candidate in TEXT_COLUMNS:
        if candidate in lowered:
            return lowered[candidate]
    others = [h for h in header if h != label_name]
    return others[0] if len(others) == 1 else None


def label_ids(
    labels: tuple[str, ...], class_names: tuple[str, ...] | None, source: str
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Label strings -> ids.  Without ``class_names`` the classes are the labels
    seen, sorted (numerically when they are all whole numbers); with them (a
    checkpoint's classes) a label outside them is an error."""
    if class_names is None:
        seen = set(labels)
        numeric = all(_is_int(s) for s in seen)
        class_names = tuple(sorted(seen, key=int if numeric else str))
    index = {name: i for i, name in enumerate(class_names)}
    unseen = sorted(set(labels) - set(index))
    if unseen:
        raise DataError(
            f"{source}: label{'s' if len(unseen) > 1 else ''} {', '.join(map(repr, unseen[:5]))} "
            f"{'are' if len(unseen) > 1 else 'is'} not among the model's classes ({', '.join(class_names)})"
        )
    return np.fromiter((index[s] for s in labels), dtype=np.int64, count=len(labels)), class_names


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


# -- making splits --------------------------------------------------------------------------


def _tokenizer_for(options: DataOptions, texts: list[str], default_kind: str, default_vocab: int) -> TextTokenizer:
    """The checkpoint's tokenizer when one is given, else one trained on ``texts`` (the training split)."""
    if options.trained_tokenizer is not None:
        return options.trained_tokenizer
    kind = options.tokenizer or default_kind
    return _trained(kind, tuple(texts), options.vocab_size or default_vocab)


@lru_cache(maxsize=4)
def _trained(kind: str, texts: tuple[str, ...], vocab_size: int) -> TextTokenizer:
    return train_tokenizer(kind, texts, vocab_size)


#: (tokenizer JSON, texts) -> their token ids; a few recent ones, so a second
#: load of the same data (evaluating a checkpoint, say) does not encode again.
_ENCODED: dict[tuple[str, tuple[str, ...]], list[list[int]]] = {}


def _encode(tokenizer: TextTokenizer, texts: tuple[str, ...]) -> list[list[int]]:
    key = (tokenizer.to_json(), texts)
    if key not in _ENCODED:
        while len(_ENCODED) >= 4:
            _ENCODED.pop(next(iter(_ENCODED)))
        _ENCODED[key] = tokenizer.encode_batch(list(texts))
    return _ENCODED[key]


def classification_splits(
    name: str,
    texts: tuple[str, ...],
    labels: np.ndarray,
    class_names: tuple[str, ...],
    options: DataOptions,
    *,
    test: tuple[tuple[str, ...], np.ndarray] | None = None,
    default_kind: str = "word",
    default_vocab: int = 10_000,
    notes: list[str] | None = None,
) -> DatasetSplits:
    """Texts and label ids -> padded-batch splits with a tokenizer trained on the training split.

    Without a separate ``test`` set, :data:`TEST_FRACTION` of the texts is held
    out for it; ``val_fraction`` of the rest is validation.
    """
    notes = list(notes or [])
    train_idx, val_idx, test_idx = split_indices(len(texts), 0.0 if test else TEST_FRACTION, options.val_fraction)
    train_texts = [texts[i] for i in np.sort(train_idx)]
    tokenizer = _tokenizer_for(options, train_texts, default_kind, default_vocab)
    encoded = _encode(tokenizer, texts)
    # A pretrained encoder's tokenizer says how much it reads (archzoo.encoders.EncoderTokenizer).
    limit = getattr(tokenizer, "max_tokens", None) or MAX_TOKENS
    cut = sum(len(ids) > limit for ids in encoded)
    if cut:
        notes.append(f"cut {cut} text{'s' if cut > 1 else ''} longer than {limit} tokens to {limit}")
    encoded = [ids[:limit] or [tokenizer_unknown(tokenizer)] for ids in encoded]

    def part(idx: np.ndarray, source: list[list[int]] = encoded, y: np.ndarray = labels) -> TokenSequences | None:
        return TokenSequences([source[i] for i in idx], y[idx]) if len(idx) else None

    if test is not None:
        test_encoded = [ids[:limit] or [tokenizer_unknown(tokenizer)] for ids in _encode(tokenizer, test[0])]
        test_part = part(np.arange(len(test_encoded)), test_encoded, test[1])
    else:
        test_part = part(test_idx)
    info = DataInfo(
        name, "text-classification", (), len(class_names), tuple(class_names), vocab_size=tokenizer.vocab_size
    )
    train = part(train_idx)
    return DatasetSplits(
        info,
        train,
        part(val_idx),
        test_part,
        notes,
        collate=pad_batch,
        tokenizer=tokenizer,
        lengths=train.lengths() if train is not None else None,
    )


def tokenizer_unknown(tokenizer: TextTokenizer) -> int:
    """A token for a text that encodes to nothing (only characters the tokenizer drops)."""
    return 1 if tokenizer.vocab_size > 1 else PAD_ID


def contiguous_indices(n: int, test_fraction: float, val_fraction: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(train, validation, test) indices in order, for one running text: the
    test share is the end, the validation share just before it."""
    n_test = round(n * test_fraction)
    n_val = round((n - n_test) * val_fraction)
    cut = n - n_test - n_val
    if cut < 1:
        raise DataError(f"{n} lines are too few to split into train, validation and test sets")
    return np.arange(cut), np.arange(cut, n - n_test), np.arange(n - n_test, n)


def corpus_splits(
    name: str,
    documents: list[str],
    options: DataOptions,
    *,
    test_documents: list[str] | None = None,
    contiguous: bool = False,
    default_kind: str = "char",
    default_vocab: int = 0,
    notes: list[str] | None = None,
) -> DatasetSplits:
    """Documents -> train/validation/test token streams in windows for a language model.

    The documents are split (shuffled with :data:`SPLIT_SEED`, or in order for
    one running text: ``contiguous``), each split's documents are joined by
    newlines, and the tokenizer is trained on the training documents.
    """
    check_val_fraction(options.val_fraction)
    documents = [d for d in documents if d.strip()]
    if not documents:
        raise DataError(f"{name}: the corpus has no text")
    n = len(documents)
    test_share = 0.0 if test_documents is not None else TEST_FRACTION
    if contiguous:
        train_idx, val_idx, test_idx = contiguous_indices(n, test_share, options.val_fraction)
    else:
        train_idx, val_idx, test_idx = (np.sort(i) for i in split_indices(n, test_share, options.val_fraction))
    train_docs = [documents[i] for i in train_idx]
    # The newline that joins documents is a token too, even where no document holds one.
    tokenizer = _tokenizer_for(options, [*train_docs, "\n"], default_kind, default_vocab)

    def stream(docs: list[str]) -> TokenWindows | None:
        if not docs:
            return None
        text = "\n".join(docs) + "\n"
        if isinstance(tokenizer, CharTokenizer):
            ids = tokenizer.encode_array(text)
        else:
            separator = tokenizer.encode("\n")
            ids = np.fromiter(
                itertools.chain.from_iterable(d + separator for d in tokenizer.encode_batch(docs)), dtype=np.int64
            )
        windows = TokenWindows(torch.from_numpy(np.ascontiguousarray(ids, dtype=np.int64)))
        return windows if len(windows) else None

    test_docs = test_documents if test_documents is not None else [documents[i] for i in test_idx]
    info = DataInfo(name, "text-generation", (), 0, (), vocab_size=tokenizer.vocab_size)
    return DatasetSplits(
        info,
        stream(train_docs),
        stream([documents[i] for i in val_idx]),
        stream(test_docs),
        list(notes or []),
        tokenizer=tokenizer,
    )


# -- sentiment-synthetic ----------------------------------------------------------------------

SYNTHETIC_SIZE, SYNTHETIC_VOCAB, SYNTHETIC_LENGTHS = 5000, 1000, (5, 49)


@lru_cache(maxsize=1)
def synthetic_sentiment() -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """The lecture notes' synthetic sentiment task: 5,000 sequences of 5 to 49
    tokens drawn uniformly from 1..999 (0 is padding), labelled positive when
    their mean token is above 500.  Generated from :data:`SPLIT_SEED`."""
    rng = np.random.default_rng(SPLIT_SEED)
    low, high = SYNTHETIC_LENGTHS
    lengths = rng.integers(low, high + 1, SYNTHETIC_SIZE)
    sequences = tuple(rng.integers(1, SYNTHETIC_VOCAB, length) for length in lengths)
    labels = np.array([int(s.mean() > 500) for s in sequences], dtype=np.int64)
    return sequences, labels


def load_sentiment_synthetic(options: DataOptions) -> DatasetSplits:
    """80% train (less ``val_fraction`` for validation) and 20% test, as in the notes."""
    sequences, labels = synthetic_sentiment()
    train_idx, val_idx, test_idx = split_indices(len(labels), 0.2, options.val_fraction)

    def part(idx: np.ndarray) -> TokenSequences | None:
        return TokenSequences([sequences[i] for i in idx], labels[idx]) if len(idx) else None

    info = DataInfo(
        "sentiment-synthetic", "text-classification", (), 2, ("negative", "positive"), vocab_size=SYNTHETIC_VOCAB
    )
    train = part(train_idx)
    return DatasetSplits(
        info,
        train,
        part(val_idx),
        part(test_idx),
        collate=pad_batch,
        tokenizer=IdTokenizer(SYNTHETIC_VOCAB),
        lengths=train.lengths(),
    )


# -- SST-2 ----------------------------------------------------------------------------------

SST2_URL = "https://dl.fbaipublicfiles.com/glue/data/SST-2.zip"
SST2_CLASSES = ("negative", "positive")
SST2_TEST_NOTE = "GLUE keeps SST-2's test labels secret: the public dev set (872 sentences) is the test split"


def sst2_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "archzoo" / "sst2"


def locate_sst2(options: DataOptions) -> Path:
    """The folder holding ``train.tsv`` (and ``dev.tsv``): ``data_dir``, else the
    download cache, else a download (only with ``options.download``)."""
    if options.data_dir is not None:
        folder = Path(options.data_dir).expanduser()
        if not folder.is_dir():
            raise DataError(f"sst2: data folder {folder} does not exist")
        found = _sst2_folder(folder)
        if found is None:
            raise DataError(
                f"sst2: no train.tsv in {folder} (or {folder / 'SST-2'}); it needs GLUE's SST-2 train.tsv and dev.tsv"
            )
        return found
    cached = _sst2_folder(sst2_cache_dir())
    if cached is not None:
        return cached
    if options.download:
        return download_sst2(sst2_cache_dir())
    raise DataError(
        f"sst2 is not on this machine: give the folder holding GLUE's SST-2 train.tsv and dev.tsv "
        f"(--data-dir DIR, or DataOptions(data_dir=DIR)), or allow the download of {SST2_URL} "
        f"(7 MB) into {sst2_cache_dir()} with --download"
    )


def _sst2_folder(folder: Path) -> Path | None:
    for candidate in (folder, folder / "SST-2"):
        if (candidate / "train.tsv").is_file():
            return candidate
    return None


def download_sst2(cache: Path) -> Path:
    """Fetch GLUE's SST-2 zip and keep its train.tsv and dev.tsv in ``cache``."""
    cache.mkdir(parents=True, exist_ok=True)
    try:
        with urllib.request.urlopen(SST2_URL, timeout=60) as response:
            payload = response.read()
    except OSError as exc:
        raise DataError(f"could not download SST-2 from {SST2_URL}: {exc}") from None
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        for name in ("train.tsv", "dev.tsv"):
            member = next((m for m in archive.namelist() if m.endswith(f"SST-2/{name}")), None)
            if member is None:
                raise DataError(f"the SST-2 download has no {name}")
            with staged_file(cache / name) as partial:
                partial.write_bytes(archive.read(member))
    return cache


def _sst2_tables(options: DataOptions) -> tuple[TextTable, TextTable | None, list[str]]:
    folder = locate_sst2(options)
    train = read_table(folder / "train.tsv")
    notes = list(train.notes)
    if (folder / "dev.tsv").is_file():
        dev = read_table(folder / "dev.tsv")
        notes += list(dev.notes)
    else:
        dev = None
        notes.append(f"no dev.tsv in {folder}: the sst2 test split is empty")
    return train, dev, notes


def _sst2_labels(table: TextTable, source: str) -> np.ndarray:
    ids, _ = label_ids(table.labels, ("0", "1"), source)
    return ids


def load_sst2(options: DataOptions) -> DatasetSplits:
    """GLUE SST-2: train.tsv split into train and validation, dev.tsv as the test split.
    The tokenizer (words by default, 10,000 of them) is trained on the training split."""
    train, dev, notes = _sst2_tables(options)
    notes.append(SST2_TEST_NOTE)
    test = (dev.texts, _sst2_labels(dev, "sst2 dev.tsv")) if dev is not None else ((), np.zeros(0, dtype=np.int64))
    return classification_splits(
        "sst2",
        train.texts,
        _sst2_labels(train, "sst2 train.tsv"),
        SST2_CLASSES,
        options,
        test=test,
        default_kind="word",
        default_vocab=10_000,
        notes=notes,
    )


def load_sst2_sentences(options: DataOptions) -> DatasetSplits:
    """SST-2's sentences (labels ignored) as a corpus for a language model:
    train.tsv's split into train and validation, dev.tsv's as the test split."""
    train, dev, notes = _sst2_tables(options)
    return corpus_splits(
        "sst2-sentences",
        list(train.texts),
        options,
        test_documents=list(dev.texts) if dev else [],
        default_kind="char",
        default_vocab=0,
        notes=notes,
    )


# -- sentences-synthetic ------------------------------------------------------------------------

_GRAMMAR = {
    "det": ("the", "a", "every", "one", "my", "your", "that"),
    "adj": ("small", "quiet", "clever", "old", "happy", "dark", "bright", "lazy", "brave", "strange"),
    "noun": ("cat", "dog", "child", "teacher", "river", "robot", "garden", "story", "movie", "bird", "city", "song"),
    "verb": ("sees", "likes", "follows", "finds", "remembers", "paints", "watches", "helps", "loves", "forgets"),
    "adv": ("slowly", "again", "today", "quietly", "at night", "with care", "every day"),
    "prep": ("near", "behind", "under", "beside", "after"),
}
SENTENCE_COUNT = 3000


@lru_cache(maxsize=1)
def synthetic_sentences() -> tuple[str, ...]:
    """Sentences from a toy grammar, e.g. "the clever robot paints a song near my garden ."."""
    rng = np.random.default_rng(SPLIT_SEED)

    def pick(kind: str) -> str:
        words = _GRAMMAR[kind]
        return words[int(rng.integers(len(words)))]

    def phrase() -> str:
        words = [pick("det")]
        if rng.random() < 0.5:
            words.append(pick("adj"))
        words.append(pick("noun"))
        return " ".join(words)

    sentences = []
    for _ in range(SENTENCE_COUNT):
        words = [phrase(), pick("verb"), phrase()]
        if rng.random() < 0.4:
            words += [pick("prep"), phrase()]
        if rng.random() < 0.3:
            words.append(pick("adv"))
        sentences.append(" ".join(words) + " .")
    return tuple(sentences)


def load_sentences_synthetic(options: DataOptions) -> DatasetSplits:
    """3,000 toy-grammar sentences, character tokens by default: small enough for a
    language model to learn in seconds on a CPU, so its samples show whether it learned."""
    return corpus_splits("sentences-synthetic", list(synthetic_sentences()), options, default_kind="char")


# -- files given by path -------------------------------------------------------------------------

TABLE_SUFFIXES = (".csv", ".tsv", ".tab")


def load_text_file(path: Path, options: DataOptions) -> DatasetSplits:
    """A CSV/TSV table (text-classification) or any other text file (a corpus for
    text-generation, one document per line, split in order: the last 10% of
    lines is the test split and the ``val_fraction`` before it validation)."""
    path = Path(path).expanduser()
    if path.suffix.lower() in TABLE_SUFFIXES:
        return load_text_table(path, options)
    return load_text_corpus(path, options)


def load_text_table(path: Path, options: DataOptions) -> DatasetSplits:
    """A CSV or TSV file with a text and a label column; the tokenizer (words by default)
    is trained on its training split."""
    check_val_fraction(options.val_fraction)
    table = read_table(path, options.text_column, options.label_column)
    labels, class_names = label_ids(table.labels, options.class_names, str(path))
    notes = list(table.notes)
    if len(class_names) < 2:
        notes.append(
            f"{path.name} has a single class ('{class_names[0]}'); a classifier needs at least two to learn anything"
        )
    return classification_splits(
        path.name,
        table.texts,
        labels,
        class_names,
        options,
        default_kind="word",
        default_vocab=10_000,
        notes=notes,
    )


def load_text_corpus(path: Path, options: DataOptions) -> DatasetSplits:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 text ({exc})") from None
    lines = [line for line in text.splitlines() if line.strip()]
    return corpus_splits(path.name, lines, options, contiguous=True, default_kind="char")


def clear_caches() -> None:
    """Forget every table read, tokenizer trained and text encoded in this process."""
    for cached in (_read_table, _trained, synthetic_sentiment, synthetic_sentences):
        cached.cache_clear()
    _ENCODED.clear()
