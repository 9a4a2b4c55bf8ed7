"""Sequence to sequence: the copy/reverse/sort data, the attentions of the notes' 6.2-6.3, the
encoder-decoder Transformer of 7.4, training to a high accuracy, the longer test split, and
predicting, showing and refusing from the command line and the app's handler."""

from __future__ import annotations

import json

import pytest
import torch

from archzoo.api import train
from archzoo.data.loading import load_dataset
from archzoo.errors import DataError
from archzoo.inference.sequences import translate
from archzoo.plugins.seq2seq.model import BahdanauAttention, LuongAttention, Seq2Seq
from archzoo.plugins.seq2seq_transformer.model import Seq2SeqTransformer
from archzoo.registry.host import get_host
from archzoo.toolkit import SampleError

COPY = "copy:vocab=6,min_length=3,max_length=6,longer=9,examples=2000,test_examples=100"
#: Small and fast: a few hundred steps of this learn COPY on one CPU thread in seconds.
SMALL = {"embedding_dim": 16, "hidden_size": 32, "attention_dim": 32, "lr": 0.01, "batch_size": 32}
RUNS: dict[str, object] = {}


@pytest.fixture(autouse=True)
def _store(module_store):
    yield module_store


def trained(attention: str, steps: int = 200):
    """A GRU seq2seq trained on COPY for ``steps`` steps, once per module and attention."""
    if attention not in RUNS:
        RUNS[attention] = train(
            "seq2seq",
            dataset=COPY,
            overrides={**SMALL, "attention": attention, "epochs": 50, "max_steps": steps, "schedule": "constant"},
            out=f"copy-{attention}",
        )
    return RUNS[attention]


def cli(capsys, *args) -> tuple[int, str, str]:
    from archzoo.cli.main import main

    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# -- the data ------------------------------------------------------------------------------------


def test_the_tasks_targets_and_the_longer_test_split():
    splits = load_dataset("reverse:vocab=5,min_length=2,max_length=4,longer=7,examples=300,test_examples=50")
    names = splits.info.class_names
    assert names[:3] == ("<pad>", "<s>", "</s>") and names[3:] == ("0", "1", "2", "3", "4")
    assert splits.info.input_shape == (7, 8) and splits.info.task == "sequence-to-sequence"
    source, target, longer = splits.train[0]
    real = source[source.ne(0)].tolist()
    assert 2 <= len(real) <= 4 and not longer
    assert target[: len(real) + 2].tolist() == [1, *real[::-1], 2]  # <s> the source backwards </s>
    tests = [splits.test[i] for i in range(len(splits.test))]
    lengths = [(int(s.ne(0).sum()), bool(flag)) for s, _, flag in tests]
    assert sum(flag for _, flag in lengths) == 50 and len(tests) == 100
    assert all((5 <= n <= 7) if flag else (2 <= n <= 4) for n, flag in lengths)
    train_sources = {tuple(s.tolist()) for s, _, _ in (splits.train[i] for i in range(len(splits.train)))}
    assert not train_sources & {tuple(s.tolist()) for s, _, _ in tests}, "a test source is also a training one"
    no_longer = load_dataset("copy:longer=0,examples=20,test_examples=5")
    assert no_longer.info.input_shape == (8, 9) and not any(bool(x[2]) for x in no_longer.test)
    sorted_pair = load_dataset("sort:vocab=5,examples=20,test_examples=5").train[0]
    symbols = sorted_pair[0][sorted_pair[0].ne(0)].tolist()
    assert sorted_pair[1][1 : len(symbols) + 1].tolist() == sorted(symbols)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("copy:min_length=9,max_length=8", "min_length=9 is above max_length=8"),
        ("copy:longer=8", "longer=8 must be above max_length=8"),
        ("copy:vocab=500", "vocab=500: must be between 2 and 100"),
        ("copy:width=3", "no setting 'width'"),
    ],
)
def test_bad_dataset_settings_are_named(name, message):
    with pytest.raises(DataError, match=message):
        load_dataset(name)


