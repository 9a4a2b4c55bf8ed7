"""bert-features: a frozen BERT encoder's features and a linear head (issue #5).

The fast checks run on a tiny, randomly initialised BERT built from a
``BertConfig`` and a WordPiece vocabulary trained on SST-2 sentences
(``tests/tiny_bert.py``); data is real SST-2 rows from ``../shared/data/sst2``,
read as a CSV by path.  The contract suite runs on the same tiny encoder in
``test_contract.py``; ``test_real_minilm.py`` runs the real all-MiniLM-L6-v2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

from archzoo.errors import ArchzooError, ConfigError, DataError, EncoderError

sys.path.insert(0, str(Path(__file__).parent))
from tiny_bert import MAX_POSITIONS, sst2_rows, tiny_bert, tiny_splits, write_csv


@pytest.fixture(autouse=True)
def feature_cache_dir(tmp_path_factory, monkeypatch):
    """Features are cached under a test folder, never in the user's ~/.cache."""
    folder = tmp_path_factory.getbasetemp() / "feature-cache"
    monkeypatch.setenv("ARCHZOO_FEATURE_CACHE", str(folder))
    return folder


@pytest.fixture(scope="module")
def reviews(tmp_path_factory) -> Path:
    """300 real SST-2 training rows as a CSV with its own column names."""
    return write_csv(tmp_path_factory.mktemp("data") / "reviews.csv", sst2_rows(300))


def train_tiny(store, reviews, out="probe", **more):
    from archzoo.api import train

    overrides = {
        "encoder": str(tiny_bert()),
        "epochs": 2,
        "batch_size": 32,
        "lr": 5e-2,
        "text_column": "review",
        "label_column": "sentiment",
        **more,
    }
    return train("bert-features", dataset=str(reviews), overrides=overrides, out=out)


# -- what the checkpoint holds -------------------------------------------------------------------


def test_a_checkpoint_keeps_the_head_and_the_encoders_tokenizer_not_the_encoder(store, reviews):
    from safetensors.torch import load_file

    import archzoo

    result = train_tiny(store, reviews)
    best = result.best_dir
    weights = load_file(best / "model.safetensors")
    assert sorted(weights) == ["head.bias", "head.weight"]
    assert tuple(weights["head.weight"].shape) == (2, 32)  # hidden 32 -> 2 classes: the only trained part
    meta = json.loads((best / "config.json").read_text())
    assert meta["task"] == "feature-extraction"  # what it does, though it learned from labelled text
    assert set(meta["files"]) == {"tokenizer.json"}
    saved, original = (json.loads(p.read_text()) for p in (best / "tokenizer.json", tiny_bert() / "tokenizer.json"))
    assert saved["model"]["vocab"] == original["model"]["vocab"]  # the encoder's own vocabulary, not a trained one
    loaded = archzoo.load(best)
    assert torch.equal(loaded.model.head.weight, weights["head.weight"])
    assert (
        meta["parameters"]
        == sum(p.numel() for p in loaded.model.parameters())
        == 66 + sum(p.numel() for p in loaded.model.encoder.parameters())
    )
    assert archzoo.evaluate_checkpoint(best)["accuracy"] == pytest.approx(result.test_metrics["accuracy"])


def test_the_second_run_reads_every_feature_from_the_cache(store, reviews, feature_cache_dir, monkeypatch):
    from archzoo.plugins.bert_features.model import BertFeatures
    from archzoo.toolkit import feature_cache

    first = train_tiny(store, reviews)
    shards = list(feature_cache_dir.rglob("*.safetensors"))
    assert shards, "the first run wrote no feature shards"
    stored = sum(
        __import__("safetensors.torch", fromlist=["load_file"]).load_file(p)["features"].shape[0] for p in shards
    )
    assert stored >= 270  # every training, validation and test text (some repeat)

    feature_cache.forget()  # as a new process would: only the files remain

    def no_encoder(self, ids):
        raise AssertionError("the encoder ran although every feature was cached")

    monkeypatch.setattr(BertFeatures, "encode", no_encoder)
    second = train_tiny(store, reviews, out="rerun")
    assert second.test_metrics["accuracy"] == pytest.approx(first.test_metrics["accuracy"])


def test_sample_returns_features_and_embed_writes_them(store, reviews, tmp_path, capsys):
    from safetensors import safe_open

    from archzoo.cli import main
    from archzoo.inference.features import extract_features

    best = train_tiny(store, reviews).best_dir
    texts = tmp_path / "texts.txt"
    texts.write_text("a gorgeous , witty film\n\n  dull and long  \n", encoding="utf-8")
    out = tmp_path / "feats.safetensors"
    assert main(["embed", str(best), str(texts), "--text", "the best movie of the year", "--out", str(out)]) == 0
    with safe_open(str(out), "pt") as handle:
        features = handle.get_tensor("features")
        meta = handle.metadata()
    assert tuple(features.shape) == (3, 32) and meta["count"] == "3"

    shown = extract_features(best, "a gorgeous , witty film\ndull and long\nthe best movie of the year")
    assert torch.allclose(torch.tensor(shown.vectors), features, atol=1e-5)  # the UI's path gives the same vectors
    assert shown.similarity[0][0] == pytest.approx(1.0, abs=1e-5)

    with pytest.raises(ArchzooError, match="is a feature extractor.*archzoo embed"):
        __import__("archzoo").predict(best, ["a gorgeous , witty film"])

    before = out.read_bytes()
    assert main(["embed", str(best), "--text", "other", "--out", str(out)]) == 2  # never overwritten silently
    assert "already exists" in capsys.readouterr().err and out.read_bytes() == before


