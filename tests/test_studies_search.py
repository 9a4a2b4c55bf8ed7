"""Search studies and median pruning: real runs of the real trainer on digits, real Optuna, SQLite in tmp.

Spec parsing and planning are checked in this process (torch-free, fast);
studies run through the ``archzoo`` command as a user types it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import optuna
import pytest
from optuna.trial import TrialState

from archzoo.errors import ArchzooError
from archzoo.runs.record import read_record
from archzoo.studies.space import Choice, Range, params, parse_space
from archzoo.studies.spec import Cell, StudySpec, shipped_studies

ARCHZOO = [sys.executable, "-m", "archzoo.cli"]
SEARCH = ["study", "run", "--preset", "mlp", "--dataset", "digits", "--set", "batch_size=256", "--quiet"]


def archzoo(*args: str, env: dict, rc: int | None = 0) -> subprocess.CompletedProcess:
    done = subprocess.run([*ARCHZOO, *args], capture_output=True, text=True, env=env, timeout=600)
    if rc is not None:
        assert done.returncode == rc, f"rc {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture
def env(tmp_path):
    return {**os.environ, "ARCHZOO_CHECKPOINTS": str(tmp_path), "OMP_NUM_THREADS": "1"}


def trials(store, name):
    study = optuna.load_study(study_name=name, storage=f"sqlite:///{store / 'studies.sqlite3'}")
    return study.get_trials(deepcopy=False)


def test_a_random_search_runs_its_trials_once_each_at_distinct_points_inside_the_space(env, tmp_path):
    space = ["--search", "lr=log:1e-3:1e-1", "--search", "hidden=16,32", "--search", "dropout=0:0.3"]
    archzoo(*SEARCH, "--set", "epochs=1", *space, "--trials", "4", "--sampler", "random", "--name", "s", env=env)
    done = sorted((t for t in trials(tmp_path, "s") if t.state == TrialState.COMPLETE), key=lambda t: t.number)
    assert len(done) == 4 and len({(t.params["lr"], t.params["dropout"]) for t in done}) == 4
    # Each trial sampled with the sampler seeded from --seed (0) and its number: the same points again.
    spec = StudySpec("s", "mlp", [], space=parse_space(space[1::2]), search_trials=4, sampler="random")
    assert [t.params for t in done] == replay(spec, 4)
    for t in done:
        assert 1e-3 <= t.params["lr"] <= 1e-1 and t.params["hidden"] in ("16", "32") and 0 <= t.params["dropout"] <= 0.3
        record = read_record(tmp_path / "s" / f"{t.user_attrs['index']:03d}")
        assert record["status"] == "finished" and record["tags"] == ["study:s"] and "lr=" in record["note"]
        assert record["train"]["lr"] == pytest.approx(t.params["lr"])
        assert record["config"]["hidden"] == [int(t.params["hidden"])] == [int(t.user_attrs["settings"]["hidden"])]
        assert record["metrics"]["best"]["validation"]["accuracy"] == pytest.approx(t.value)
    shown = json.loads(archzoo("study", "show", "s", "--json", "--out", str(tmp_path / "table"), env=env).stdout)
    values = [row["value"] for row in shown["trials"]]
    assert shown["progress"] == "4/4 trials done" and values == sorted(values, reverse=True)
    assert (tmp_path / "table" / "study.png").stat().st_size > 5_000


def replay(spec: StudySpec, count: int) -> list[dict]:
    """The first ``count`` points the study's seeded samplers give, in a fresh in-memory study."""
    from archzoo.studies import search

    study = optuna.create_study(direction=spec.direction)
    for _ in range(count):
        trial = study.ask()
        study.sampler = search.sampler(spec, trial.number)
        for param in params(spec.space):
            param.suggest(trial)
        study.tell(trial, 0.5)
    return [t.params for t in study.trials]


def test_tpe_with_a_seed_samples_the_same_first_points_again():
    def spec(seed: int) -> StudySpec:
        space = parse_space(["lr=log:1e-4:1e-1", "hidden=8,16,32", "dropout=0:0.5"])
        return StudySpec("t", "mlp", [], space=space, search_trials=3, sampler="tpe", sampler_seed=seed)

    first = replay(spec(7), 3)
    assert replay(spec(7), 3) == first and replay(spec(8), 3) != first
    assert len({p["lr"] for p in first}) == 3


