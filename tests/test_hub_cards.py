"""Model cards as the Hub reads them: licence, base model, dataset ids, one task name,
the plain-PEFT snippet of an adapter, and no local path in any pushed file.

The cards are read back with huggingface_hub's own ``ModelCard`` / ``ModelCardData``
and checked by ``ModelCard.validate`` (the Hub's metadata check, answered by the
local server of ``tests/hub_server.py``); pushes go through the real client.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest
import torch

import archzoo
from archzoo.checkpoints import card as cards
from archzoo.checkpoints.card import CardError, check_license, render_model_card

sys.path.insert(0, str(Path(__file__).parent))
import test_hub
from test_hub import cli

# test_hub's fixtures: its local Hub server, a test's view of it, and the checkpoints to push.
server, hf, runs, lora_best = test_hub.server, test_hub.hf, test_hub.runs, test_hub.lora_best


@pytest.fixture(scope="module")
def vae_run(tmp_path_factory) -> Path:
    """A generator: its card must name its task as its pipeline tag does."""
    from archzoo.api import train

    return train(
        "vae", dataset="digits", overrides={"epochs": 1}, out=str(tmp_path_factory.mktemp("vae") / "run")
    ).best_dir


def meta_of(folder: Path) -> dict:
    return json.loads((folder / "config.json").read_text())


def hub_card(hf, repo_id: str):
    from huggingface_hub import ModelCard

    return ModelCard(hf.server.files(repo_id)["README.md"].decode())


def check_card(card) -> None:
    """What every card must satisfy: the Hub's metadata check, huggingface_hub's own
    model of the front matter, and one task name throughout."""
    from huggingface_hub import ModelCardData

    card.validate()  # POST /api/validate-yaml, as the Hub checks a README on upload
    again = ModelCardData(**card.data.to_dict())
    assert again.to_dict() == card.data.to_dict()
    assert card.data.library_name == "archzoo"
    for result in card.data.eval_results or []:
        assert result.task_type == card.data.pipeline_tag


# -- licence -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, fields",
    [
        ("apache-2.0", {"license": "apache-2.0"}),
        ("Apache-2.0", {"license": "apache-2.0"}),
        ("MIT", {"license": "mit"}),
        ("GPL-3.0-or-later", {"license": "gpl-3.0"}),
        ("LGPL-2.1-only", {"license": "lgpl-2.1"}),
        ("CC-BY-4.0", {"license": "cc-by-4.0"}),
        ("bigscience-openrail-m", {"license": "bigscience-openrail-m"}),
        (
            "0BSD",
            {"license": "other", "license_name": "0BSD", "license_link": "https://spdx.org/licenses/0BSD.html"},
        ),
    ],
)
def test_spdx_and_hub_licence_ids_become_the_cards_licence_fields(text, fields):
    assert check_license(text) == fields


@pytest.mark.parametrize("text", ["", "apache", "MIT license", "my-own-licence", "gpl-3.0; rm -rf /"])
def test_a_licence_that_is_neither_spdx_nor_hub_is_refused_by_name(text):
    with pytest.raises(CardError, match=r"licence '.*' is neither an SPDX id nor a Hub licence id") as error:
        check_license(text)
    assert f"'{text}'" in str(error.value)


def test_a_misspelt_licence_gets_suggestions():
    with pytest.raises(CardError, match=r"did you mean apache-2\.0"):
        check_license("apache-2")


def test_the_licence_goes_on_the_card_and_is_kept_by_a_push_without_one(hf, runs):
    archzoo.push_to_hub(runs[0], "alice/licensed", license="Apache-2.0")
    card = hub_card(hf, "alice/licensed")
    check_card(card)
    assert card.data.license == "apache-2.0"
    from huggingface_hub import HfApi

    assert HfApi().model_info("alice/licensed").card_data.license == "apache-2.0"  # as the Hub reads it

    archzoo.push_to_hub(runs[1], "alice/licensed")  # a new checkpoint, no --license: the licence stays
    assert hub_card(hf, "alice/licensed").data.license == "apache-2.0"
    archzoo.push_to_hub(runs[1], "alice/licensed", license="0BSD")
    card = hub_card(hf, "alice/licensed")
    check_card(card)
    assert (card.data.license, card.data.license_name) == ("other", "0BSD")


def test_a_bad_licence_on_the_command_line_is_refused_before_anything_is_sent(hf, runs):
    hf.server.reset_counts()
    failed = cli("push", str(runs[0]), "alice/unlicensed", "--license", "free-for-all", env=hf.env, expect=2)
    assert "licence 'free-for-all' is neither an SPDX id nor a Hub licence id" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert "alice/unlicensed" not in hf.server.repos and dict(hf.server.counts) == {}
    cli("push", str(runs[0]), "alice/unlicensed", "--license", "mit", env=hf.env)
    assert hub_card(hf, "alice/unlicensed").data.license == "mit"


# -- datasets, tasks, base models -------------------------------------------------------------


@pytest.mark.parametrize(
    "dataset, hub_ids",
    [
        ("mnist", ["ylecun/mnist"]),
        ("fashion-mnist", ["zalando-datasets/fashion_mnist"]),
        ("sst2", ["stanfordnlp/sst2"]),
        ("digits", None),
        ("moons", None),
        ("/home/someone/pets", None),
    ],
)
def test_datasets_are_hub_dataset_ids_where_one_exists(runs, dataset, hub_ids):
    from huggingface_hub import ModelCard

    meta = meta_of(runs[0] / "best")
    meta["dataset"]["name"] = dataset
    card = ModelCard(render_model_card(meta, repo_id="alice/x"))
    assert card.data.datasets == hub_ids
    results = card.data.eval_results
    assert results and {r.dataset_type for r in results} == {hub_ids[0] if hub_ids else Path(dataset).name}


def test_a_generators_card_names_one_task_everywhere(hf, vae_run):
    archzoo.push_to_hub(vae_run, "alice/vae")
    card = hub_card(hf, "alice/vae")
    check_card(card)
    assert card.data.pipeline_tag == "unconditional-image-generation"
    assert {r.task_type for r in card.data.eval_results} == {"unconditional-image-generation"}
    assert card.data.base_model is None


def test_every_archzoo_task_has_one_hub_task_name():
    from archzoo.registry.host import get_host

    tasks = {spec.task for spec in get_host().architectures.values()}
    assert tasks <= set(cards.PIPELINE_TAGS), f"no Hub task name for {tasks - set(cards.PIPELINE_TAGS)}"


@pytest.mark.parametrize(
    "encoder, expected",
    [
        ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"),
        ("google-bert/bert-base-uncased", "google-bert/bert-base-uncased"),
        (
            "/home/me/.cache/huggingface/hub/models--prajjwal1--bert-tiny/snapshots/" + "a" * 40,
            "prajjwal1/bert-tiny",
        ),
        ("/home/me/encoders/my-bert", None),
        ("./my-bert", None),
    ],
)
def test_base_model_is_the_encoders_hub_id(lora_best, encoder, expected):
    from huggingface_hub import ModelCard

    meta = meta_of(lora_best)
    meta["config"]["encoder"] = encoder
    card = ModelCard(render_model_card(meta, repo_id="alice/lora"))
    assert card.data.base_model == expected
    assert card.data.to_dict().get("base_model_relation") == ("adapter" if expected else None)
    features = {**meta, "architecture": "bert-features", "files": {}}
    assert ModelCard(render_model_card(features)).data.base_model == expected


def test_an_adapter_card_loads_with_plain_peft_as_written(hf, lora_best):
    """The card's PEFT snippet, run as written (the encoder's name swapped for the local
    tiny BERT this test trained on), gives the encoder archzoo's model adapts."""
    from archzoo.toolkit.encoders import pool, with_special_tokens

    archzoo.push_to_hub(lora_best, "alice/lora-card")
    card = hub_card(hf, "alice/lora-card")
    check_card(card)
    assert {"peft", "lora"} <= set(card.data.tags)
    snippet = re.search(r"## The adapter with plain PEFT.*?```python\n(.*?)```", card.text, re.DOTALL).group(1)
    encoder = meta_of(lora_best)["config"]["encoder"]
    assert 'AutoModel.from_pretrained("path/to/the/encoder")' in snippet  # a local encoder is not named
    scope: dict = {}
    exec(snippet.replace("path/to/the/encoder", encoder), scope)
    peft_model = scope["model"].eval()

    loaded = archzoo.load(lora_best)
    tokenizer = loaded.model.tokenizer
    ids = torch.tensor([[5, 6, 7, 8], [9, 10, 11, 0]])
    framed, mask = with_special_tokens(ids, tokenizer.cls_id, tokenizer.sep_id, tokenizer.max_tokens)
    with torch.no_grad():
        ours = loaded.model.encoder(input_ids=framed, attention_mask=mask).last_hidden_state
        theirs = peft_model(input_ids=framed, attention_mask=mask).last_hidden_state
        assert torch.allclose(ours, theirs, atol=1e-6)
        head = loaded.model.head(pool(theirs, mask, loaded.model.pooling))
    assert torch.allclose(head, loaded.model(ids), atol=1e-6)
    from safetensors.torch import load_file

    assert {"head.weight", "head.bias"} <= set(load_file(lora_best / "model.safetensors"))


