"""Security, classes 1 and 8: a hostile checkpoint is a message, and is never built too big.

Each test takes a real checkpoint (a tiny MLP or a tiny character-level GPT, trained
here), edits one of its files as an attacker would, and loads it with archzoo.load.
The fuzz tests feed hypothesis-made config.json and tokenizer.json files to the
readers: whatever they hold, the answer is a CheckpointError (or a loaded model),
never another exception.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.torch import load_file, save_file

import archzoo
from archzoo.errors import ArchzooError, CheckpointError
from archzoo.files import sha256_file

FAST = {"epochs": "1", "batch_size": "256"}


@pytest.fixture(scope="module")
def mlp(tmp_path_factory) -> Path:
    from archzoo.api import train

    root = tmp_path_factory.mktemp("hostile-files")
    return train("mlp", dataset="digits", overrides=FAST, out=str(root / "mlp")).best_dir


@pytest.fixture(scope="module")
def gpt(tmp_path_factory) -> Path:
    from archzoo.api import train

    root = tmp_path_factory.mktemp("hostile-text")
    overrides = {"epochs": "1", "max_steps": "2", "n_layer": "1", "n_head": "1", "n_embd": "8", "block_size": "16"}
    overrides["tokenizer"] = "char"
    return train("gpt", dataset="sentences-synthetic", overrides=overrides, out=str(root / "gpt")).last_dir


def copy_of(checkpoint: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(checkpoint, tmp_path / "copy"))


def edit_config(folder: Path, change) -> None:
    meta = json.loads((folder / "config.json").read_text())
    change(meta)
    (folder / "config.json").write_text(json.dumps(meta))


# -- 8: hostile config.json ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m["dataset"].update(info="digits"), r"'dataset.info': Input should be"),
        (lambda m: m["dataset"]["info"].update(num_classes="10"), r"'dataset.info.num_classes': Input should be"),
        (lambda m: m["dataset"]["info"].pop("input_shape"), r"'dataset.info.input_shape': Field required"),
        (lambda m: m.update(files=["a"]), r"'files': Input should be a valid dictionary"),
        (lambda m: m.update(train=7), r"'train': Input should be a valid dictionary"),
        (lambda m: m["dataset"]["info"].update(class_names=["0", "1"]), r"names 2 classes but 'num_classes' is 10"),
        (lambda m: m.update(files={"../../../home/me/.ssh/id_ed25519": "0" * 64}), r"'files' names '\.\./\.\./"),
        (lambda m: m.update(files={"/etc/passwd": "0" * 64}), r"'files' names '/etc/passwd'"),
        (lambda m: m.update(weights_sha256=12), r"'weights_sha256': Input should be a valid string"),
        (lambda m: m.update(architecture=["mlp"]), r"'architecture': Input should be a valid string"),
    ],
)
def test_a_config_with_wrong_types_or_missing_entries_is_a_message_naming_the_field(mlp, tmp_path, change, message):
    folder = copy_of(mlp, tmp_path)
    edit_config(folder, change)
    with pytest.raises(CheckpointError, match=message):
        archzoo.load(folder)


def test_deep_nesting_and_huge_integers_are_refused_by_the_parser(mlp, tmp_path):
    folder = copy_of(mlp, tmp_path)
    text = (folder / "config.json").read_text()
    (folder / "config.json").write_text(text[:-2] + ', "x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(CheckpointError, match="nests deeper than 32 levels"):
        archzoo.load(folder)
    (folder / "config.json").write_text(text.replace('"parameters": ', '"parameters": ' + "9" * 5000 + ', "p": '))
    with pytest.raises(CheckpointError, match="integer of 5,0.. digits"):
        archzoo.load(folder)


@pytest.mark.parametrize("dtype", [torch.int32, torch.bool, torch.float8_e4m3fn, torch.complex64])
def test_weights_of_an_unexpected_dtype_are_refused_not_cast(mlp, tmp_path, dtype):
    folder = copy_of(mlp, tmp_path)
    state = load_file(folder / "model.safetensors")
    name = next(iter(state))
    state[name] = state[name].to(dtype)
    save_file(state, folder / "model.safetensors")
    edit_config(folder, lambda m: m.update(weights_sha256=sha256_file(folder / "model.safetensors")))
    with pytest.raises(CheckpointError, match=f"wrong type: {name}: stored as [A-Za-z0-9_]+, expected float32"):
        archzoo.load(folder)


# -- 1: a config describing a huge model ---------------------------------------------------------


def test_a_small_checkpoint_describing_a_huge_model_is_refused_before_it_is_built(mlp, tmp_path):
    import resource

    folder = copy_of(mlp, tmp_path)
    edit_config(folder, lambda m: m["config"].update(hidden=[30000, 30000]))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    with pytest.raises(
        archzoo.ArchzooError, match=r"would make a model of 902,\d+,\d+ parameters, more than the limit"
    ):
        archzoo.load(folder)
    assert time.monotonic() - started < 5
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KiB: nothing of 3.6 GB was made


def test_a_config_whose_shapes_do_not_match_the_weights_header_is_refused_before_building(mlp, tmp_path):
    folder = copy_of(mlp, tmp_path)
    edit_config(folder, lambda m: m["config"].update(hidden=[2000, 2000]))
    with pytest.raises(CheckpointError, match="does not fit the model its config describes: .*wrong shapes"):
        archzoo.load(folder)


def test_the_train_form_cannot_build_a_model_over_the_budget(store):
    from archzoo.api import train

    with pytest.raises(archzoo.ArchzooError, match="would make a model of .* parameters, more than the limit"):
        train("mlp", dataset="digits", overrides={**FAST, "hidden": "20000,20000"}, out="huge")


def test_the_apps_queue_refuses_a_model_over_the_budget_before_queueing_it(store):
    from archzoo.training.queue import RunManager

    runs = RunManager()
    try:
        with pytest.raises(archzoo.ArchzooError, match="would make a model of 401,5.* parameters, more than the limit"):
            runs.submit("mlp", dataset="digits", overrides={**FAST, "hidden": "20000,20000"}, out="huge")
        assert not runs.rows() and not (store / "huge").exists()
    finally:
        runs.shutdown()


# -- 8: hostile tokenizer.json -------------------------------------------------------------------


def _rewrite_tokenizer(folder: Path, content: str) -> None:
    (folder / "tokenizer.json").write_text(content)
    digest = sha256_file(folder / "tokenizer.json")
    edit_config(folder, lambda m: m["files"].update({"tokenizer.json": digest}))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"type": "archzoo-ids"}', "'vocab_size' must be a whole number"),
        ('{"type": "archzoo-ids", "vocab_size": "12"}', "'vocab_size' must be a whole number"),
        ('{"type": "archzoo-char", "chars": "abc"}', "'chars' must be a list of single characters"),
        ('{"type": "archzoo-char", "chars": [1, 2]}', "'chars' must be a list of single characters"),
        ("[" * 50_000, "nests deeper than 32 levels"),
        ('{"type": "archzoo-ids", "vocab_size": ' + "1" * 5000 + "}", "integer of 5,000 digits"),
    ],
)
def test_a_hostile_tokenizer_is_a_message(gpt, tmp_path, content, message):
    folder = copy_of(gpt, tmp_path)
    _rewrite_tokenizer(folder, content)
    with pytest.raises(CheckpointError, match=message):
        archzoo.load(folder)


def test_a_tokenizer_with_ids_beyond_the_embedding_is_refused(gpt, tmp_path):
    folder = copy_of(gpt, tmp_path)
    chars = [chr(0x4E00 + i) for i in range(5000)]
    _rewrite_tokenizer(folder, json.dumps({"type": "archzoo-char", "chars": chars}))
    with pytest.raises(CheckpointError, match="gives token ids up to 5,001, but the model's embedding has"):
        archzoo.load(folder)


# -- 8: fuzz ----------------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


def _fuzzed_config(base: dict, draw) -> dict:
    """``base`` with a few of its entries (at any depth) replaced by hypothesis-made JSON."""
    meta = json.loads(json.dumps(base))
    for _ in range(draw(st.integers(1, 4))):
        node, key = meta, None
        path = draw(st.lists(st.sampled_from(["dataset", "info", "config", "train", "files", "metrics"]), max_size=3))
        for step in path:
            if isinstance(node, dict) and isinstance(node.get(step), dict):
                node = node[step]
        if isinstance(node, dict) and node:
            key = draw(st.sampled_from(sorted(node)))
            if draw(st.booleans()):
                node[key] = draw(JSON)
            else:
                del node[key]
    return meta


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_config_json_is_loaded_or_answered_never_a_traceback(mlp, tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("fuzz-config")
    for name in ("model.safetensors", "README.md"):
        (folder / name).symlink_to(mlp / name)
    base = json.loads((mlp / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps(_fuzzed_config(base, data.draw)))
    try:
        archzoo.load(folder)
    except ArchzooError:
        pass


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    content=st.one_of(
        JSON.map(json.dumps),
        st.fixed_dictionaries(
            {"type": st.sampled_from(["archzoo-char", "archzoo-ids"])},
            optional={"chars": JSON, "vocab_size": JSON, "model": JSON},
        ).map(json.dumps),
        st.text(max_size=50),
        st.binary(max_size=50),
    )
)
def test_fuzzed_tokenizer_json_is_read_or_answered_never_a_traceback(content):
    from archzoo.data.tokenizers import tokenizer_from_json

    try:
        tokenizer = tokenizer_from_json(content, "tokenizer.json")
    except ArchzooError:
        return
    tokenizer.encode_batch(["some text 1 2 3"])  # whatever was read, it reads text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"loop": {"epoch": 0}}', r"cannot be resumed from \(KeyError"),
        ('{"loop": 7, "optimizers": {}, "schedulers": {}, "rng": {}}', "cannot be resumed from"),
        ("[" * 10_000, "nests deeper than 32 levels"),
    ],
)
def test_a_hostile_training_state_is_a_message_on_resume(store, content, message):
    from archzoo.api import train

    result = train("mlp", dataset="digits", overrides=FAST, out="state")
    (result.last_dir / "training_state.json").write_text(content)
    with pytest.raises(ArchzooError, match=message):
        train(out="state", resume=True, overrides={"epochs": "2"})
