"""Runs: what a training run emits and what that adds up to.

- :mod:`~archzoo.runs.events`: the events a run emits, in order
- :mod:`~archzoo.runs.progress`: events folded into progress, curves and a log

The trainer (a layer above) emits these; the CLI, the app and anything else
that follows a run read them.  Torch-free.
"""