def test_a_local_checkpoints_card_validates_too(runs, lora_best, vae_run):
    from huggingface_hub import ModelCard

    for folder in (runs[0] / "best", lora_best, vae_run):
        card = ModelCard((folder / "README.md").read_text())
        assert card.data.library_name == "archzoo"
        for result in card.data.eval_results or []:
            assert result.task_type == card.data.pipeline_tag


def test_a_pushed_checkpoint_folder_is_left_as_it_was(hf, lora_best, tmp_path):
    copy = tmp_path / "lora"
    shutil.copytree(lora_best, copy)
    before = {p.name: p.read_bytes() for p in copy.iterdir() if p.is_file()}
    archzoo.push_to_hub(copy, "alice/untouched", license="mit")
    assert {p.name: p.read_bytes() for p in copy.iterdir() if p.is_file()} == before


# -- no local path in any pushed file ---------------------------------------------------------


def local_roots(*more: Path) -> list[bytes]:
    """Where this machine's files are: the folders a path in a pushed file would start with."""
    import tempfile

    roots = {
        tempfile.gettempdir(),
        str(Path.home()),
        str(Path.cwd()),
        str(Path(archzoo.__file__).parent),
        *map(str, more),
    }
    return [root.encode() for root in roots if root not in ("/", "")]


