"""archzoo 0.1's module paths still work for one release, each with a warning that names the new one.

Plugins were written against docs/plugins.md of 0.1, which named these
modules; such a plugin must keep working unchanged (tests/example_plugin is
the other proof: its conftest imports ``archzoo.host``).
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap

import pytest

from archzoo.legacy import MOVED

OLD_NAMES = [
    ("archzoo.config", "build_config", "archzoo.registry.config"),
    ("archzoo.host", "get_host", "archzoo.registry.host"),
    ("archzoo.tokenization", "TextTokenizer", "archzoo.data.tokenizers"),
    ("archzoo.tokenization", "PAD_ID", "archzoo.data.tokenizers"),
    ("archzoo.text_data", "pad_ids", "archzoo.data.text"),
    ("archzoo.image_datasets", "split_indices", "archzoo.data.splitting"),
    ("archzoo.generative", "parse_request", "archzoo.toolkit.generative"),
    ("archzoo.defaults", "classification_step", "archzoo.toolkit.classification"),
    ("archzoo.encoders", "pool", "archzoo.toolkit.encoders"),
    ("archzoo.context", "StepContext", "archzoo.training.context"),
    ("archzoo.synchronise", "average_gradients", "archzoo.training.synchronise"),
    ("archzoo.checkpoint", "load", "archzoo.checkpoints.io"),
    ("archzoo.checkpoint", "read_meta", "archzoo.checkpoints.meta"),
    ("archzoo.checkpoint", "WEIGHTS", "archzoo.checkpoints.layout"),
    ("archzoo.hub", "push_to_hub", "archzoo.checkpoints.hub"),
]


@pytest.mark.parametrize("old, name, new", OLD_NAMES)
def test_an_old_path_gives_the_same_object_as_the_new_one(old, name, new):
    module = importlib.import_module(old)
    assert getattr(module, name) is getattr(importlib.import_module(new), name)


def test_every_old_module_is_importable_and_points_at_modules_that_exist():
    for old, targets in MOVED.items():
        for target in targets:
            importlib.import_module(target)
        assert importlib.import_module(f"archzoo.{old}").__name__ == f"archzoo.{old}"


def test_importing_an_old_path_warns_once_and_names_the_new_one():
    code = textwrap.dedent("""
        import warnings
        warnings.simplefilter("always")
        with warnings.catch_warnings(record=True) as caught:
            from archzoo.tokenization import PAD_ID
            from archzoo.tokenization import TextTokenizer
        print([str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)])
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.count("archzoo.tokenization has moved to archzoo.data.tokenizers") == 1


def test_a_plugin_written_against_the_old_paths_trains(tmp_path, monkeypatch):
    """A plugin that imports its helpers the 0.1 way registers, trains and predicts."""
    (tmp_path / "old_style_plugin.py").write_text(
        textwrap.dedent("""
        from dataclasses import dataclass

        import torch.nn as nn

        from archzoo import ArchSpec, hookimpl, param
        from archzoo.defaults import classification_step
        from archzoo.data import DataInfo


        @dataclass
        class Config:
            input_shape: tuple[int, ...] = param((1, 8, 8), "input", from_data="input_shape")
            num_classes: int = param(10, "classes", from_data="num_classes")


        @hookimpl
        def archzoo_register(registry):
            registry.add_architecture(ArchSpec(name="old-style", task="image-classification", summary="s",
                                               config=Config, default_dataset="digits", parameters=650))


        @hookimpl
        def build_model(spec, config):
            assert DataInfo is not None
            return nn.Sequential(nn.Flatten(), nn.Linear(64, config.num_classes))


        @hookimpl
        def train_step(spec, model, batch, ctx):
            return classification_step(model, batch, ctx)
    """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("ARCHZOO_CHECKPOINTS", str(tmp_path / "store"))
    import old_style_plugin

    from archzoo.api import train
    from archzoo.registry.host import Host
    from archzoo.registry.settings import load_settings

    host = Host(load_settings(), entry_points=False, extra_plugins={"old-style": old_style_plugin})
    result = train("old-style", overrides={"epochs": 3, "lr": 0.05}, out="old", host=host)
    assert result.status == "finished" and result.test_metrics["accuracy"] > 0.5