# -- the attentions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "attend",
    [
        BahdanauAttention(8, 5),
        LuongAttention(8, 5, "dot"),
        LuongAttention(8, 5, "general"),
        LuongAttention(8, 5, "concat"),
    ],
    ids=["bahdanau", "luong-dot", "luong-general", "luong-concat"],
)
def test_attention_weights_are_a_convex_combination_over_the_real_source(attend):
    torch.manual_seed(0)
    s, memory = torch.randn(3, 8), torch.randn(3, 6, 8)
    padding = torch.tensor([[False] * 6, [False] * 4 + [True] * 2, [False] + [True] * 5])
    alpha = attend(s, memory, padding)
    assert alpha.shape == (3, 6)
    assert torch.allclose(alpha.sum(dim=1), torch.ones(3)) and bool((alpha >= 0).all())  # theorem 6.1
    assert bool((alpha[padding] == 0).all()), "padding got attention"
    assert torch.allclose(alpha[2, 0], torch.tensor(1.0))  # one real token: all the weight


def test_decoders_return_output_by_input_maps_that_sum_to_one():
    torch.manual_seed(0)
    sources = torch.tensor([[3, 4, 5, 6], [5, 3, 0, 0]])
    for model in (Seq2Seq(10, attention="luong", score="dot", cell="lstm", layers=2), Seq2SeqTransformer(10)):
        ids, maps = model.eval().greedy(sources, 5)
        assert ids.shape == (2, 5) and maps
        for weights in maps.values():
            assert weights.shape[0] == 2 and weights.shape[2:] == (5, 4)  # (B, heads, outputs, inputs)
            assert torch.allclose(weights.sum(dim=-1), torch.ones(weights.shape[:-1]), atol=1e-5)
            assert bool((weights[1, :, :, 2:] == 0).all()), "padding got attention"
        logits = model(sources, torch.tensor([[1, 3, 4], [1, 5, 3]]))
        assert logits.shape == (2, 3, 10)
    assert Seq2Seq(10, attention="none").greedy(sources, 3)[1] == {}, "no attention, no maps"


# -- training and judging ------------------------------------------------------------------------


def test_bahdanau_learns_copy_and_beats_no_attention_with_the_longer_split_reported():
    result = trained("bahdanau")
    metrics = result.test_metrics
    assert metrics["sequence_accuracy"] > 0.9 and metrics["token_accuracy"] > 0.97, metrics
    assert {"longer_token_accuracy", "longer_sequence_accuracy", "longer_loss"} <= set(metrics)
    assert metrics["longer_token_accuracy"] < metrics["token_accuracy"], "longer sequences judged as the seen ones"
    plain = trained("none").test_metrics
    assert metrics["sequence_accuracy"] > plain["sequence_accuracy"] + 0.2, (metrics, plain)
    assert "longer_token_accuracy" not in result.val_metrics, "validation holds the training lengths only"


# -- using a checkpoint --------------------------------------------------------------------------


def test_predict_from_the_command_line_with_its_attention(capsys):
    folder = str(trained("bahdanau").best_dir)
    code, out, _ = cli(capsys, "predict", folder, "--text", "3 1 4 1 5", "--text", "0 2 5", "--json")
    assert code == 0
    rows = json.loads(out)
    assert [row["text"] for row in rows] == ["3 1 4 1 5", "0 2 5"]
    attention = torch.tensor(rows[0]["attention"])
    assert attention.shape == (6, 5) and rows[0]["output"][-1] == "</s>"  # five tokens and </s>, by five inputs
    assert torch.allclose(attention.sum(dim=1), torch.ones(6), atol=1e-4)
    assert attention[:5].argmax(dim=1).tolist() == [0, 1, 2, 3, 4], "copying reads input t for output t"
    code, out, _ = cli(capsys, "predict", folder, "--text", "5 4 3")
    assert code == 0 and out.strip() == "5 4 3 -> 5 4 3"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("3 1 7", "token '7' is not in the vocabulary; it has 6 symbols: 0 1 2 3 4 5"),
        ("1 2 3 4 5 0 1 2 3 4", "the input has 10 tokens; this model reads at most 9"),
        ("   ", "the input sequence is empty"),
    ],
)
def test_bad_input_sequences_are_named(capsys, text, message):
    folder = str(trained("bahdanau").best_dir)
    with pytest.raises(SampleError, match=message):
        translate(folder, [text])
    code, _, err = cli(capsys, "predict", folder, "--text", text)
    assert code != 0 and message in err


