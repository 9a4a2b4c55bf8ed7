"""What every command group shares: the arguments several commands take, declared
once, and the ways results are printed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from archzoo.errors import ArchzooError


def checkpoint_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", help="checkpoint folder, run folder, name in the store, or hf://user/repo")


def data_arguments(parser: argparse.ArgumentParser, splits: tuple[str, ...] = ("train", "validation", "test")) -> None:
    """--dataset, --split and --data-dir: which data to judge a checkpoint on."""
    parser.add_argument("--dataset", help="another dataset of the same task and input shape")
    parser.add_argument("--split", default="test", choices=list(splits))
    parser.add_argument("--data-dir", help="folder that holds the dataset's files")


def json_flag(parser: argparse.ArgumentParser, text: str = "machine-readable output") -> None:
    parser.add_argument("--json", action="store_true", help=text)


def text_arguments(parser: argparse.ArgumentParser, files: str, verb: str) -> None:
    """FILE arguments and repeatable --text, for commands that read texts."""
    parser.add_argument("inputs", nargs="*", metavar="FILE", help=files)
    parser.add_argument(
        "--text", dest="texts", action="append", default=[], metavar="TEXT", help=f"a text to {verb} (repeatable)"
    )


def table(header: tuple[str, ...], rows: list[tuple]) -> None:
    """Columns padded to their widest cell; the last column is left ragged."""
    rows = [tuple("" if c is None else str(c) for c in r) for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    for row in (header, *rows):
        cells = [c.ljust(w) for c, w in zip(row[:-1], widths[:-1])] + [row[-1]]
        print("  ".join(cells).rstrip())


def notes(lines: list[str]) -> None:
    """What was changed or assumed along the way, on stderr so that stdout stays the answer."""
    for line in lines:
        print(f"note: {line}", file=sys.stderr)


def text_lines(files: list[str]) -> list[str]:
    """The non-blank lines of each file ('-' is standard input), one text each."""
    texts = []
    for name in files:
        if name == "-":
            lines = sys.stdin.read().splitlines()
        else:
            path = Path(name)
            if not path.is_file():
                raise ArchzooError(f"{path}: no such file")
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except UnicodeDecodeError:
                raise ArchzooError(f"{path} is not UTF-8 text: give a text file, one text per line") from None
        found = [line.strip() for line in lines if line.strip()]
        if not found:
            raise ArchzooError(f"{name} holds no text: write one text per line")
        texts += found
    return texts
