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


def tensor_names(folder: Path) -> dict[str, list[str]]:
    """Every safetensors file of a folder -> the names of the tensors it holds (from its header)."""
    from safetensors import safe_open

    names = {}
    for path in sorted(folder.glob("*.safetensors")):
        with safe_open(path, framework="pt") as handle:
            names[path.name] = list(handle.keys())
    return names


def test_the_checkpoint_holds_each_lora_matrix_once_in_a_peft_adapter_and_the_head_beside_it(lora_run):
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
    for folder in (best, lora_run.last_dir):
        stored = tensor_names(folder)
        assert sorted(stored["model.safetensors"]) == ["head.bias", "head.weight"]
        lora = [name for names in stored.values() for name in names if ".lora_" in name]
        assert len(lora) == len(set(lora)) == 2 * 2 * 2  # 2 blocks x (query, value) x (A, B), each once
        assert set(lora) == set(stored["adapter_model.safetensors"])
    adapter = json.loads((best / "adapter_config.json").read_text())
    assert (
        adapter["peft_type"] == "LORA" and adapter["r"] == 4 and sorted(adapter["target_modules"]) == ["query", "value"]
    )


def test_a_checkpoint_of_the_older_layout_with_the_matrices_in_both_files_loads_and_predicts_the_same(
    lora_run, tmp_path
):
    """Checkpoints written before the matrices were kept once hold them in model.safetensors too."""
    import shutil

    from safetensors.torch import save_file

    import archzoo
    from archzoo.files import sha256_file

    new = archzoo.load(lora_run.best_dir)
    old = tmp_path / "old-layout"
    shutil.copytree(lora_run.best_dir, old)
    state = {name: tensor.contiguous() for name, tensor in new.model.state_dict().items()}
    assert len(state) == 2 + 8
    save_file(state, old / "model.safetensors", metadata={"format": "pt"})
    meta = json.loads((old / "config.json").read_text())
    meta["weights_sha256"] = sha256_file(old / "model.safetensors")
    (old / "config.json").write_text(json.dumps(meta, indent=2) + "\n")
    assert (
        len(tensor_names(old)["model.safetensors"]) == 10 and len(tensor_names(old)["adapter_model.safetensors"]) == 8
    )

    reloaded = archzoo.load(old)
    ids = raw_ids(new, TEXTS)
    with torch.no_grad():
        assert torch.equal(reloaded.model(ids), new.model(ids))
    from archzoo.api import predict

    assert predict(old, TEXTS)[0] == predict(lora_run.best_dir, TEXTS)[0]