ABSOLUTE_PATH = re.compile(rb"""(?<![\w:/.])(?:/|~/)(?:[\w.-]+/)+[\w.-]+""")


def assert_no_local_paths(files: dict[str, bytes], *more: Path) -> None:
    for name, blob in files.items():
        if name.endswith(".safetensors") or name.endswith(".png"):
            header = blob[:4096]  # a safetensors header is JSON; the rest is numbers
        else:
            header = blob
        found = [root for root in local_roots(*more) if root in header] + ABSOLUTE_PATH.findall(header)
        assert not found, f"{name} holds local paths: {found[:3]}"


def test_no_pushed_file_holds_a_local_path(hf, runs, lora_best):
    from tiny_bert import tiny_bert

    for repo, folder in (("alice/paths-mlp", runs[0]), ("alice/paths-lora", lora_best.parent)):
        archzoo.push_to_hub(folder, repo)
        files = hf.server.files(repo)
        assert "run/events.jsonl" in files and "run/run.json" in files
        assert_no_local_paths(files, tiny_bert(), folder)
    files = hf.server.files("alice/paths-lora")
    shared = json.loads(files["config.json"])
    assert shared["config"]["encoder"] == tiny_bert().name  # a local encoder folder, named by its last part
    assert json.loads(files["adapter_config.json"])["base_model_name_or_path"] == tiny_bert().name
    import hashlib

    assert shared["files"]["adapter_config.json"] == hashlib.sha256(files["adapter_config.json"]).hexdigest()
    local = json.loads((lora_best / "config.json").read_text())
    assert local["config"]["encoder"] == str(tiny_bert())  # the checkpoint itself is left as it was
    events = [json.loads(line) for line in files["run/events.jsonl"].decode().splitlines()]
    assert len(events) == len((lora_best.parent / "events.jsonl").read_text().splitlines())


def test_an_encoder_from_the_hugging_face_cache_is_pushed_by_its_hub_id(hf, tmp_path):
    """A folder in the Hugging Face cache is a copy of a Hub repository: the pushed
    checkpoint names that repository, and loads from it on a machine that has it cached."""
    from tiny_bert import sst2_rows, tiny_bert, write_csv

    from archzoo.api import train

    snapshot = hf.home / "hub" / "models--bert-org--tiny-bert" / "snapshots" / ("c" * 40)
    shutil.copytree(tiny_bert(), snapshot)
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text("c" * 40)
    reviews = write_csv(tmp_path / "reviews.csv", sst2_rows(48, start=3000))
    overrides = {"encoder": str(snapshot), "epochs": 1, "batch_size": 16, "r": 2}
    overrides.update(text_column="review", label_column="sentiment")
    best = train("lora", dataset=str(reviews), overrides=overrides, out=str(tmp_path / "run")).best_dir

    archzoo.push_to_hub(best, "alice/cached-encoder")
    files = hf.server.files("alice/cached-encoder")
    assert_no_local_paths(files, snapshot, best)
    assert json.loads(files["config.json"])["config"]["encoder"] == "bert-org/tiny-bert"
    assert json.loads(files["adapter_config.json"])["base_model_name_or_path"] == "bert-org/tiny-bert"
    card = hub_card(hf, "alice/cached-encoder")
    check_card(card)
    assert card.data.base_model == "bert-org/tiny-bert"
    assert 'AutoModel.from_pretrained("bert-org/tiny-bert")' in card.text

    pulled = archzoo.load("hf://alice/cached-encoder")  # the encoder comes from the cache, by its Hub id
    ids = torch.tensor([[5, 6, 7], [8, 9, 0]])
    with torch.no_grad():
        assert torch.equal(pulled.model(ids), archzoo.load(best).model(ids))


def test_a_merged_model_holds_no_local_path(lora_best, tmp_path):
    """``archzoo train lora --merge`` writes a plain transformers folder made to be shared
    (with ``hf upload``): none of its files names a folder of this machine."""
    from tiny_bert import tiny_bert

    from archzoo.checkpoints.merge import merge_adapter

    merged = merge_adapter(lora_best, tmp_path / "merged")
    files = {p.name: p.read_bytes() for p in merged.iterdir() if p.is_file()}
    assert {"config.json", "model.safetensors", "head.json", "head.safetensors"} <= set(files)
    assert_no_local_paths(files, tiny_bert(), lora_best, merged)
    head = json.loads(files["head.json"])
    assert head["merged_from"] == lora_best.name and head["base_model"] is None  # a local encoder has no Hub id
