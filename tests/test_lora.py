"""lora: a BERT-family encoder fine-tuned with LoRA through peft (issue #5).

Fast checks on the tiny random BERT of ``tests/tiny_bert.py`` and real SST-2
rows; the adapter is checked with plain ``peft`` and ``transformers`` (no
archzoo code), and pushed and pulled through ``tests/hub_server.py`` with the
real ``huggingface_hub`` client.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

from archzoo.errors import ArchzooError, CheckpointError, ConfigError, EncoderError

sys.path.insert(0, str(Path(__file__).parent))
from tiny_bert import sst2_rows, tiny_bert, write_csv


@pytest.fixture(scope="module")
def reviews(tmp_path_factory) -> Path:
    return write_csv(tmp_path_factory.mktemp("data") / "reviews.csv", sst2_rows(240, start=2000))


def train_lora(reviews, out, **more):
    from archzoo.api import train

    overrides = {
        "encoder": str(tiny_bert()),
        "epochs": 1,
        "batch_size": 32,
        "lr": 2e-2,
        "r": 4,
        "text_column": "review",
        "label_column": "sentiment",
        **more,
    }
    return train("lora", dataset=str(reviews), overrides=overrides, out=out)


@pytest.fixture(scope="module")
def lora_run(reviews, tmp_path_factory):
    return train_lora(reviews, str(tmp_path_factory.mktemp("lora") / "run"))


def raw_ids(loaded, texts):
    """A padded batch as archzoo's data layer makes it (no [CLS]/[SEP])."""
    from archzoo.data.text import pad_ids
    from archzoo.toolkit.encoders import text_ids

    return pad_ids(text_ids(loaded.model.tokenizer, texts)[0])


def ids_batch(loaded, texts):
    """The same batch as the encoder sees it: [CLS] ids [SEP], and the attention mask."""
    from archzoo.toolkit.encoders import with_special_tokens

    tokenizer = loaded.model.tokenizer
    return with_special_tokens(raw_ids(loaded, texts), tokenizer.cls_id, tokenizer.sep_id, tokenizer.max_tokens)


TEXTS = ["a gorgeous , witty film", "dull , long and pointless"]


def test_the_checkpoint_holds_the_head_the_lora_matrices_and_a_peft_adapter(lora_run):
    from safetensors.torch import load_file

    best = lora_run.best_dir
    names = sorted(p.name for p in best.iterdir())
    assert {
        "adapter_config.json",
        "adapter_model.safetensors",
        "config.json",
        "model.safetensors",
        "tokenizer.json",
    } <= set(names)
    meta = json.loads((best / "config.json").read_text())
    assert set(meta["files"]) == {"tokenizer.json", "adapter_config.json", "adapter_model.safetensors"}
    weights = load_file(best / "model.safetensors")
    lora = [k for k in weights if ".lora_" in k]
    assert len(lora) == 2 * 2 * 2  # 2 blocks x (query, value) x (A, B)
    assert set(weights) - set(lora) == {"head.weight", "head.bias"}
    adapter = json.loads((best / "adapter_config.json").read_text())
    assert (
        adapter["peft_type"] == "LORA" and adapter["r"] == 4 and sorted(adapter["target_modules"]) == ["query", "value"]
    )


def test_plain_peft_loads_the_adapter_and_computes_what_archzoo_computes(lora_run):
    """What a PEFT user does, with no archzoo code: base encoder + PeftModel.from_pretrained."""
    from peft import PeftModel
    from transformers import AutoModel

    import archzoo

    loaded = archzoo.load(lora_run.best_dir)
    base = AutoModel.from_pretrained(tiny_bert(), use_safetensors=True, add_pooling_layer=False)
    plain = PeftModel.from_pretrained(base, lora_run.best_dir).eval()
    ids, mask = ids_batch(loaded, TEXTS)
    with torch.no_grad():
        ours = loaded.model.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        theirs = plain(input_ids=ids, attention_mask=mask).last_hidden_state
    assert torch.allclose(ours, theirs, atol=1e-6)
    b = [v for k, v in loaded.model.state_dict().items() if "lora_B" in k]
    assert any(float(t.abs().max()) > 0 for t in b), "training left every LoRA B at zero: nothing was learned"


