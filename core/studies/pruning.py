"""Median pruning, opt-in (``--prune``): a trial whose validation metric lags stops early.

After each epoch a trial reports its validation metric (the study's metric on
the validation split: ``validation.accuracy`` for a study judged on
``test.accuracy``); Optuna's median rule compares the trial's best so far with
the median of the complete trials at the same epoch. A pruned trial's run
ends as ``stopped-early`` with the tag ``pruned``, and its Optuna trial is
PRUNED: done, so a restarted study does not run it again.
"""

from __future__ import annotations

from typing import Any

import optuna

#: Complete trials before any trial is pruned: the median of fewer says little.
AFTER_TRIALS = 3
#: No trial is pruned before this epoch: the first epoch's numbers are noise.
FROM_EPOCH = 2
#: The tag on a pruned trial's run.
TAG = "pruned"


def pruner(prune: bool) -> optuna.pruners.BasePruner:
    if not prune:
        return optuna.pruners.NopPruner()
    return optuna.pruners.MedianPruner(n_startup_trials=AFTER_TRIALS, n_warmup_steps=FROM_EPOCH)


def watched(metric: str) -> str:
    """The metric reported per epoch: the study's, on the validation split."""
    return "validation." + metric.rpartition(".")[2]


class EpochJudge:
    """Reports each epoch's validation metric to the trial and answers whether to stop.

    Given to :func:`archzoo.training.launch.train` as ``stop_early``; the last
    epoch is reported but never pruned (there is nothing left to save)."""

    def __init__(self, trial: optuna.Trial, metric: str, epochs: int) -> None:
        self.trial = trial
        self.metric = watched(metric)
        self.epochs = epochs
        self.pruned_at: int | None = None
        self.value: float | None = None

    def __call__(self, ended: Any) -> str | None:
        name = self.metric.partition(".")[2]
        value = (ended.val_metrics or {}).get(name)
        if value is None:
            return None  # no validation split: nothing to judge by
        self.trial.report(float(value), ended.epoch)
        if ended.epoch >= self.epochs or not self.trial.should_prune():
            return None
        self.pruned_at, self.value = ended.epoch, float(value)
        return f"pruned at epoch {ended.epoch}: {self.metric} {value:.4f} is behind the median of the study's trials"