def test_resuming_reads_the_matrices_back_from_the_adapter(reviews, tmp_path):
    """The trainer's own reads of a checkpoint (the best one for the test split, the last one to
    resume) take the LoRA matrices from the adapter file, as load does."""
    import archzoo
    from archzoo.api import train

    first = train_lora(reviews, str(tmp_path / "run"))
    before = archzoo.load(first.last_dir).model.state_dict()
    resumed = train("lora", dataset=str(reviews), overrides={"epochs": 2}, out=str(tmp_path / "run"), resume=True)
    assert resumed.status == "finished" and len(resumed.history) == 2
    after = archzoo.load(resumed.last_dir).model.state_dict()
    assert sorted(tensor_names(resumed.last_dir)["model.safetensors"]) == ["head.bias", "head.weight"]
    assert any(not torch.equal(after[k], before[k]) for k in before if "lora_B" in k), (
        "the second epoch changed nothing"
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
    merged, info = AutoModel.from_pretrained(merged_dir, use_safetensors=True, output_loading_info=True)
    merged.eval()
    # The tiny encoder was saved without BERT's pooler, so the merged model has none either:
    # transformers misses exactly what it misses when loading the encoder itself.
    _, base_info = AutoModel.from_pretrained(tiny_bert(), use_safetensors=True, output_loading_info=True)
    assert info["missing_keys"] == base_info["missing_keys"] == {"pooler.dense.weight", "pooler.dense.bias"}
    assert not info["unexpected_keys"] and not info["mismatched_keys"]
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


@pytest.fixture(scope="module")
def pooled_encoder(tmp_path_factory) -> Path:
    """The tiny BERT with BERT's pooler layer (seeded), as a pretrained encoder has one
    (all-MiniLM-L6-v2 and bert-base do; the shared tiny BERT is saved without)."""
    import shutil

    from safetensors.torch import load_file
    from transformers import AutoConfig, BertModel

    folder = tmp_path_factory.mktemp("encoder") / "tiny-bert-pooler"
    torch.manual_seed(1)
    model = BertModel(AutoConfig.from_pretrained(tiny_bert()))  # with a pooler, randomly initialised
    result = model.load_state_dict(load_file(tiny_bert() / "model.safetensors"), strict=False)
    assert set(result.missing_keys) == {"pooler.dense.weight", "pooler.dense.bias"} and not result.unexpected_keys
    model.save_pretrained(folder)
    shutil.copy2(tiny_bert() / "tokenizer.json", folder / "tokenizer.json")
    return folder


def train_on(encoder: Path, reviews: Path, out: Path, pooling: str):
    from archzoo.api import train

    overrides = {"encoder": str(encoder), "epochs": 1, "batch_size": 32, "lr": 2e-2, "r": 4, "pooling": pooling}
    overrides.update(text_column="review", label_column="sentiment")
    return train("lora", dataset=str(reviews), overrides=overrides, out=str(out))


def loading_info(loader, folder):
    model, info = loader.from_pretrained(folder, use_safetensors=True, output_loading_info=True)
    return model.eval(), {k: set(v) for k, v in info.items() if k != "error_msgs"}


NOTHING_AMISS = {"missing_keys": set(), "unexpected_keys": set(), "mismatched_keys": set()}


def test_a_merged_model_keeps_the_encoders_pooler_and_says_why_its_head_is_not_a_sequence_classifier(
    pooled_encoder, reviews, tmp_path
):
    from safetensors.torch import load_file
    from transformers import AutoModel

    import archzoo
    from archzoo.checkpoints.merge import merge_adapter, what_loads

    run = train_on(pooled_encoder, reviews, tmp_path / "run", "mean")
    merged_dir = merge_adapter(run.best_dir, tmp_path / "merged")
    merged, info = loading_info(AutoModel, merged_dir)
    assert info == NOTHING_AMISS
    base = load_file(pooled_encoder / "model.safetensors")
    for name in ("pooler.dense.weight", "pooler.dense.bias"):
        assert torch.equal(merged.state_dict()[name], base[name])
    loaded = archzoo.load(run.best_dir)
    ids, mask = ids_batch(loaded, TEXTS)
    with torch.no_grad():
        ours = loaded.model.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        assert torch.allclose(merged(input_ids=ids, attention_mask=mask).last_hidden_state, ours, atol=1e-5)
    # A head on the mean of the tokens is not what BertForSequenceClassification computes:
    # no classifier in its layout, and the folder says why and where the head is.
    config = json.loads((merged_dir / "config.json").read_text())
    assert config["architectures"] == ["BertModel"] and "id2label" not in config
    head = json.loads((merged_dir / "head.json").read_text())
    assert head["sequence_classification"] is False and head["pooling"] == "mean"
    assert "tanh(pooler([CLS]))" in head["why_not_sequence_classification"]
    card = (merged_dir / "README.md").read_text()
    assert "not in `AutoModelForSequenceClassification`'s layout" in card and "pooling=pooler" in card
    assert "head.safetensors" in what_loads(merged_dir)


def test_a_pooler_head_merges_into_a_model_that_auto_model_for_sequence_classification_loads_whole(
    pooled_encoder, reviews, tmp_path, monkeypatch
):
    """With pooling=pooler archzoo's classifier is BertForSequenceClassification's: the merged folder
    loads in AutoModelForSequenceClassification with every weight and gives archzoo's logits, from the
    folder and from the Hub, read with the folder's own tokenizer."""
    from hub_server import HubServer
    from huggingface_hub import HfApi
    from test_hub import ALICE, TOKENS, HubEnv
    from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer

    import archzoo
    from archzoo.api import predict
    from archzoo.checkpoints.merge import merge_adapter, what_loads

    run = train_on(pooled_encoder, reviews, tmp_path / "run", "pooler")
    loaded = archzoo.load(run.best_dir)
    assert loaded.model.pooler is not None and not loaded.model.pooler.weight.requires_grad
    merged_dir = merge_adapter(run.best_dir, tmp_path / "merged")
    classifier, info = loading_info(AutoModelForSequenceClassification, merged_dir)
    assert info == NOTHING_AMISS
    config = classifier.config
    assert config.architectures == ["BertForSequenceClassification"] and config.num_labels == 2
    assert config.id2label == {0: "0", 1: "1"} and config.label2id == {"0": 0, "1": 1}
    assert "AutoModelForSequenceClassification" in what_loads(merged_dir)
    # AutoModel takes the encoder from it, its pooler included; transformers lists the classifier's
    # two tensors as unused, as it does for any task model loaded as a bare encoder.
    _, info = loading_info(AutoModel, merged_dir)
    assert info == {**NOTHING_AMISS, "unexpected_keys": {"classifier.weight", "classifier.bias"}}

    texts = [*TEXTS, "an utterly charming and hilarious film"]
    with torch.no_grad():
        expected = loaded.model(raw_ids(loaded, texts))
        batch = AutoTokenizer.from_pretrained(merged_dir)(texts, return_tensors="pt", padding=True)
        assert torch.allclose(classifier(**batch).logits, expected, atol=1e-5)
    predicted = [max(scores, key=lambda pair: pair[1])[0] for scores in predict(run.best_dir, texts)[0]]
    assert [config.id2label[int(i)] for i in expected.argmax(dim=1)] == predicted
    from transformers import pipeline

    assert [r["label"] for r in pipeline("text-classification", model=str(merged_dir))(texts)] == predicted
    for path in merged_dir.iterdir():  # made to be shared: no folder of this machine in it
        assert str(tmp_path).encode() not in path.read_bytes() and str(pooled_encoder).encode() not in path.read_bytes()

    with HubServer(TOKENS) as server:
        HubEnv(server, tmp_path / "hf-home", monkeypatch)
        api = HfApi(endpoint=server.url, token=ALICE)
        api.create_repo("alice/lora-merged")
        api.upload_folder(repo_id="alice/lora-merged", folder_path=merged_dir)
        from_hub, info = loading_info(AutoModelForSequenceClassification, "alice/lora-merged")
        batch = AutoTokenizer.from_pretrained("alice/lora-merged")(texts, return_tensors="pt", padding=True)
    assert info == NOTHING_AMISS
    with torch.no_grad():
        assert torch.allclose(from_hub(**batch).logits, expected, atol=1e-5)


def test_pooler_pooling_on_an_encoder_without_a_pooler_is_refused_by_name():
    from archzoo.registry.config import build_config
    from archzoo.registry.host import get_host

    spec = get_host().architecture("lora")
    config = build_config(spec.config, {"encoder": str(tiny_bert()), "pooling": "pooler"})
    with pytest.raises(ConfigError, match="'pooling'.*has no pooler layer"):
        get_host().hooks(spec).build_model(config)


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
    assert "AutoModel loads the encoder; the head is in head.safetensors" in printed
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