def test_median_pruning_stops_a_trial_that_cannot_learn_and_a_restart_leaves_it_pruned(env, tmp_path):
    # Three working learning rates complete first; lr=1e-6 cannot learn in three epochs.
    command = [*SEARCH, "--set", "epochs=3", "--grid", "lr=0.05,0.03,0.02,0.000001", "--prune", "--name", "p"]
    archzoo(*command, env=env)
    states = [t.state for t in sorted(trials(tmp_path, "p"), key=lambda t: t.user_attrs["index"])]
    assert states == [TrialState.COMPLETE] * 3 + [TrialState.PRUNED]
    record = read_record(tmp_path / "p" / "003")
    assert record["status"] == "stopped-early" and record["tags"] == ["study:p", "pruned"]
    assert record["progress"]["epoch"] == 2 and "pruned at epoch 2" in record["note"]
    shown = json.loads(archzoo("study", "show", "p", "--json", env=env).stdout)
    assert shown["cells"][3]["pruned"] == 1 and shown["progress"] == "4/4 trials done, 1 pruned"
    stamps = {i: (tmp_path / "p" / f"{i:03d}" / "run.json").stat().st_mtime_ns for i in range(4)}
    again = archzoo(*[a for a in command if a != "--quiet"], env=env)  # started again: nothing is missing
    assert "trial 0" not in again.stdout and "pruned" in again.stdout
    assert {i: (tmp_path / "p" / f"{i:03d}" / "run.json").stat().st_mtime_ns for i in range(4)} == stamps


def test_two_workers_on_one_search_run_exactly_its_trials(env, tmp_path):
    archzoo(*SEARCH, "--set", "epochs=1", "--search", "lr=log:1e-3:1e-1", "--trials", "4", "--sampler", "random",
            "--workers", "2", "--name", "w", env=env)  # fmt: skip
    all_trials = trials(tmp_path, "w")
    done = [t for t in all_trials if t.state == TrialState.COMPLETE]
    assert len(done) == 4 and len({t.user_attrs["index"] for t in done}) == 4
    assert len({t.params["lr"] for t in done}) == 4  # workers never sample one point twice
    assert not [t for t in all_trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    folders = sorted(p.name for p in (tmp_path / "w").iterdir())
    assert folders == sorted(f"{t.user_attrs['index']:03d}" for t in done)
    for folder in folders:
        assert len(read_record(tmp_path / "w" / folder)["lineage"]["sessions"]) == 1
    archzoo("study", "work", "w", env=env)  # another worker finds nothing left to do
    assert sum(t.state == TrialState.COMPLETE for t in trials(tmp_path, "w")) == 4


def test_search_specs_parse_into_choices_and_ranges():
    space = parse_space(["lr=log:1e-4:1e-1", "hidden=32,64", "layers=256,128|512", "dropout=0:0.5:0.1", "n=int:1:4"])

    lr, hidden, layers, dropout, n = params(space)  # in the order written
    assert lr == Range("lr", "float", 1e-4, 1e-1, log=True) and hidden == Choice("hidden", ("32", "64"))
    assert layers.values == ("256,128", "512") and dropout.step == 0.1 and n == Range("n", "int", 1, 4)
    assert params(parse_space(["scale=logint:16:512"]))[0] == Range("scale", "int", 16, 512, log=True)


@pytest.mark.parametrize(
    ("item", "said"),
    [
        ("lr", "--search expects KEY=V1,V2"),
        ("lr=log:0:1", "'lr=log:0:1': a log range needs LOW above 0"),
        ("lr=0.1:0.01", "'lr=0.1:0.01': LOW must be below HIGH"),
        ("lr=log:1e-4:big", "'big' is not a number"),
        ("hidden=int:1.5:4", "an int range needs whole numbers"),
        ("lr=0.1", "a choice needs two values or more; set a single value with --set lr=0.1"),
        ("lr=log:1e-4:1e-1:0.1", "a log range takes no STEP"),
        ("hidden=32,32", "'hidden=32,32': a value is listed twice"),
    ],
)
def test_bad_search_specs_are_refused_naming_the_item(item, said):
    with pytest.raises(
        ArchzooError,
    ) as refused:
        parse_space([item])
    assert said in str(refused.value)


def test_a_space_is_planned_at_its_ends_and_values_before_any_trial(store):
    def search(**changes):
        return StudySpec(
            **{"name": "x", "target": "mlp", "cells": [], "dataset": "digits", "search_trials": 3, **changes}
        )

    search(space={"lr": "log:1e-4:1e-1", "hidden": "32,64"}).check()
    cases = {
        "'lr=1:20' at lr=20.0": {"space": {"lr": "1:20"}},  # the trainer allows lr up to 10
        "'epochs=int:0:3' at epochs=0": {"space": {"epochs": "int:0:3"}},
        "'activation=relu,swish' at activation=swish": {"space": {"activation": "relu,swish"}},
        "'nosuch=1,2' at nosuch=1": {"space": {"nosuch": "1,2"}},
        "--seeds is for grids": {"space": {"lr": "0:1"}, "seeds": 2},
        "a search needs --trials N": {"space": {"lr": "0:1"}, "search_trials": 0},
        "'lr' is both searched and --set": {"space": {"lr": "0:1"}, "base": {"lr": "0.1"}},
        "give --grid or --search, not both": {"space": {"lr": "0:1"}, "cells": [Cell("a", {"lr": "0.1"})]},
    }
    for said, changes in cases.items():
        with pytest.raises(ArchzooError) as refused:
            search(**changes).check()
        assert said in str(refused.value), (said, str(refused.value))


def test_a_spec_stored_before_search_existed_still_matches_its_study():
    spec = StudySpec(name="g", target="mlp", cells=[Cell("lr=0.1", {"lr": "0.1"})], dataset="digits")
    old = {k: v for k, v in json.loads(spec.to_json()).items() if k not in ("space", "search_trials", "sampler",
                                                                            "sampler_seed", "prune")}  # fmt: skip
    assert StudySpec.from_json(json.dumps(old)) == spec
    with pytest.raises(ArchzooError, match="made by a newer archzoo"):
        StudySpec.from_json(json.dumps({**old, "someday": 1}))
    search = StudySpec(name="s", target="mlp", cells=[], space={"lr": "log:1e-4:1e-1"}, search_trials=4, prune=True)
    assert StudySpec.from_json(search.to_json()) == search


def test_a_plugin_ships_studies_through_its_registry(tmp_path):
    import archzoo_softmax_regression

    from archzoo.registry.host import Host

    host = Host(entry_points=False, extra_plugins={"softmax-regression": archzoo_softmax_regression})
    studies = shipped_studies(host=host)
    assert {"digits-lr-quick", "softmax-digits-lr"} <= set(studies)
    shipped = studies["softmax-digits-lr"]
    assert shipped.is_search and shipped.space == {"lr": "log:1e-4:1e-1"} and shipped.planned == 6
    shipped.check(host)

    from archzoo.registry.hookspecs import hookimpl

    def plugin_shipping(path):
        class Plugin:
            @staticmethod
            @hookimpl
            def archzoo_register(registry):
                registry.add_studies(path)

        return Plugin

    clash = tmp_path / "clash.toml"
    clash.write_text('[studies.digits-lr-quick]\ntarget = "mlp"\ncells = { a = { lr = 0.1 } }\n', encoding="utf-8")
    with pytest.raises(ArchzooError, match="'digits-lr-quick' is shipped twice: by archzoo and by plugin 'clash'"):
        shipped_studies(host=Host(entry_points=False, extra_plugins={"clash": plugin_shipping(clash)}))
    broken = tmp_path / "broken.toml"
    broken.write_text("not toml [", encoding="utf-8")
    with pytest.warns(UserWarning, match="plugin 'broken': its studies file .* is skipped"):
        found = shipped_studies(host=Host(entry_points=False, extra_plugins={"broken": plugin_shipping(broken)}))
    assert "digits-lr-quick" in found


def test_the_docs_list_every_shipped_study_and_the_search_syntax():
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[1] / "docs" / "studies.md").read_text(encoding="utf-8")
    for name in shipped_studies(plugins=False):
        assert f"`{name}`" in docs, f"docs/studies.md does not list the shipped study {name}"
    for form in ("log:LOW:HIGH", "int:LOW:HIGH", "logint:LOW:HIGH", "--prune", "--trials", "--sampler"):
        assert form in docs


