"""The ``archzoo`` command line, one module per group of commands.

- :mod:`~archzoo.cli.main`: the parser and the dispatch
- :mod:`~archzoo.cli.output`: arguments several commands share, and printing
- :mod:`~archzoo.cli.models` (list, info), :mod:`~archzoo.cli.training` (train),
  :mod:`~archzoo.cli.evaluation` (eval, report), :mod:`~archzoo.cli.inference`
  (predict, generate, embed, sample), :mod:`~archzoo.cli.hub` (push, pull),
  :mod:`~archzoo.cli.app` (ui, check)

A new command is a ``register(commands)`` in a group module (or a new module
listed in :data:`archzoo.cli.main.GROUPS`) calling a function of :mod:`archzoo.api`.
"""

from archzoo.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
