"""The ``archzoo`` command line."""

from archzoo.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