def test_a_stopped_or_abandoned_search_trial_is_queued_again_once_at_its_point(store):
    from archzoo.registry.host import get_host
    from archzoo.studies import search

    spec = StudySpec("r", "mlp", [], dataset="digits", space={"lr": "log:1e-4:1e-1"}, search_trials=3)
    study = optuna.create_study(direction="maximize")
    lr = optuna.distributions.FloatDistribution(1e-4, 1e-1, log=True)
    for number, state, stopped in (
        (0, TrialState.COMPLETE, None),
        (1, TrialState.FAIL, True),
        (2, TrialState.RUNNING, None),
    ):
        trial = optuna.trial.create_trial(
            state=state, params={"lr": 0.01 * (number + 1)}, distributions={"lr": lr},
            value=0.9 if state == TrialState.COMPLETE else None,
            user_attrs={"index": number, **({"stopped": stopped} if stopped is not None else {})},
        )  # fmt: skip
        study.add_trial(trial)
    search.enqueue_missing(study, spec, get_host())  # 1 was stopped; 2's worker died (its folder is not locked)
    search.enqueue_missing(study, spec, get_host())  # nothing more: each is queued once
    waiting = [t for t in study.trials if t.state == TrialState.WAITING]
    assert sorted((t.user_attrs["index"], t.system_attrs["fixed_params"]["lr"]) for t in waiting) == [
        (1, 0.02),
        (2, 0.03),
    ]
    assert study.trials[2].state == TrialState.FAIL
    assert sum(search.counts(t) for t in study.trials) == 3  # the complete one and the two queued again