def test_merge_writes_a_plain_transformers_model_with_the_same_outputs(lora_run, tmp_path, capsys):
    from transformers import AutoModel

    import archzoo
    from archzoo.checkpoints.merge import merge_adapter
    from archzoo.toolkit.encoders import pool

    loaded = archzoo.load(lora_run.best_dir)
    merged_dir = merge_adapter(lora_run.best_dir, tmp_path / "merged")
    merged = AutoModel.from_pretrained(merged_dir, use_safetensors=True).eval()
    ids, mask = ids_batch(loaded, TEXTS)
    with torch.no_grad():
        expected = loaded.model(raw_ids(loaded, TEXTS))
        hidden = merged(input_ids=ids, attention_mask=mask).last_hidden_state
        head = torch.nn.Linear(hidden.shape[-1], 2)
        from safetensors.torch import load_file

        head.load_state_dict(load_file(merged_dir / "head.safetensors"))
        actual = head(pool(hidden, mask, json.loads((merged_dir / "head.json").read_text())["pooling"]))
    assert torch.allclose(expected, actual, atol=1e-5)
    assert archzoo.load(lora_run.best_dir).model.encoder.peft_config  # the checkpoint itself is untouched
    with pytest.raises(EncoderError, match="already exists"):
        merge_adapter(lora_run.best_dir, merged_dir)


def test_train_merge_on_the_command_line_and_refused_for_other_architectures(reviews, tmp_path, capsys):
    from archzoo.cli import main

    out = tmp_path / "cli-run"
    args = [
        "train",
        "lora",
        "--dataset",
        str(reviews),
        "--out",
        str(out),
        "--quiet",
        "--merge",
        "--set",
        f"encoder={tiny_bert()}",
        "--set",
        "epochs=1",
        "--set",
        "text_column=review",
        "--set",
        "label_column=sentiment",
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "merged model:" in printed and (out / "merged" / "model.safetensors").is_file()
    assert main(["train", "mlp", "--merge", "--out", str(tmp_path / "mlp")]) == 2
    assert "--merge is for LoRA runs" in capsys.readouterr().err
    assert not (tmp_path / "mlp").exists()


def test_a_target_module_that_matches_nothing_lists_the_layers_there_are():
    from archzoo.registry.config import build_config
    from archzoo.registry.host import get_host

    spec = get_host().architecture("lora")
    config = build_config(spec.config, {"encoder": str(tiny_bert()), "target_modules": "query,valeu"})
    with pytest.raises(ConfigError) as caught:
        get_host().hooks(spec).build_model(config)
    message = str(caught.value)
    assert "'target_modules'" in message and "'valeu' matches no Linear layer" in message
    for name in ("query", "key", "value", "dense"):
        assert name in message


def test_an_edited_adapter_file_is_refused_on_load(lora_run, tmp_path):
    import shutil

    import archzoo

    copy = tmp_path / "copy"
    shutil.copytree(lora_run.best_dir, copy)
    data = bytearray((copy / "adapter_model.safetensors").read_bytes())
    data[-1] ^= 0xFF
    (copy / "adapter_model.safetensors").write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="adapter_model.safetensors does not match the sha256"):
        archzoo.load(copy)


def test_push_and_pull_carry_the_adapter(lora_run, tmp_path, monkeypatch):
    """Through the Hub issue's push and pull, against the local Hub-compatible server."""
    from hub_server import HubServer
    from test_hub import ALICE, TOKENS, HubEnv

    import archzoo

    with HubServer(TOKENS) as server:
        HubEnv(server, tmp_path / "hf-home", monkeypatch)
        monkeypatch.setenv("HF_TOKEN", ALICE)
        archzoo.push_to_hub(lora_run.best_dir, "alice/lora-tiny")
        folder = archzoo.pull("alice/lora-tiny")
    for name in ("adapter_model.safetensors", "tokenizer.json"):
        assert (folder / name).read_bytes() == (lora_run.best_dir / name).read_bytes()
    # No local path travels: the encoder folder is named by its last part (docs/hub.md), so the
    # pulled copy is rebuilt from a folder of that name, here found from the folder above it.
    assert json.loads((folder / "adapter_config.json").read_text())["base_model_name_or_path"] == tiny_bert().name
    monkeypatch.chdir(tiny_bert().parent)
    local, pulled = archzoo.load(lora_run.best_dir), archzoo.load(folder)
    ids = raw_ids(local, TEXTS)
    with torch.no_grad():
        assert torch.equal(local.model(ids), pulled.model(ids))


def test_predict_reads_texts_with_the_encoders_tokenizer(lora_run):
    from archzoo.api import predict

    results, notes = predict(lora_run.best_dir, ["a gorgeous , witty film", " ".join(["long"] * 100)])
    assert len(results) == 2 and {label for label, _ in results[0]} == {"0", "1"}
    assert notes and "cut to its first 62" in notes[0]
    with pytest.raises(ArchzooError, match="empty"):
        predict(lora_run.best_dir, ["  "])
