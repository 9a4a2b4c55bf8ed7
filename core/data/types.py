"""Datasets as the trainer sees them: splits of (input, label) pairs plus what
the model needs to know about them.

A dataset is registered as a :class:`archzoo.DatasetSpec` whose loader returns
:class:`DatasetSplits`.  Inputs are float tensors already scaled and
normalised; :class:`DataInfo` records how (``mean``, ``std``), so that
``predict`` can prepare a user's own image the same way from a checkpoint.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: Splits are always drawn with this seed, so runs with different training
#: seeds are judged on the same validation and test examples.
SPLIT_SEED = 20240521

#: The file every checkpoint of a text model keeps its tokenizer in (:mod:`archzoo.data.tokenizers`).
TOKENIZER_FILE = "tokenizer.json"


@dataclass(frozen=True)
class DataOptions:
    """How to find and split a dataset."""

    data_dir: Path | None = None
    val_fraction: float = 0.1
    download: bool = False
    image_size: int | None = None
    # Text datasets (see archzoo.text_data); image datasets ignore these.
    #: CSV/TSV given by path: the column with the text, and the one with the label.
    text_column: str | None = None
    label_column: str | None = None
    #: Tokenizer kind to train on the training split ("char", "word", "bpe"); None: the dataset's own.
    tokenizer: str | None = None
    #: Vocabulary size of a trained word or BPE tokenizer; None: the dataset's default.
    vocab_size: int | None = None
    #: A ready tokenizer (a checkpoint's) to encode with instead of training one.
    trained_tokenizer: Any = None
    #: Class names to map labels onto (a checkpoint's); a label outside them is an error.
    class_names: tuple[str, ...] | None = None
    #: The settings the dataset's name carries (``sine:points=50`` -> ``(("points", "50"),)``;
    #: :mod:`archzoo.registry.datanames`), put here by :func:`archzoo.data.loading.load_dataset`.
    settings: tuple[tuple[str, str], ...] = ()


def data_options(train: Any, **more: Any) -> DataOptions:
    """DataOptions from training settings (a TrainConfig, or the ``train`` dict a
    checkpoint's config.json keeps), so evaluation reads data as training did.
    ``more`` sets the other fields (``data_dir``, ``download``, ...)."""

    def get(name: str, default: Any = None) -> Any:
        return train.get(name, default) if isinstance(train, dict) else getattr(train, name, default)

    tokenizer = get("tokenizer")
    return DataOptions(
        val_fraction=float(get("val_fraction", 0.1)),
        text_column=get("text_column") or None,
        label_column=get("label_column") or None,
        tokenizer=None if tokenizer in (None, "", "auto") else tokenizer,
        vocab_size=int(get("tokenizer_vocab") or 0) or None,
        **more,
    )


@dataclass(frozen=True)
class DataInfo:
    """What a model must know about its data; saved in every checkpoint's config.json."""

    name: str
    task: str
    input_shape: tuple[int, ...]
    num_classes: int
    class_names: tuple[str, ...]
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()
    #: Text datasets: how many token ids the tokenizer can produce (embedding rows).
    vocab_size: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DataInfo:
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


@dataclass
class DatasetSplits:
    """Train, validation and test splits (``torch.utils.data.Dataset`` objects).

    ``notes`` are things the user should be told (a split that is missing, a
    conversion that was made); the CLI prints them and the UI shows them.
    """

    info: DataInfo
    train: Any
    val: Any
    test: Any
    notes: list[str] = field(default_factory=list)
    #: How to make a batch from examples (text needs padding, a graph is one
    #: batch); ``None`` means PyTorch's default collation.
    collate: Any = None
    #: Text datasets: the tokenizer the texts were encoded with
    #: (:mod:`archzoo.data.tokenizers`); every checkpoint keeps it as tokenizer.json.
    tokenizer: Any = None
    #: Length of each training example (a tensor), or None: when given, the
    #: trainer batches examples of similar length together, so less padding
    #: (unless the run's ``bucket_batches`` setting is off).
    lengths: Any = None

    def checkpoint_files(self) -> dict[str, str]:
        """Files this data adds to every checkpoint trained on it: its tokenizer."""
        if self.tokenizer is None:
            return {}
        return {TOKENIZER_FILE: self.tokenizer.to_json()}
