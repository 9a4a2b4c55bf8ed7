"""What is installed, described for people, and the settings form derived from the typed configs."""

from __future__ import annotations

import pytest

from archzoo.errors import ConfigError
from archzoo.registry import catalog
from archzoo.registry.host import Host


@pytest.fixture(scope="module")
def host() -> Host:
    return Host(entry_points=False)


def test_installed_lists_architectures_with_size_and_plugin(host):
    data = catalog.installed(host)
    mlp = next(a for a in data["architectures"] if a["name"] == "mlp")
    assert mlp["parameters"] == 19210 and mlp["distribution"] == "archzoo" and mlp["version"]
    assert mlp["tasks"] == ["image-classification", "tabular-classification", "tabular-regression"]
    assert {a["name"] for a in data["architectures"]} >= {"mlp", "cnn"}
    assert {p["name"] for p in data["presets"]} >= {"mlp-fashion-deep", "cnn-notes"}
    assert {d["name"] for d in data["datasets"]} >= {"digits", "moons", "fashion-mnist"}
    assert data["broken"] == []


def test_a_broken_plugin_is_listed_with_its_error():
    class Broken:
        from archzoo import hookimpl

        @hookimpl
        def archzoo_register(self, registry):
            raise RuntimeError("needs libfoo")

    with pytest.warns(UserWarning, match="failed to load"):
        host = Host(entry_points=False, extra_plugins={"broken": Broken()})
    data = catalog.installed(host)
    assert data["broken"] == [{"name": "broken", "distribution": "local", "error": "RuntimeError: needs libfoo"}]
    assert "mlp" in {a["name"] for a in data["architectures"]}


def test_datasets_are_matched_by_task_own_first(host):
    assert catalog.datasets_for("mlp", host)[0] == "digits"
    assert {"digits", "moons", "fashion-mnist"} <= set(catalog.datasets_for("mlp", host))
    assert "moons" not in catalog.datasets_for("cnn", host)
    assert catalog.datasets_for("mlp-fashion-deep", host)[0] == "fashion-mnist"


def test_the_form_of_an_architecture_has_every_setting_but_those_from_the_data(host):
    form = catalog.form("mlp", host)
    fields = {f.name: f for f in form.fields}
    assert form.architecture == "mlp" and form.dataset == "digits" and form.task == "image-classification"
    assert "input_shape" not in fields and "num_classes" not in fields
    assert fields["hidden"].kind == "list" and fields["hidden"].value == "256" and fields["hidden"].section == "model"
    assert fields["activation"].kind == "choice" and fields["activation"].choices[:3] == ("relu", "gelu", "tanh")
    assert fields["epochs"].kind == "int" and fields["epochs"].value == 5 and fields["epochs"].section == "training"
    assert fields["lr"].kind == "float" and "between" in fields["lr"].allowed
    assert fields["optimizer"].choices == ("adamw", "adam", "sgd", "rmsprop", "adagrad")


def test_a_preset_form_starts_from_the_preset_values(host):
    form = catalog.form("mlp-fashion-deep", host)
    fields = {f.name: f for f in form.fields}
    assert form.architecture == "mlp" and form.dataset == "fashion-mnist"
    assert fields["hidden"].value == "256,128" and fields["optimizer"].value == "adam" and fields["epochs"].value == 10
    assert "Lecture notes" in form.summary


def test_overrides_keep_only_what_the_form_changed(host):
    values = {f.name: f.value for f in catalog.form("mlp-fashion-deep", host).fields}
    assert catalog.overrides_from_form(values, "mlp-fashion-deep", host) == {}
    values.update(epochs=3.0, hidden=" 64,32 ", lr=0.001)  # numbers arrive as floats from a form
    assert catalog.overrides_from_form(values, "mlp-fashion-deep", host) == {"epochs": 3.0, "hidden": "64,32"}


def test_form_values_are_validated_like_the_command_line(host):
    from archzoo.registry.plans import plan_run

    overrides = catalog.overrides_from_form({"epochs": 0}, "mlp", host)
    with pytest.raises(ConfigError, match=r"invalid value 0 for 'epochs': between 1 and 100000"):
        plan_run("mlp", overrides=overrides, host=host)


def test_a_parameter_count_is_computed_when_a_plugin_declares_none(host):
    from dataclasses import replace

    from archzoo.api import planned_parameters

    host.architectures["mlp"] = replace(host.architectures["mlp"], parameters=None)
    assert planned_parameters("mlp", host) == 19210
    assert planned_parameters("mlp-moons", host) == 1218  # a preset is built with its own config


def test_the_kinds_of_data_a_dataset_holds_and_the_settings_it_reads(host):
    assert catalog.data_kinds("digits", host) == {"images"}
    assert catalog.data_kinds("moons", host) == {"points"}
    assert catalog.data_kinds("sst2", host) == {"text"}
    assert catalog.data_kinds("sbm", host) == {"graph"}
    assert catalog.data_kinds("/data/points.csv", host) == {"file", "text", "points"}
    assert catalog.data_kinds("reviews.tsv", host) == {"file", "text"}
    assert catalog.data_kinds("/data/my-folder", host) == {"images"}  # a name is read, the disk is not
    assert catalog.data_kinds("/data/corpus.txt", host) == {"file", "text"}
    assert catalog.data_kinds("/data/scans.v2", host) is None  # a dotted folder or a file: the name does not say
    assert catalog.data_kinds("", host) is None
    ddpm = {f.name: f for f in catalog.form("ddpm", host).fields}
    images, points = catalog.data_kinds("fashion-mnist", host), catalog.data_kinds("spirals", host)
    assert catalog.applies(ddpm["channels"], images) and not catalog.applies(ddpm["channels"], points)
    assert catalog.applies(ddpm["toy_hidden"], points) and not catalog.applies(ddpm["toy_hidden"], images)
    assert all(catalog.applies(ddpm[name], kinds) for name in ("timesteps", "lr") for kinds in (images, points))
    assert not catalog.applies(ddpm["tokenizer"], images) and catalog.applies(ddpm["tokenizer"], None)
    assert catalog.applies(ddpm["label_column"], catalog.data_kinds("points.csv", host))


def test_a_setting_for_a_kind_of_data_that_does_not_exist_is_refused():
    from archzoo.registry.config import param

    with pytest.raises(TypeError, match=r"unknown data kinds \['pictures'\]; kinds are images, points"):
        param(1, "a width", applies_to=("pictures",))
