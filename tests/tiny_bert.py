"""A tiny, randomly initialised BERT with a small WordPiece vocabulary, built
locally in a second: what the fast tests of ``bert-features`` and ``lora`` run
on (the real all-MiniLM-L6-v2 is used by one end-to-end test).

It is a real ``transformers.BertModel`` saved with ``save_pretrained``
(safetensors) beside a real ``tokenizers`` WordPiece ``tokenizer.json``, so
archzoo reads it exactly as it reads a downloaded encoder.  Its positions are
few (64), so SST-2's longer sentences exceed it and the truncation path runs.
"""

from __future__ import annotations

import csv
import tempfile
from collections import Counter
from functools import lru_cache
from pathlib import Path

SST2 = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "sst2"
MAX_POSITIONS = 64


def sst2_rows(count: int, split: str = "train.tsv", start: int = 0) -> list[tuple[str, str]]:
    """The first ``count`` (sentence, label) rows of a real SST-2 file, after ``start``."""
    with open(SST2 / split, encoding="utf-8") as handle:
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader)
        text = header.index("sentence" if "sentence" in header else "content")
        label = header.index("label")
        rows = [(r[text], r[label]) for r in reader]
    return rows[start : start + count]


def write_csv(
    path: Path, rows: list[tuple[str, str]], text_column: str = "review", label_column: str = "sentiment"
) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([text_column, label_column])
        writer.writerows(rows)
    return path


def build(folder: Path, texts: list[str]) -> Path:
    import torch
    from tokenizers import (
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )
    from transformers import BertConfig, BertModel

    folder.mkdir(parents=True, exist_ok=True)
    # The vocabulary is made by hand, not by a trainer, so it is the same on every run:
    # the special tokens, every character (alone and as a "##" continuation), and the
    # 300 most frequent lowercased words (ties broken alphabetically).
    words: Counter[str] = Counter()
    for text in texts:
        words.update(w for w in text.lower().split() if w.isalpha())
    chars = sorted({c for text in texts for c in text.lower() if not c.isspace()})
    frequent = [w for w, _ in sorted(words.items(), key=lambda kv: (-kv[1], kv[0]))[:300]]
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars, *(f"##{c}" for c in chars), *frequent]
    vocab = {token: i for i, token in enumerate(dict.fromkeys(tokens))}
    tokenizer = Tokenizer(models.WordPiece(vocab=vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
    )
    tokenizer.decoder = decoders.WordPiece()
    tokenizer.save(str(folder / "tokenizer.json"))
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tokenizer.get_vocab_size(),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=MAX_POSITIONS,
        pad_token_id=0,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,  # a fixed batch gives a falling loss, as the contract checks
    )
    BertModel(config, add_pooling_layer=False).save_pretrained(folder)
    return folder


@lru_cache(maxsize=1)
def tiny_bert() -> Path:
    """The tiny encoder's folder (built once per test process)."""
    folder = Path(tempfile.mkdtemp(prefix="archzoo-tiny-bert-")) / "tiny-bert"
    return build(folder, [text for text, _ in sst2_rows(3000)])


def tiny_splits(spec, overrides: dict, path: Path | None = None):
    """Real SST-2 rows (a CSV by path) read with the architecture's own tokenizer (the
    ``text_tokenizer`` hook), as ``archzoo train`` reads them."""
    from archzoo.data import DataOptions, load_dataset
    from archzoo.registry.config import build_config
    from archzoo.registry.host import get_host

    if path is None:
        path = write_csv(Path(tiny_bert()).parent / "contract.csv", sst2_rows(200, start=1000))
    config = build_config(spec.config, overrides)
    tokenizer = get_host().hooks(spec).text_tokenizer(config)
    return load_dataset(
        str(path), DataOptions(trained_tokenizer=tokenizer, text_column="review", label_column="sentiment")
    )


#: Model settings for the contract suite on the tiny encoder (LoRA without dropout, so
#: eight steps on one batch lower the loss steadily).
CONTRACT_OVERRIDES = {"bert-features": {}, "lora": {"dropout": 0.0}}
CONTRACT_LR = {"bert-features": 5e-2, "lora": 1e-2}


def contract_attributes(architecture: str) -> dict:
    """Class attributes that run archzoo's ContractSuite for ``bert-features`` or ``lora``
    on the tiny encoder and real SST-2 rows (their default, the real MiniLM on all of
    SST-2, is for benchmarks).  The encoder is built when the suite first needs it."""

    def overrides(self) -> dict:
        return {"encoder": str(tiny_bert()), **CONTRACT_OVERRIDES[architecture]}

    def make_splits(self, spec):
        return tiny_splits(spec, self.overrides)

    return {"overrides": property(overrides), "make_splits": make_splits, "lr": CONTRACT_LR[architecture]}
