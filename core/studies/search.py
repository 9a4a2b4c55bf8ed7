"""A search study's workers: each trial samples a point of the space and trains it.

Trials are counted in the storage, so workers in several processes or on
several machines stop at exactly ``--trials`` in all: after claiming a
trial, a worker ranks it by trial number among the trials that count (done,
failed, pruned, running or waiting) and gives it back unrun when ``--trials``
come before it. A stopped trial does not count; started again, the study
queues its point once more, to resume it in its own folder.

Each trial's sampler is seeded from the study's ``--seed`` and the trial's
number: a one-worker search samples the same first points every time, and
workers never sample the same random points.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from archzoo.registry.host import Host
from archzoo.runs.lock import is_locked
from archzoo.studies import space as search_space
from archzoo.studies.spec import StudySpec
from archzoo.studies.trial import TrialDone, run_trial, trial_folder


def sampler(spec: StudySpec, number: int) -> optuna.samplers.BaseSampler:
    """The sampler for trial ``number``, seeded from the study's seed and that number."""
    digest = hashlib.sha256(f"{spec.sampler_seed}:{number}".encode()).digest()
    seed = int.from_bytes(digest[:4], "big")
    if spec.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def counts(trial: FrozenTrial) -> bool:
    """Whether a trial counts towards ``--trials``: all but the stopped and the given back."""
    return not (trial.state == TrialState.FAIL and trial.user_attrs.get("stopped", True))


def enqueue_missing(study: optuna.Study, spec: StudySpec, host: Host) -> None:
    """Queue again the points of trials that were stopped or whose worker died, once each."""
    trials = study.get_trials(deepcopy=False)
    for trial in trials:
        if trial.state == TrialState.RUNNING and "index" in trial.user_attrs:
            if not is_locked(trial_folder(spec, trial.user_attrs["index"], host)):
                study.tell(trial.number, state=TrialState.FAIL, skip_if_finished=True)  # its worker died
    trials = study.get_trials(deepcopy=False)
    taken = {t.user_attrs["index"] for t in trials if "index" in t.user_attrs and counts(t)}
    for trial in trials:
        index = trial.user_attrs.get("index")
        if index is None or index in taken or counts(trial):
            continue
        taken.add(index)
        study.enqueue_trial(dict(trial.params), user_attrs={"index": index}, skip_if_exists=False)


def work(
    study: optuna.Study,
    spec: StudySpec,
    *,
    host: Host,
    on_trial: Callable[[TrialDone], None] | None = None,
    on_event: Callable[[Any], None] | None = None,
    stop: threading.Event | None = None,
    data_dir: str | Path | None = None,
) -> list[TrialDone]:
    """Claim, sample and run trials until ``--trials`` are counted (or ``stop`` is set)."""
    done = []
    params = search_space.params(spec.space)
    while not (stop is not None and stop.is_set()):
        trials = study.get_trials(deepcopy=False)
        waiting = any(t.state == TrialState.WAITING for t in trials)
        if not waiting and sum(counts(t) for t in trials) >= spec.search_trials:
            break
        trial = study.ask()
        ahead = sum(counts(t) and t.number < trial.number for t in study.get_trials(deepcopy=False))
        if ahead >= spec.search_trials:  # others claimed the last trials first: give this one back
            trial.set_user_attr("stopped", True)
            study.tell(trial, state=TrialState.FAIL)
            break
        study.sampler = sampler(spec, trial.number)
        settings = {p.key: p.suggest(trial) for p in params}
        index = trial.user_attrs.get("index", trial.number)
        label = " ".join(f"{k}={search_space.shown(v)}" for k, v in settings.items())
        seed = int(spec.base.get("seed", 0) or 0)
        for key, value in {"index": index, "label": label, "seed": seed, "settings": settings}.items():
            trial.set_user_attr(key, value)
        report = TrialDone(index, label, seed, trial_folder(spec, index, host), "complete", settings=settings)
        result = run_trial(
            study,
            trial,
            spec,
            report,
            spec.search_overrides(settings),
            host=host,
            on_event=on_event,
            stop=stop,
            data_dir=data_dir,
        )
        done.append(result)
        if on_trial is not None:
            on_trial(result)
        if result.state == "stopped":
            break
    return done
