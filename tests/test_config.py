"""Typed configs (archzoo.config): building, validating, describing, round-tripping.

Every way a value reaches a config (a typed value from Python or
``config.json``, a string from ``--set key=value`` or a UI form) goes through
:func:`build_config`, and every bad value is a :class:`ConfigError` that names
the field, the value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Literal

import pytest

from archzoo import ConfigError, TrainConfig, param
from archzoo.registry.config import (
    TRAIN_FIELDS,
    FieldInfo,
    build_config,
    coerce,
    fields,
    parse_assignments,
    replace,
    split_overrides,
    to_dict,
)


@dataclass
class ToyConfig:
    """A config that uses every supported field type."""

    hidden: tuple[int, ...] = param((256,), "hidden widths, input to output", min=1, max=4096)
    activation: Literal["relu", "gelu", "tanh"] = param("relu", "nonlinearity")
    dropout: float = param(0.0, "dropout probability", min=0.0, max=0.9)
    depth: int = param(2, "number of blocks", min=1, max=12)
    batch_norm: bool = param(True, "use batch norm")
    name: str = param("toy", "a label")
    channels: tuple[int, ...] | None = param(None, "channels per stage; none means automatic", min=1)
    kernel: Literal[3, 5, 7] = param(3, "kernel size")
    width: int = param(64, "a width from a fixed menu", choices=(32, 64, 128))
    input_shape: tuple[int, ...] = param((1, 8, 8), "shape of one input", from_data="input_shape", min=1)
    num_classes: int = param(10, "number of classes", from_data="num_classes", min=2)


@dataclass
class Unbounded:
    scale: float = param(1.0, "no bounds at all")
    low_only: int = param(1, "at least one", min=1)
    high_only: float = param(0.5, "at most one", max=1.0)


@dataclass
class Required:
    size: int  # a plain dataclass field with no default
    rate: float = param(0.1, "a rate")


def assert_names_field_value_allowed(error: ConfigError, field: str, value, *allowed_words: str) -> None:
    """The message must say which field, which value, and what would be accepted."""
    message = str(error)
    assert error.field == field
    assert f"'{field}'" in message, message
    assert repr(value) in message, message
    assert error.allowed and error.allowed in message, message
    for word in allowed_words:
        assert word in message, message


# -- building from typed values ------------------------------------------------------


def test_defaults_build_unchanged():
    config = build_config(ToyConfig)
    assert config == ToyConfig()
    assert config.hidden == (256,)
    assert config.channels is None


def test_typed_values_are_kept():
    config = build_config(
        ToyConfig,
        {
            "hidden": (512, 256),
            "activation": "gelu",
            "dropout": 0.25,
            "depth": 4,
            "batch_norm": False,
            "name": "wide",
            "channels": (16, 32),
            "kernel": 5,
            "width": 128,
        },
    )
    assert config.hidden == (512, 256)
    assert config.activation == "gelu"
    assert config.dropout == 0.25
    assert config.depth == 4
    assert config.batch_norm is False
    assert config.name == "wide"
    assert config.channels == (16, 32)
    assert config.kernel == 5
    assert config.width == 128


def test_lists_from_json_become_tuples():
    config = build_config(ToyConfig, {"hidden": [64, 32], "channels": [8], "input_shape": [3, 32, 32]})
    assert config.hidden == (64, 32) and isinstance(config.hidden, tuple)
    assert config.channels == (8,)
    assert config.input_shape == (3, 32, 32)


def test_int_given_for_float_and_whole_float_for_int():
    config = build_config(ToyConfig, {"dropout": 0, "depth": 3.0})
    assert config.dropout == 0.0 and isinstance(config.dropout, float)
    assert config.depth == 3 and isinstance(config.depth, int)


# -- building from command-line strings --------------------------------------------------


def test_command_line_strings_are_converted():
    config = build_config(
        ToyConfig,
        {
            "hidden": "256,128",
            "activation": "tanh",
            "dropout": "0.5",
            "depth": "3",
            "batch_norm": "false",
            "name": "from-cli",
            "channels": "16,32,64",
            "kernel": "7",
            "width": "32",
        },
    )
    assert config.hidden == (256, 128)
    assert config.activation == "tanh"
    assert config.dropout == 0.5
    assert config.depth == 3
    assert config.batch_norm is False
    assert config.name == "from-cli"
    assert config.channels == (16, 32, 64)
    assert config.kernel == 7  # the Literal's own value (an int), not the string
    assert isinstance(config.kernel, int)
    assert config.width == 32


@pytest.mark.parametrize(
    "text, expected",
    [
        ("true", True),
        ("True", True),
        (" yes ", True),
        ("1", True),
        ("on", True),
        ("false", False),
        ("FALSE", False),
        ("no", False),
        ("0", False),
        ("off", False),
    ],
)
def test_bool_strings(text, expected):
    assert build_config(ToyConfig, {"batch_norm": text}).batch_norm is expected


@pytest.mark.parametrize(
    "text, expected",
    [("256,128", (256, 128)), ("256, 128", (256, 128)), ("[256,128]", (256, 128)), ("64", (64,)), ("8,", (8,))],
)
def test_tuple_strings(text, expected):
    assert build_config(ToyConfig, {"hidden": text}).hidden == expected


@pytest.mark.parametrize("text", ["none", "None", "", "  "])
def test_optional_tuple_accepts_none_words(text):
    assert build_config(ToyConfig, {"channels": text}).channels is None


def test_optional_tuple_accepts_none_and_values():
    assert build_config(ToyConfig, {"channels": None}).channels is None
    assert build_config(ToyConfig, {"channels": "4,8"}).channels == (4, 8)


def test_float_strings_including_exponents():
    assert build_config(ToyConfig, {"dropout": "1e-1"}).dropout == pytest.approx(0.1)
    assert build_config(TrainConfig, {"lr": "3e-4"}).lr == pytest.approx(3e-4)


def test_string_values_are_stripped_for_numbers_and_choices():
    config = build_config(ToyConfig, {"depth": " 5 ", "activation": " gelu "})
    assert config.depth == 5
    assert config.activation == "gelu"


# -- errors: every message names the field, the value and what is allowed --------------


def test_unknown_field_lists_known_fields():
    with pytest.raises(ConfigError) as info:
        build_config(ToyConfig, {"hiden": "64"})
    error = info.value
    assert_names_field_value_allowed(error, "hiden", "64")
    for name in ("hidden", "activation", "dropout", "depth", "num_classes"):
        assert name in str(error)


def test_owner_prefixes_the_message():
    with pytest.raises(ConfigError) as info:
        build_config(ToyConfig, {"depth": "deep"}, owner="toy")
    assert str(info.value).startswith("toy: ")
    assert_names_field_value_allowed(info.value, "depth", "deep", "integer")


@pytest.mark.parametrize(
    "field, value, words",
    [
        ("depth", "three", ["integer"]),
        ("depth", 2.5, ["integer"]),
        ("depth", "2.5", ["integer"]),
        ("depth", True, ["integer"]),
        ("dropout", "lots", ["number"]),
        ("dropout", "nan", ["finite"]),
        ("dropout", float("inf"), ["finite"]),
        ("dropout", False, ["number"]),
        ("batch_norm", "maybe", ["true", "false"]),
        ("batch_norm", 1, ["true", "false"]),
        ("name", 5, ["string"]),
        ("activation", "swish", ["'relu'", "'gelu'", "'tanh'"]),
        ("kernel", "4", ["3", "5", "7"]),
        ("kernel", 4, ["3", "5", "7"]),
        ("hidden", 256, ["comma-separated"]),
    ],
)
def test_type_errors(field, value, words):
    with pytest.raises(ConfigError) as info:
        build_config(ToyConfig, {field: value})
    assert_names_field_value_allowed(info.value, field, value, *words)


def test_bad_item_in_a_list_names_the_field_and_item():
    with pytest.raises(ConfigError) as info:
        build_config(ToyConfig, {"hidden": "256,abc"})
    assert info.value.field == "hidden"
    assert "abc" in str(info.value)
    assert "int" in str(info.value)


def test_bad_item_in_a_list_names_the_whole_value():
    with pytest.raises(ConfigError) as info:
        build_config(ToyConfig, {"hidden": "1,x,3"})
    assert_names_field_value_allowed(info.value, "hidden", "1,x,3")


@pytest.mark.parametrize(
    "field, value, words",
    [
        ("depth", "0", ["between 1 and 12"]),
        ("depth", 13, ["between 1 and 12"]),
        ("dropout", "0.95", ["between 0.0 and 0.9"]),
        ("dropout", -0.1, ["between 0.0 and 0.9"]),
        ("num_classes", 1, ["at least 2"]),
    ],
)
def test_bounds(field, value, words):
    with pytest.raises(ConfigError) as info:
        build_config(ToyConfig, {field: value})
    error = info.value
    assert error.field == field
    assert f"'{field}'" in str(error)
    assert words[0] in str(error)
    # The value shown is what was given (a string stays a string) or what it became.
    assert repr(value) in str(error) or repr(coerce_loosely(value)) in str(error)


def coerce_loosely(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return float(value)


def test_bounds_apply_to_every_list_item():
    with pytest.raises(ConfigError) as info:
        build_config(ToyConfig, {"hidden": "256,0"})
    error = info.value
    assert error.field == "hidden"
    assert error.value in ("256,0", (256, 0))  # as written, or as converted
    assert repr(error.value) in str(error)
    assert "each value between 1 and 4096" in str(error)
    with pytest.raises(ConfigError, match="each value at least 1"):
        build_config(ToyConfig, {"channels": "8,0"})
    with pytest.raises(ConfigError, match="each value at least 1"):
        build_config(ToyConfig, {"input_shape": (1, 0, 8)})


def test_bounds_at_the_edges_are_allowed():
    config = build_config(ToyConfig, {"depth": 1, "dropout": 0.9, "hidden": "1,4096"})
    assert (config.depth, config.dropout, config.hidden) == (1, 0.9, (1, 4096))


def test_one_sided_bounds():
    with pytest.raises(ConfigError, match="at least 1") as info:
        build_config(Unbounded, {"low_only": 0})
    assert "between" not in str(info.value)
    with pytest.raises(ConfigError, match="at most 1.0"):
        build_config(Unbounded, {"high_only": "1.5"})
    assert build_config(Unbounded, {"scale": -1e9}).scale == -1e9


def test_choices_metadata():
    with pytest.raises(ConfigError) as info:
        build_config(ToyConfig, {"width": "48"})
    assert_names_field_value_allowed(info.value, "width", 48, "32", "64", "128")


def test_missing_required_field():
    with pytest.raises(ConfigError) as info:
        build_config(Required, {"rate": 0.2})
    assert info.value.field == "size"
    assert "required" in str(info.value)
    assert build_config(Required, {"size": "3"}).size == 3


def test_config_error_is_a_value_error_and_an_archzoo_error():
    from archzoo import ArchzooError

    with pytest.raises(ConfigError) as info:
        build_config(ToyConfig, {"depth": "x"})
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, ArchzooError)
    assert info.value.value == "x"


def test_train_config_is_validated_the_same_way():
    config = build_config(TrainConfig, {"epochs": "3", "optimizer": "sgd", "lr": "0.1", "schedule": "constant"})
    assert (config.epochs, config.optimizer, config.lr, config.schedule) == (3, "sgd", 0.1, "constant")
    with pytest.raises(ConfigError) as info:
        build_config(TrainConfig, {"optimizer": "lion"})
    assert_names_field_value_allowed(info.value, "optimizer", "lion", "'adamw'", "'adam'", "'sgd'")
    with pytest.raises(ConfigError) as info:
        build_config(TrainConfig, {"epochs": 0})
    assert_names_field_value_allowed(info.value, "epochs", 0, "between 1 and 100000")
    with pytest.raises(ConfigError, match="between 0.0 and 0.5"):
        build_config(TrainConfig, {"val_fraction": "0.6"})


def test_coerce_directly():
    assert coerce("x", "4,5", tuple[int, ...], {"min": 1}) == (4, 5)
    with pytest.raises(ConfigError, match="each value at least 1"):
        coerce("x", "4,0", tuple[int, ...], {"min": 1})


def test_unsupported_field_type_is_a_programming_error():
    @dataclass
    class Bad:
        items: dict = dataclasses.field(default=None)

    with pytest.raises(TypeError, match="unsupported type"):
        build_config(Bad, {"items": "a"})


def test_param_rejects_mutable_defaults():
    with pytest.raises(TypeError, match="tuple"):
        param([1, 2], "a list default")
    with pytest.raises(TypeError):
        param({}, "a dict default")


# -- split_overrides and parse_assignments ------------------------------------------------


def test_split_overrides_routes_model_and_training_keys():
    model, train = split_overrides(
        {"hidden": "64", "dropout": "0.1", "epochs": "2", "lr": "0.01", "batch_size": "32"}, ToyConfig
    )
    assert model == {"hidden": "64", "dropout": "0.1"}
    assert train == {"epochs": "2", "lr": "0.01", "batch_size": "32"}
    # both halves then build without complaint
    assert build_config(ToyConfig, model).hidden == (64,)
    assert build_config(TrainConfig, train).batch_size == 32


def test_split_overrides_empty():
    assert split_overrides({}, ToyConfig) == ({}, {})


def test_split_overrides_unknown_key_lists_both_kinds_of_settings():
    with pytest.raises(ConfigError) as info:
        split_overrides({"hidden": "64", "learning_rate": "0.1"}, ToyConfig, owner="toy")
    error = info.value
    message = str(error)
    assert error.field == "learning_rate"
    assert message.startswith("toy: ")
    assert "'0.1'" in message
    assert "hidden" in message and "activation" in message  # model settings
    assert "training:" in message
    for name in TRAIN_FIELDS:
        assert name in message


def test_toy_config_does_not_reuse_training_names():
    # the rule split_overrides relies on (the contract suite checks it for real plugins)
    assert not {f.name for f in dataclasses.fields(ToyConfig)} & set(TRAIN_FIELDS)


def test_parse_assignments():
    assert parse_assignments(["hidden=256,128", " lr = 0.01 ", "name=a=b", "empty="]) == {
        "hidden": "256,128",
        "lr": "0.01",
        "name": "a=b",
        "empty": "",
    }
    assert parse_assignments([]) == {}


@pytest.mark.parametrize("item", ["hidden", "=5", " =5", ""])
def test_parse_assignments_needs_key_and_equals(item):
    with pytest.raises(ConfigError) as info:
        parse_assignments(["epochs=1", item])
    assert "key=value" in str(info.value)
    assert repr(item) in str(info.value)


def test_from_command_line_to_configs():
    """The whole --set path: strings -> split -> two validated configs."""
    values = parse_assignments(["hidden=128,64", "activation=gelu", "epochs=3", "optimizer=adam"])
    model_values, train_values = split_overrides(values, ToyConfig)
    config = build_config(ToyConfig, model_values)
    train = build_config(TrainConfig, train_values)
    assert config.hidden == (128, 64) and config.activation == "gelu"
    assert train.epochs == 3 and train.optimizer == "adam"


# -- fields(): what the CLI help, the UI form and the docs show ----------------------------


def test_fields_describe_types_defaults_help_and_bounds():
    described = {f.name: f for f in fields(ToyConfig)}
    assert list(described) == [f.name for f in dataclasses.fields(ToyConfig)]
    assert all(isinstance(f, FieldInfo) for f in described.values())

    hidden = described["hidden"]
    assert hidden.type_name == "list[int]"
    assert hidden.default == (256,)
    assert hidden.help == "hidden widths, input to output"
    assert hidden.allowed == "each value between 1 and 4096"
    assert hidden.from_data is None

    assert described["activation"].type_name == "choice"
    assert described["activation"].allowed == "relu, gelu, tanh"
    assert described["kernel"].allowed == "3, 5, 7"

    assert described["dropout"].type_name == "float"
    assert described["dropout"].allowed == "between 0.0 and 0.9"
    assert described["depth"].type_name == "int"
    assert described["batch_norm"].type_name == "bool"
    assert described["batch_norm"].default is True
    assert described["batch_norm"].allowed == ""
    assert described["name"].type_name == "str"
    assert described["width"].allowed == "32, 64, 128"

    channels = described["channels"]
    assert channels.type_name.startswith("list[int] | ")
    assert channels.default is None
    assert channels.allowed == "at least 1"

    assert described["input_shape"].from_data == "input_shape"
    assert described["num_classes"].from_data == "num_classes"
    assert described["num_classes"].allowed == "at least 2"


def test_fields_of_train_config_all_have_help():
    described = fields(TrainConfig)
    assert [f.name for f in described] == list(TRAIN_FIELDS)
    for f in described:
        assert f.help, f"TrainConfig.{f.name} has no help text"
        assert f.default is not dataclasses.MISSING


# -- to_dict / replace ---------------------------------------------------------------------


def test_to_dict_is_json_friendly_and_round_trips():
    config = build_config(ToyConfig, {"hidden": "128,64", "channels": "8,16", "kernel": 5, "batch_norm": "no"})
    data = to_dict(config)
    assert data["hidden"] == [128, 64]
    assert data["channels"] == [8, 16]
    assert data["kernel"] == 5
    assert data["batch_norm"] is False
    assert data["input_shape"] == [1, 8, 8]
    text = json.dumps(data)  # as written to config.json
    assert build_config(ToyConfig, json.loads(text)) == config


def test_to_dict_keeps_none():
    assert to_dict(ToyConfig())["channels"] is None
    assert build_config(ToyConfig, to_dict(ToyConfig())) == ToyConfig()


def test_replace_applies_and_validates():
    config = build_config(ToyConfig, {"hidden": "32,16", "depth": 3})
    changed = replace(config, {"dropout": "0.2", "channels": "4"})
    assert changed.dropout == 0.2
    assert changed.channels == (4,)
    assert changed.hidden == (32, 16) and changed.depth == 3  # the rest is kept
    assert config.dropout == 0.0  # the original is untouched
    with pytest.raises(ConfigError) as info:
        replace(config, {"depth": 99}, owner="toy")
    assert str(info.value).startswith("toy: ")
    assert info.value.field == "depth"
    with pytest.raises(ConfigError, match="no such field"):
        replace(config, {"nope": 1})


def test_replace_fills_from_data_fields():
    """What the host does before build_model: fill input_shape and num_classes from the dataset."""
    config = replace(ToyConfig(), {"input_shape": (3, 32, 32), "num_classes": 100})
    assert config.input_shape == (3, 32, 32) and config.num_classes == 100


def test_train_config_round_trip():
    train = build_config(TrainConfig, {"epochs": 7, "lr": "2e-3"})
    assert build_config(TrainConfig, to_dict(train)) == train
    assert replace(train, {"seed": "42"}).seed == 42
