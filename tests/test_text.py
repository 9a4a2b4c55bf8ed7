"""Text data, tokenizers and the sequence models (rnn, transformer, gpt).

Fast by design: every model here is tiny and trains for a handful of steps;
the one real data set is SST-2 from the shared test-data folder.  The
accuracy the recipes reach is the business of ``benchmarks/sequence.py``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from archzoo import CheckpointError, DataError
from archzoo.checkpoints.io import load
from archzoo.data import DataOptions, data_options, load_dataset
from archzoo.data.text import (
    TokenWindows,
    clear_caches,
    lengths,
    pad_batch,
    padding_mask,
)
from archzoo.data.tokenizers import (
    PAD_ID,
    CharTokenizer,
    IdTokenizer,
    LibraryTokenizer,
    encode_texts,
    tokenizer_from_json,
)
from archzoo.errors import ArchzooError
from archzoo.evaluation.evaluate import evaluate_checkpoint
from archzoo.inference.classify import predict
from archzoo.inference.sampling import sample_checkpoint
from archzoo.training.launch import train


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models on a busy machine run several times faster on one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def sst2_dir(shared_data):
    return shared_data / "sst2"


@pytest.fixture
def reviews_csv(tmp_path):
    """A small CSV whose text and label columns have their own names."""
    good = ["a wonderful , moving film", "great acting and a great story", "i loved every minute", "funny and warm"]
    bad = ["a dull , lifeless mess", "boring and far too long", "i hated the ending", "flat and tedious"]
    rows = ["id,review,sentiment"]
    for i in range(60):
        rows.append(f'{i},"{good[i % 4]} {i}",pos')
        rows.append(f'{i + 100},"{bad[i % 4]} {i}",neg')
    rows.append('999,"   ",pos')  # empty text: skipped, with a note
    path = tmp_path / "reviews.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


# -- datasets -------------------------------------------------------------------------------


def test_sentiment_synthetic_follows_the_notes():
    splits = load_dataset("sentiment-synthetic", DataOptions())
    sizes = [len(splits.train), len(splits.val), len(splits.test)]
    assert sum(sizes) == 5000 and sizes[2] == 1000  # 80/20, the 80 less a validation tenth
    assert sizes == [3600, 400, 1000]
    info = splits.info
    assert (info.task, info.num_classes, info.class_names, info.vocab_size) == (
        "text-classification",
        2,
        ("negative", "positive"),
        1000,
    )
    for dataset in (splits.train, splits.test):
        for i in range(0, len(dataset), 97):
            ids, label = dataset[i]
            assert 5 <= len(ids) <= 49 and int(ids.min()) >= 1 and int(ids.max()) <= 999
            assert int(label) == int(ids.float().mean() > 500)
    labels = splits.train.labels.float().mean().item()
    assert 0.4 < labels < 0.6


def test_text_datasets_are_deterministic():
    first = load_dataset("sentiment-synthetic", DataOptions())
    clear_caches()
    second = load_dataset("sentiment-synthetic", DataOptions())
    assert torch.equal(first.train.tokens, second.train.tokens) and torch.equal(first.test.labels, second.test.labels)
    a, b = load_dataset("sentences-synthetic", DataOptions()), None
    clear_caches()
    b = load_dataset("sentences-synthetic", DataOptions())
    assert torch.equal(a.train.stream, b.train.stream) and a.tokenizer.to_json() == b.tokenizer.to_json()


def test_padding_collate_pads_with_zero_and_keeps_lengths():
    splits = load_dataset("sentiment-synthetic", DataOptions())
    items = [splits.train[i] for i in range(8)]
    ids, labels = pad_batch(items)
    assert ids.shape == (8, max(len(x) for x, _ in items)) and labels.shape == (8,)
    assert lengths(ids).tolist() == [len(x) for x, _ in items]
    assert padding_mask(ids).sum().item() == ids.numel() - sum(len(x) for x, _ in items)
    assert splits.collate is pad_batch


def test_training_batches_are_bucketed_by_length():
    from archzoo.training.trainer import EpochSampler

    splits = load_dataset("sentiment-synthetic", DataOptions())
    assert torch.equal(splits.lengths, splits.train.lengths())
    sampler = EpochSampler(len(splits.train), seed=3, lengths=splits.lengths, batch_size=32)
    order = list(sampler)
    assert sorted(order) == list(range(len(splits.train))) and order == list(sampler)  # a permutation, repeatable
    sampler.set_epoch(1)
    assert list(sampler) != order

    def padding(indices):
        batches = [torch.tensor(indices[i : i + 32]) for i in range(0, len(indices), 32)]
        return sum(int(splits.lengths[b].max()) * len(b) - int(splits.lengths[b].sum()) for b in batches)

    plain = list(EpochSampler(len(splits.train), seed=3))
    assert padding(order) < padding(plain) / 5


def test_sst2_from_a_data_dir(sst2_dir):
    splits = load_dataset("sst2", DataOptions(data_dir=sst2_dir))
    assert len(splits.train) + len(splits.val) == 67_349 and len(splits.test) == 872
    assert splits.info.class_names == ("negative", "positive") and splits.info.vocab_size == 10_000
    assert splits.tokenizer.kind == "word"
    assert any("dev set (872 sentences) is the test split" in note for note in splits.notes)
    ids, label = splits.test[0]  # "one long string of cliches ." is negative
    assert int(label) == 0 and splits.tokenizer.decode(ids.tolist()) == "one long string of cliches ."


def test_the_tokenizer_kind_and_size_are_options(reviews_csv):
    options = DataOptions(text_column="review", label_column="sentiment", tokenizer="bpe", vocab_size=300)
    splits = load_dataset(str(reviews_csv), options)
    assert splits.tokenizer.kind == "bpe" and splits.info.vocab_size == 300
    chars = load_dataset(
        str(reviews_csv), DataOptions(text_column="review", label_column="sentiment", tokenizer="char")
    )
    assert chars.tokenizer.kind == "char" and chars.info.vocab_size < 60


def test_sst2_missing_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(DataError, match="--data-dir.*--download"):
        load_dataset("sst2", DataOptions())
    with pytest.raises(DataError, match="no train.tsv"):
        load_dataset("sst2", DataOptions(data_dir=tmp_path))


def test_sst2_sentences_are_a_character_corpus(sst2_dir):
    splits = load_dataset("sst2-sentences", DataOptions(data_dir=sst2_dir))
    assert splits.info.task == "text-generation" and splits.tokenizer.kind == "char"
    window = splits.train[0]
    assert window.shape == (129,) and isinstance(splits.train, TokenWindows)
    text = splits.tokenizer.decode(window.tolist())
    assert "\n" in text and text == text.lower()


def test_csv_by_path_with_named_columns(reviews_csv):
    options = DataOptions(text_column="review", label_column="sentiment", val_fraction=0.2)
    splits = load_dataset(str(reviews_csv), options)
    assert splits.info.name == "reviews.csv" and splits.info.class_names == ("neg", "pos")
    assert len(splits.train) + len(splits.val) + len(splits.test) == 120
    assert any("skipped 1 row with empty text (line 122)" in note for note in splits.notes)


def test_tsv_by_path_finds_the_text_column(tmp_path):
    path = tmp_path / "small.tsv"
    path.write_text(
        "label\tsentence\n" + "".join(f"{i % 2}\tsentence number {i}\n" for i in range(40)), encoding="utf-8"
    )
    splits = load_dataset(str(path), DataOptions())
    assert splits.info.class_names == ("0", "1") and sum(len(s) for s in (splits.train, splits.val, splits.test)) == 40


def test_table_errors_name_the_problem(reviews_csv, tmp_path):
    with pytest.raises(DataError, match=r"no label column 'label'.*'id', 'review', 'sentiment'.*label_column"):
        load_dataset(str(reviews_csv), DataOptions(text_column="review"))
    with pytest.raises(DataError, match=r"no text column 'body'.*text_column"):
        load_dataset(str(reviews_csv), DataOptions(text_column="body", label_column="sentiment"))
    empty = tmp_path / "empty.csv"
    empty.write_text("text,label\n  ,a\n,b\n", encoding="utf-8")
    with pytest.raises(DataError, match="no rows with text"):
        load_dataset(str(empty), DataOptions())
    unlabelled = tmp_path / "unlabelled.csv"
    unlabelled.write_text("text,label\nfine,a\nno label here,\n", encoding="utf-8")
    with pytest.raises(DataError, match="line 3: the label"):
        load_dataset(str(unlabelled), DataOptions())
    with pytest.raises(DataError, match="'neg' is not among the model's classes"):
        load_dataset(
            str(reviews_csv), DataOptions(text_column="review", label_column="sentiment", class_names=("pos", "other"))
        )


def test_data_options_come_from_training_settings():
    options = data_options(
        {"val_fraction": 0.2, "text_column": "review", "tokenizer": "auto", "tokenizer_vocab": 0}, download=True
    )
    assert (
        options.val_fraction,
        options.text_column,
        options.label_column,
        options.tokenizer,
        options.vocab_size,
        options.download,
    ) == (0.2, "review", None, None, None, True)
    assert data_options({}).val_fraction == 0.1  # a checkpoint from before these settings existed


# -- tokenizers ------------------------------------------------------------------------------


def test_char_tokenizer_round_trip_and_unknown_characters():
    tokenizer = CharTokenizer.train(["hello world", "low\n"])
    assert tokenizer.vocab_size == len(set("hello world\nlow")) + 2
    text = "hello\nworld"
    assert tokenizer.decode(tokenizer.encode(text)) == text
    assert PAD_ID not in tokenizer.encode(text)
    assert tokenizer.decode(tokenizer.encode("hé")) == "h\N{REPLACEMENT CHARACTER}"
    assert tokenizer_from_json(tokenizer.to_json()).encode(text) == tokenizer.encode(text)


def test_word_and_bpe_tokenizers_round_trip_through_json():
    texts = ["The movie was great .", "the plot was thin , the acting great", "great great movie"] * 5
    words = LibraryTokenizer.train_words(texts, 50)
    assert (
        words.kind == "word" and words.encode("great") != [] and words.decode(words.encode("THE MOVIE")) == "the movie"
    )
    assert words.encode("zebra") == [1]  # unknown word
    bpe = LibraryTokenizer.train_bpe(texts, 300)
    sample = "The movie, é!\nsecond line"
    assert bpe.kind == "bpe" and bpe.decode(bpe.encode(sample)) == sample  # byte-level: lossless
    for tokenizer in (words, bpe):
        again = tokenizer_from_json(tokenizer.to_json())
        assert again.kind == tokenizer.kind and again.encode(sample) == tokenizer.encode(sample)
        assert json.loads(tokenizer.to_json())["added_tokens"][0]["content"] == "[PAD]"  # the library's own format


def test_id_tokenizer_reads_numbers_and_rejects_the_rest():
    tokenizer = IdTokenizer(1000)
    assert tokenizer.encode("5 17, 999") == [5, 17, 999]
    with pytest.raises(ArchzooError, match="whole numbers"):
        tokenizer.encode("great film")
    with pytest.raises(ArchzooError, match="outside the vocabulary"):
        tokenizer.encode("1000")


def test_empty_text_is_a_clear_error():
    with pytest.raises(ArchzooError, match="text 2 of 2 is empty"):
        encode_texts(IdTokenizer(10), ["1 2", "   "])
    with pytest.raises(ArchzooError, match="no tokenizer"):
        encode_texts(None, ["1 2"])


# -- parameter counts ---------------------------------------------------------------------------


def test_the_notes_parameter_counts_by_building():
    from archzoo.plugins.rnn import NOTES_PARAMETERS
    from archzoo.plugins.rnn.model import SentimentRNN
    from archzoo.plugins.transformer import NOTES_PARAMETERS as TRANSFORMER
    from archzoo.plugins.transformer import transformer_parameters
    from archzoo.plugins.transformer.model import TransformerClassifier

    def count(model):
        return sum(p.numel() for p in model.parameters())

    assert (
        count(SentimentRNN(1000, embed_dim=128, hidden=256, layers=2, dropout=0.3, head_hidden=128))
        == NOTES_PARAMETERS
        == 2_561_410
    )
    assert count(TransformerClassifier(10_000, d_model=128, heads=4, d_ff=512, layers=4)) == TRANSFORMER == 2_073_602
    assert transformer_parameters(10_000) == 2_073_602 and transformer_parameters(1000) == 921_602
    post = TransformerClassifier(10_000, norm="post")
    assert count(post) == transformer_parameters(10_000, norm="post") == 2_073_602 - 256


def test_archzoo_info_shows_the_preset_counts(capsys):
    """gpt-2-small's 124,439,808 is counted as `info` counts every preset: by
    building the model (124M parameters, a few seconds, no training)."""
    from archzoo.cli import main
    from archzoo.plugins.gpt import GPT2_SMALL_PARAMETERS, gpt_parameters

    assert gpt_parameters(50_257, 12, 768, 1024) == GPT2_SMALL_PARAMETERS == 124_439_808
    for preset, expected in (
        ("gpt-2-small", "124,439,808"),
        ("rnn-notes", "2,561,410"),
        ("transformer-notes", "2,073,602"),
    ):
        assert main(["info", preset]) == 0
        out = capsys.readouterr().out
        assert f"parameters: {expected}" in out, out


# -- end to end: train, save the tokenizer, read text from the checkpoint ---------------------------


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    import os

    from archzoo.registry.host import reset_host

    path = tmp_path_factory.mktemp("store")
    old = os.environ.get("ARCHZOO_CHECKPOINTS")
    os.environ["ARCHZOO_CHECKPOINTS"] = str(path)
    reset_host()
    yield path
    if old is None:
        os.environ.pop("ARCHZOO_CHECKPOINTS", None)
    else:
        os.environ["ARCHZOO_CHECKPOINTS"] = old
    reset_host()


@pytest.fixture(scope="module")
def rnn_run(store):
    result = train(
        "rnn", overrides={"epochs": 1, "max_steps": 6, "embed_dim": 16, "hidden": 16, "head_hidden": 0}, out="rnn-tiny"
    )
    return result.best_dir


def test_text_checkpoint_carries_its_tokenizer(rnn_run):
    assert (rnn_run / "tokenizer.json").is_file()
    meta = json.loads((rnn_run / "config.json").read_text())
    assert set(meta["files"]) == {"tokenizer.json"} and meta["dataset"]["info"]["vocab_size"] == 1000
    loaded = load(rnn_run)
    assert isinstance(loaded.tokenizer, IdTokenizer) and loaded.tokenizer.vocab_size == 1000


def test_predict_reads_text_with_the_checkpoint_tokenizer(rnn_run):
    results, notes = predict(rnn_run, ["900 950 800", "3 7 11 40"], top_k=2)
    assert len(results) == 2 and notes == []
    for ranked in results:
        assert {label for label, _ in ranked} == {"negative", "positive"}
        assert abs(sum(p for _, p in ranked) - 1.0) < 1e-5
    with pytest.raises(ArchzooError, match="empty"):
        predict(rnn_run, ["  "])


def test_cli_predict_takes_text_and_files(rnn_run, tmp_path, capsys):
    from archzoo.cli import main

    texts = tmp_path / "texts.txt"
    texts.write_text("900 950\n\n10 20 30\n", encoding="utf-8")
    assert main(["predict", str(rnn_run), str(texts), "--text", "500 501", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [row["input"] for row in out] == ["500 501", "900 950", "10 20 30"]
    assert main(["predict", str(rnn_run), "--text", ""]) == 2
    assert "empty" in capsys.readouterr().err


def test_a_damaged_tokenizer_is_refused(rnn_run, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(rnn_run, copy)
    (copy / "tokenizer.json").write_text('{"type": "archzoo-ids", "version": 1, "vocab_size": 7}', encoding="utf-8")
    with pytest.raises(CheckpointError, match="sha256"):
        load(copy)
    (copy / "tokenizer.json").unlink()
    with pytest.raises(CheckpointError, match="lacks|has no tokenizer.json"):
        load(copy)


def test_csv_model_predicts_and_evaluates_with_its_own_tokenizer(store, reviews_csv):
    result = train(
        "transformer",
        dataset=str(reviews_csv),
        out="reviews",
        overrides={
            "text_column": "review",
            "label_column": "sentiment",
            "epochs": 8,
            "lr": 1e-2,
            "d_model": 16,
            "d_ff": 32,
            "layers": 1,
            "dropout": 0.0,
            "batch_size": 16,
        },
    )
    loaded = load(result.best_dir)
    assert loaded.tokenizer.kind == "word" and loaded.info.class_names == ("neg", "pos")
    metrics = evaluate_checkpoint(result.best_dir)
    assert set(metrics) == {"accuracy", "loss"} and 0.0 <= metrics["accuracy"] <= 1.0
    ranked, _ = predict(result.best_dir, ["a wonderful , moving film", "boring and far too long"], top_k=1)
    assert [r[0][0] for r in ranked] == ["pos", "neg"]


def test_sst2_model_reads_new_sentences(store, sst2_dir):
    result = train(
        "rnn",
        dataset="sst2",
        data_dir=sst2_dir,
        out="sst2-tiny",
        overrides={
            "max_steps": 3,
            "embed_dim": 8,
            "hidden": 8,
            "head_hidden": 0,
            "batch_size": 32,
            "val_fraction": 0.01,
        },
    )
    result_probs = sample_checkpoint(load(result.best_dir), {"texts": ["a gorgeous , witty film", "dull"]})
    assert result_probs.kind == "class-probabilities" and result_probs.outputs["probabilities"].shape == (2, 2)
    assert load(result.best_dir).info.vocab_size == 10_000


# -- gpt ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gpt_run(store):
    result = train("gpt", overrides={"epochs": 1, "max_steps": 40, "lr": 1e-2, "batch_size": 32}, out="gpt-tiny")
    return result


def test_gpt_learns_and_reports_perplexity(gpt_run):
    first, last = gpt_run.step_losses[0], gpt_run.step_losses[-1]
    assert last < first - 0.3, gpt_run.step_losses
    metrics = gpt_run.val_metrics
    assert list(metrics) == ["loss", "perplexity"]
    assert metrics["perplexity"] == pytest.approx(np.exp(metrics["loss"]), rel=1e-6)


def test_gpt_generates_from_its_checkpoint(gpt_run):
    from archzoo.inference.generation import generate_text

    where = gpt_run.best_dir
    first = generate_text(where, "the clever ", temperature=0.8, top_k=5, max_length=40, n=2, seed=3)
    again = generate_text(where, "the clever ", temperature=0.8, top_k=5, max_length=40, n=2, seed=3)
    assert first == again and len(first) == 2
    assert all(t.startswith("the clever ") and len(t) == len("the clever ") + 40 for t in first)
    greedy = {generate_text(where, "a ", temperature=1.0, top_k=1, max_length=20, seed=s)[0] for s in (1, 2, 3)}
    assert len(greedy) == 1  # top-1 sampling is greedy: the seed no longer matters
    wild = generate_text(where, "", temperature=1.5, max_length=30, n=4, seed=0)
    assert all(isinstance(t, str) for t in wild)


def test_cli_generate(gpt_run, capsys):
    from archzoo.cli import main

    code = main(
        [
            "generate",
            str(gpt_run.best_dir),
            "--prompt",
            "my ",
            "--temperature",
            "0.5",
            "--top-k",
            "10",
            "--length",
            "25",
            "--seed",
            "1",
            "--json",
        ]
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["prompt"] == "my " and out["texts"][0].startswith("my ")
    assert main(["generate", str(gpt_run.best_dir), "--temperature", "0"]) == 2
    assert "temperature" in capsys.readouterr().err


def test_gpt_evaluates_from_its_checkpoint(gpt_run):
    metrics = evaluate_checkpoint(gpt_run.best_dir)
    assert set(metrics) == {"loss", "perplexity"} and metrics["loss"] < np.log(29)


def test_confusion_matrix_of_a_text_model(rnn_run):
    from archzoo.evaluation.metrics import confusion_matrix

    matrix = confusion_matrix(rnn_run)
    assert matrix.class_names == ["negative", "positive"] and sum(map(sum, matrix.counts)) == 1000


def test_a_text_file_is_a_corpus_split_in_order(tmp_path):
    path = tmp_path / "story.txt"
    path.write_text("".join(f"line number {i} of the story\n\n" for i in range(100)), encoding="utf-8")
    splits = load_dataset(str(path), DataOptions(val_fraction=0.1))
    assert splits.info.task == "text-generation" and splits.tokenizer.kind == "char"
    test_text = splits.tokenizer.decode(splits.test.stream.tolist())
    assert test_text.startswith("line number 90 ") and test_text.rstrip().endswith("line number 99 of the story")
    assert splits.tokenizer.decode(splits.val.stream.tolist()).startswith("line number 81 ")
    with pytest.raises(DataError, match="no text"):
        (tmp_path / "blank.txt").write_text("\n \n", encoding="utf-8")
        load_dataset(str(tmp_path / "blank.txt"), DataOptions())