# -- bad input ------------------------------------------------------------------------------------


def test_empty_and_whitespace_texts_are_errors_that_say_which(store, reviews):
    import archzoo
    from archzoo.api import sample_checkpoint

    loaded = archzoo.load(train_tiny(store, reviews).best_dir)
    for texts, which in ((["fine", "   "], "text 2 of 2"), ([""], "the text")):
        with pytest.raises(EncoderError, match=which + ".*empty"):
            sample_checkpoint(loaded, {"texts": texts})


def test_texts_longer_than_the_encoder_are_cut_with_a_note(store, reviews):
    import archzoo
    from archzoo.api import sample_checkpoint

    loaded = archzoo.load(train_tiny(store, reviews).best_dir)
    long_text = " ".join(["remarkably"] * 200)
    result = sample_checkpoint(loaded, {"texts": ["short", long_text]})
    assert result.outputs["features"].shape[0] == 2
    (note,) = result.outputs["notes"]
    assert note.startswith("text 2:") and f"cut to its first {MAX_POSITIONS - 2}" in note
    # a training set with such a text says so too
    rows = sst2_rows(60) + [(long_text, "1")]
    splits = tiny_splits(
        archzoo.registry.host.get_host().architecture("bert-features"),
        {"encoder": str(tiny_bert())},
        write_csv(store / "long.csv", rows),
    )
    assert any(f"longer than {MAX_POSITIONS - 2} tokens" in n for n in splits.notes)
    assert max(len(splits.train[i][0]) for i in range(len(splits.train))) <= MAX_POSITIONS - 2


def test_a_resumed_run_reads_text_with_the_encoders_tokenizer_and_its_limit(store, reviews):
    from archzoo.api import plan_run, run_tokenizer, train
    from archzoo.registry.host import get_host

    first = train_tiny(store, reviews, out="resumed", epochs=1)
    plan = plan_run("bert-features", overrides={"encoder": str(tiny_bert())})
    tokenizer = run_tokenizer(plan, first.best_dir.parent, resume=True, host=get_host())
    # the encoder's tokenizer (two positions kept for [CLS] and [SEP]), not tokenizer.json's plain 512 cap
    assert tokenizer.max_tokens == MAX_POSITIONS - 2 and "WordPiece" in tokenizer.describe()
    again = train("bert-features", resume=True, out="resumed", overrides={"epochs": 2})
    assert again.status == "finished" and [h["epoch"] for h in again.history] == [1, 2]


def test_labels_the_model_never_saw_are_an_error_at_evaluation(store, reviews, tmp_path):
    import archzoo

    best = train_tiny(store, reviews).best_dir
    other = write_csv(
        tmp_path / "three.csv", [(t, "2" if i % 3 == 0 else l) for i, (t, l) in enumerate(sst2_rows(60, start=500))]
    )
    with pytest.raises(DataError, match="'2' is not among the model's classes"):
        archzoo.evaluate_checkpoint(best, dataset=str(other))


def test_an_encoder_that_is_not_bert_family_is_refused_by_name(tmp_path):
    from archzoo.toolkit.encoders import resolve_encoder

    gpt = tmp_path / "gpt"
    gpt.mkdir()
    (gpt / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    with pytest.raises(EncoderError, match=r"gpt2 model, not a BERT-family encoder"):
        resolve_encoder(str(gpt))
    with pytest.raises(EncoderError, match="has no config.json"):
        resolve_encoder(str(tmp_path))
    with pytest.raises(EncoderError, match="does not exist"):
        resolve_encoder(str(tmp_path / "missing"))
    pickled = tmp_path / "pickled"
    pickled.mkdir()
    (pickled / "config.json").write_text(json.dumps({"model_type": "bert"}))
    (pickled / "pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(EncoderError, match="only pickled weights"):
        resolve_encoder(str(pickled))


def test_a_hub_encoder_that_is_not_cached_fails_at_once_without_download(tmp_path, monkeypatch):
    """The bert-base-uncased preset offline: a clear error, no network, no hang."""
    import time

    from huggingface_hub import constants

    from archzoo.api import train

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "empty-hub-cache"))
    started = time.perf_counter()
    with pytest.raises(EncoderError, match="bert-base-uncased' is not on this machine.*--download"):
        train("bert-base-features", overrides={"epochs": 1}, data_dir="../shared/data/sst2", out=str(tmp_path / "run"))
    assert time.perf_counter() - started < 30


def test_bad_config_values_name_the_field():
    from archzoo.api import plan_run

    with pytest.raises(ConfigError, match="'pooling'"):
        plan_run("bert-features", overrides={"pooling": "max"})
    with pytest.raises(ArchzooError, match="no such setting"):
        plan_run("bert-features", overrides={"rank": "8"})