def test_a_request_for_too_many_or_no_output_tokens_is_refused():
    from archzoo.inference.sampling import sample_checkpoint
    from archzoo.registry.limits import LimitError

    folder = str(trained("bahdanau").best_dir)
    with pytest.raises(LimitError, match="max_length"):
        sample_checkpoint(folder, {"texts": ["3 1"], "max_length": 10**6})
    with pytest.raises(SampleError, match="max_length must be at least 1"):
        sample_checkpoint(folder, {"texts": ["3 1"], "max_length": -2})
    with pytest.raises(SampleError, match="no empty one"):
        sample_checkpoint(folder, {"inputs": torch.zeros(2, 4, dtype=torch.long)})
    shorter = sample_checkpoint(folder, {"texts": ["3 1 4 1 5"], "max_length": 2})
    assert shorter.outputs["texts"] == ["3 1"] and len(shorter.outputs["attention"][0]) == 2


def test_the_attention_view_draws_outputs_against_inputs(capsys, tmp_path):
    folder = str(trained("bahdanau").best_dir)
    code, out, _ = cli(capsys, "show", folder)
    assert code == 0 and "attention" in out
    code, _, _ = cli(capsys, "show", folder, "attention", "--index", "150", "--out", str(tmp_path))
    assert code == 0 and (tmp_path / "attention.png").read_bytes().startswith(b"\x89PNG")
    data = json.loads((tmp_path / "attention.json").read_text())
    (weights,) = data["layers"]["bahdanau"]  # one head
    assert len(weights) == len(data["outputs"]) and len(weights[0]) == len(data["tokens"])
    assert len(data["tokens"]) > 6, "test example 150 is one of the longer ones"
    plain = str(trained("none").best_dir)
    code, out, _ = cli(capsys, "show", plain)
    assert code == 0 and "attention" not in out, "a model without attention offers no attention view"


def test_the_apps_sequence_box_answers_with_a_table_and_a_picture():
    from archzoo.ui.common import AppContext
    from archzoo.ui.sequence_panel import predict_sequences

    ctx = AppContext(host=get_host(), runs=None)
    rows, picture, notes = predict_sequences(ctx, str(trained("bahdanau").best_dir), "3 1 4\n\n2 2 5 0\n")
    assert rows.values.tolist() == [["3 1 4", "3 1 4"], ["2 2 5 0", "2 2 5 0"]] and notes == ""
    assert picture.size[0] > 100
    rows, picture, notes = predict_sequences(ctx, str(trained("bahdanau").best_dir), "3 x")
    assert picture is None and "token 'x' is not in the vocabulary" in notes


def test_the_transformers_view_has_a_panel_per_decoder_block_and_head(capsys, tmp_path):
    result = train(
        "seq2seq-transformer",
        dataset=COPY,
        overrides={"d_model": 16, "heads": 2, "d_ff": 32, "layers": 2, "epochs": 1, "max_steps": 3},
        out="copy-transformer",
    )
    folder = str(result.best_dir)
    code, _, _ = cli(capsys, "show", folder, "attention", "--out", str(tmp_path), "--json")
    assert code == 0
    data = json.loads((tmp_path / "attention.json").read_text())
    assert list(data["layers"]) == ["decoder.0.cross_attention", "decoder.1.cross_attention"]
    for heads in data["layers"].values():
        assert len(heads) == 2 and all(len(row) == len(data["tokens"]) for head in heads for row in head)
    code, _, err = cli(capsys, "show", folder, "attention", "--layer", "encoder.0", "--out", str(tmp_path / "x"))
    assert code != 0 and "decoder.0.cross_attention" in err
