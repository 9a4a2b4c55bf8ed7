"""The checkpoint store as a list: what is there, how well it did, its cards,
and what cannot be used here (a damaged config, a plugin not installed)."""

from __future__ import annotations

import json
import shutil

import pytest

from archzoo.checkpoints import store as store_module
from archzoo.errors import CheckpointError


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A finished one-epoch MLP run on digits (RUN/best and RUN/last)."""
    from archzoo.api import train

    root = tmp_path_factory.mktemp("trained")
    return train("mlp", dataset="digits", overrides={"epochs": 1}, out=str(root / "run")).out_dir


def fill(store, trained):
    shutil.copytree(trained, store / "digits-run")
    # A pulled checkpoint, deeper in the store.
    shutil.copytree(trained / "best", store / "hub" / "alice" / "mlp-digits")
    # A checkpoint of an architecture that is not installed.
    other = store / "hopfield-run"
    shutil.copytree(trained / "best", other)
    meta = json.loads((other / "config.json").read_text())
    meta.update(architecture="hopfield", created="2000-01-01T00:00:00+00:00")
    meta["plugin"]["distribution"] = "archzoo-hopfield"
    (other / "config.json").write_text(json.dumps(meta))
    # A damaged one, and a write in progress (hidden: never listed).
    damaged = store / "damaged"
    damaged.mkdir()
    (damaged / "config.json").write_text("{not json")
    shutil.copytree(trained / "best", store / ".digits-run.abc.tmp")


def test_every_checkpoint_is_listed_newest_first_with_what_it_is(store, trained):
    fill(store, trained)
    entries = store_module.list_checkpoints()
    names = [e.name for e in entries]
    assert set(names) == {"digits-run/best", "digits-run/last", "hub/alice/mlp-digits", "hopfield-run", "damaged"}
    assert names.index("hopfield-run") > names.index("digits-run/best")  # created in 2000: oldest

    best = next(e for e in entries if e.name == "digits-run/best")
    assert (best.architecture, best.task, best.dataset, best.parameters) == (
        "mlp",
        "image-classification",
        "digits",
        19210,
    )
    assert best.distribution == "archzoo" and best.installed and not best.resumable and not best.problem
    assert best.headline.startswith("test accuracy ")
    assert set(best.metrics) == {"validation", "test"}
    assert "mlp on digits" in best.label and "digits-run/best" in best.label

    last = next(e for e in entries if e.name == "digits-run/last")
    assert last.resumable and last.headline.startswith("validation accuracy")


def test_what_cannot_be_used_says_why(store, trained):
    fill(store, trained)
    entries = {e.name: e for e in store_module.list_checkpoints()}
    missing = entries["hopfield-run"]
    assert not missing.installed
    assert (
        missing.problem
        == "architecture 'hopfield' is not installed: install archzoo-hopfield (pip install archzoo-hopfield) and try "
        "again"
    )
    assert "plugin missing" in missing.label
    damaged = entries["damaged"]
    assert "not valid JSON" in damaged.error and damaged.problem == damaged.error


def test_an_empty_or_missing_store_lists_nothing(tmp_path):
    assert store_module.list_checkpoints(tmp_path / "nowhere") == []
    assert store_module.list_checkpoints(tmp_path) == []


def test_the_model_card_and_its_body(store, trained):
    fill(store, trained)
    card = store_module.read_card("digits-run")
    assert card.startswith("---") and "library_name: archzoo" in card
    body = store_module.card_body(card)
    assert not body.startswith("---") and "library_name" not in body and "mlp" in body
    assert store_module.card_body("# plain") == "# plain"
    with pytest.raises(CheckpointError, match="no checkpoint at 'nothing-here'"):
        store_module.read_card("nothing-here")


def test_a_checkpoint_outside_the_store_is_described_by_its_path(store, trained):
    entry = store_module.describe(trained / "best")
    assert entry.name == str(trained / "best") and entry.architecture == "mlp"


def test_a_tabular_run_of_an_image_architecture_is_a_tabular_checkpoint(store):
    from archzoo.api import train

    train("mlp-moons", overrides={"epochs": 1}, out="moons")
    entry = store_module.describe("moons")
    assert entry.architecture == "mlp" and entry.task == "tabular-classification"


def test_the_listing_as_json(store, trained):
    fill(store, trained)
    data = json.loads(store_module.entries_as_json(store_module.list_checkpoints()))
    assert {d["name"] for d in data} >= {"digits-run/best", "hopfield-run"}
    assert next(d for d in data if d["name"] == "hopfield-run")["installed"] is False
