"""Security, classes 1 and 9: requests and files of any size are bounded, and bad ones are messages.

The command line runs in a subprocess as a user types it; the request limits are
exercised through the same functions the app's buttons call.  Real files: a
digits checkpoint, real PNGs, real gzip and IDX files.
"""

from __future__ import annotations

import gzip
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from archzoo.registry.limits import MAX_IMAGE_PIXELS, MAX_TEXT_LINES, LimitError

FAST = {"epochs": "1", "batch_size": "256"}


def cli(*args: str, env: dict | None = None, expect: int = 2) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "archzoo.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})},
    )
    assert result.returncode == expect, result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    return result


@pytest.fixture(scope="module")
def digits(tmp_path_factory) -> Path:
    from archzoo.api import train

    root = tmp_path_factory.mktemp("inputs")
    return train("mlp", dataset="digits", overrides=FAST, out=str(root / "mlp")).best_dir


# -- 1: request sizes -----------------------------------------------------------------------------


def test_an_image_over_the_pixel_limit_is_a_message_in_the_cli_and_the_app(digits, tmp_path):
    from PIL import Image

    from archzoo.inference.classify import classify_image

    side = int(MAX_IMAGE_PIXELS**0.5) + 64
    huge = tmp_path / "huge.png"
    Image.new("L", (side, side)).save(huge, optimize=False)
    result = cli("predict", str(digits), str(huge))
    assert f"huge.png is {side:,} x {side:,} pixels, more than the limit" in result.stderr
    with pytest.raises(LimitError, match="more than the limit"):
        classify_image(digits, str(huge))


def test_too_many_lines_of_rows_are_refused_before_they_are_split(tmp_path):
    from archzoo.api import train
    from archzoo.inference.classify import classify_rows

    best = train("mlp-moons", overrides={"epochs": "1"}, out=str(tmp_path / "moons")).best_dir
    with pytest.raises(LimitError, match=f"has {MAX_TEXT_LINES + 1:,} lines, more than the limit"):
        classify_rows(best, "0.1, 0.2\n" * MAX_TEXT_LINES)
    with pytest.raises(LimitError, match="bytes, more than the limit"):
        classify_rows(best, "0.1, 0.2 " * 400_000)
    assert classify_rows(best, "0.1, 0.2\n" * 100).top_k  # within the limits: answered


def test_top_k_out_of_range_is_a_message(digits):
    from archzoo.api import predict

    result = cli("predict", str(digits), "x.png", "--top-k", "-5")
    assert "--top-k: top-k must be a whole number from 1 to 1000, not -5" in result.stderr
    with pytest.raises(LimitError, match="top-k must be a whole number"):
        predict(digits, [[0.0] * 64], top_k=10**9)


# -- 9: names and paths on the command line --------------------------------------------------------


def test_a_very_long_name_is_a_message(tmp_path):
    env = {"ARCHZOO_CHECKPOINTS": str(tmp_path)}
    long = "a" * 300
    assert "too long for a file name" in cli("eval", long, env=env).stderr
    assert "too long for a file name" in cli("train", "mlp", "--out", long, env=env).stderr
    assert "too long for a file name" in cli("train", "mlp", "--dataset", long, env=env).stderr


def test_a_name_with_a_nul_character_is_a_message(tmp_path):
    from archzoo.api import evaluate_checkpoint, train
    from archzoo.registry.paths import PathRefused

    with pytest.raises(PathRefused, match="has a NUL character"):
        evaluate_checkpoint("run\x00name")
    with pytest.raises(PathRefused, match="has a NUL character"):
        train("mlp", dataset="digits", overrides=FAST, out=str(tmp_path / "a\x00b"))


# -- 9: data files ---------------------------------------------------------------------------


def _idx(path: Path, dims: tuple[int, ...], data: bytes, *, compress: bool = True) -> Path:
    raw = b"\x00\x00\x08" + bytes([len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + data
    path.write_bytes(gzip.compress(raw) if compress else raw)
    return path


def test_idx_images_of_5_by_5_are_a_message(tmp_path):
    for split in ("train", "t10k"):
        _idx(tmp_path / f"{split}-images-idx3-ubyte.gz", (40, 5, 5), bytes(1000))
        _idx(tmp_path / f"{split}-labels-idx1-ubyte.gz", (40,), bytes(40))
    env = {"ARCHZOO_CHECKPOINTS": str(tmp_path / "store")}
    result = cli("train", "mlp", "--dataset", "mnist", "--data-dir", str(tmp_path), "--set", "epochs=1", env=env)
    assert "holds images of 5 x 5 pixels; an MNIST-like dataset's are 28 x 28" in result.stderr
    from archzoo.data import DataOptions, load_dataset
    from archzoo.errors import DataError

    with pytest.raises(DataError, match="holds images of 5 x 5 pixels; an MNIST-like dataset's are 28 x 28"):
        load_dataset("mnist", DataOptions(data_dir=tmp_path))


def test_a_gzip_that_would_expand_hugely_is_refused_from_its_header_without_decompressing(tmp_path):
    import resource

    from archzoo.data.images import read_idx
    from archzoo.errors import DataError

    bomb = tmp_path / "bomb-idx3-ubyte.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as out:  # promises 60000 x 1000 x 1000 bytes: 60 GB
        out.write(b"\x00\x00\x08\x03" + struct.pack(">3I", 60000, 1000, 1000))
        block = bytes(1 << 20)
        for _ in range(64):  # 64 MiB of zeros, a few dozen KiB compressed
            out.write(block)
    assert bomb.stat().st_size < 1 << 20
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(DataError, match="promises 60,000,000,000 bytes of data .* more than the limit"):
        read_idx(bomb)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 32_000  # KiB: not even the 64 MiB


def test_a_word_tokenizer_on_a_tiny_corpus_trains_or_says_why(tmp_path):
    from archzoo.api import train

    corpus = tmp_path / "tiny.txt"
    corpus.write_text("the cat sat\non the mat\n")
    overrides = {"tokenizer": "word", "epochs": "1", "n_layer": "1", "n_head": "1", "n_embd": "8", "block_size": "4"}
    result = train("gpt", dataset=str(corpus), overrides=overrides, out=str(tmp_path / "gpt"))
    assert result.status == "finished"
    (tmp_path / "punctuation.txt").write_text("   \n\t\n")
    env = {"ARCHZOO_CHECKPOINTS": str(tmp_path / "store")}
    message = cli("train", "gpt", "--dataset", str(tmp_path / "punctuation.txt"), "--set", "tokenizer=word", env=env)
    assert "the corpus has no text" in message.stderr
