"""The plugin contract suite, and archzoo's pytest plugin.

Every architecture, built-in or third-party, should pass the same checks.  A
plugin author subclasses :class:`ContractSuite` in their own tests::

    from archzoo.testing import ContractSuite

    class TestMyNet(ContractSuite):
        architecture = "my-net"

and ``archzoo check my-net`` runs the same suite from the command line.

This module is loaded by pytest in every run (``pytest11`` entry point), so it
imports torch only inside the tests.
"""

from __future__ import annotations

import dataclasses
import math
import os
import subprocess
import sys
import tempfile
import typing
from pathlib import Path
from typing import Any, Literal

import pytest

from archzoo.errors import ConfigError
from archzoo.registry import config as config_module


def pytest_report_header(config: pytest.Config) -> str:
    from archzoo.registry.host import archzoo_version

    return f"archzoo {archzoo_version()} (contract suite: archzoo.testing.ContractSuite)"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "archzoo_contract: a check from the archzoo plugin contract suite")


_SETUPS: dict[type, dict[str, Any]] = {}


class ContractSuite:
    """The checks every architecture must pass.

    Class attributes a subclass may set:

    - ``architecture``: the name to check (required).
    - ``overrides``: model-config values for a small, fast model.
    - ``batch_size`` and ``train_steps``: the tiny fixed batch and how many steps to take on it.
    - ``lr``: learning rate for the overfitting check (empty: the architecture's ``check_lr``, else 1e-2).

    and a method to override when the default dataset is not right for a quick
    check: :meth:`make_splits`.
    """

    architecture: str = ""
    #: The dataset to check on; empty: the architecture's default (a point generator's 2-D set, say).
    dataset: str = ""
    overrides: dict[str, Any] = {}
    batch_size: int = 16
    train_steps: int = 8
    lr: float | None = None
    seed: int = 1234

    pytestmark = [pytest.mark.archzoo_contract]

    # -- setup the tests share ------------------------------------------------------

    def make_splits(self, spec: Any) -> Any:
        """The data to check on: by default the architecture's default dataset (text read
        with the architecture's own tokenizer when it has one: the ``text_tokenizer`` hook)."""
        from archzoo.data import DataOptions, load_dataset
        from archzoo.registry.host import get_host

        config = config_module.build_config(spec.config, dict(self.overrides), owner=spec.name)
        tokenizer = get_host().hooks(spec).text_tokenizer(config)
        return load_dataset(self.dataset or spec.default_dataset, DataOptions(trained_tokenizer=tokenizer))

    @pytest.fixture
    def setup(self) -> dict[str, Any]:
        """Built once per suite class (data, config, a tiny batch) and shared by its checks."""
        key = type(self)
        if key not in _SETUPS:
            _SETUPS[key] = self._make_setup()
        return _SETUPS[key]

    def _make_setup(self) -> dict[str, Any]:
        import torch
        from accelerate import Accelerator
        from torch.utils.data import DataLoader

        from archzoo.registry.host import get_host
        from archzoo.registry.plans import fill_from_data

        if not self.architecture:
            pytest.fail(f"{type(self).__name__} must set the 'architecture' attribute")
        host = get_host()
        spec = host.architecture(self.architecture)
        splits = self.make_splits(spec)
        config = config_module.build_config(spec.config, dict(self.overrides), owner=spec.name)
        config = fill_from_data(config, splits.info)
        batch = next(
            iter(DataLoader(splits.train, batch_size=self.batch_size, shuffle=False, collate_fn=splits.collate))
        )
        return {
            "host": host,
            "spec": spec,
            "hooks": host.hooks(spec),
            "splits": splits,
            "config": config,
            "batch": batch,
            "accelerator": Accelerator(cpu=True),
            "torch": torch,
        }

    def build(self, setup: dict[str, Any]) -> Any:
        setup["torch"].manual_seed(self.seed)
        return setup["hooks"].build_model(setup["config"])

    def step_context(self, setup: dict[str, Any], model: Any) -> Any:
        from archzoo.registry.config import TrainConfig
        from archzoo.training.context import StepContext
        from archzoo.training.trainer import build_optimizers

        lr = self.lr if self.lr is not None else setup["spec"].check_lr or 1e-2
        train_config = TrainConfig(lr=lr, schedule="constant", weight_decay=0.0, seed=self.seed)
        optimizers = build_optimizers(setup["hooks"], model, train_config)
        return StepContext(
            device=setup["accelerator"].device,
            info=setup["splits"].info,
            accelerator=setup["accelerator"],
            model=model,
            optimizers=optimizers,
            train_config=train_config,
            tokenizer=setup["splits"].tokenizer,
        )

    def train_a_little(self, setup: dict[str, Any], model: Any) -> list[dict[str, float]]:
        ctx = self.step_context(setup, model)
        model.train()
        history = []
        for step in range(self.train_steps):
            ctx.global_step = step
            history.append(setup["hooks"].train_step(model, setup["batch"], ctx))
        return history

    def eval_context(self, setup: dict[str, Any]) -> Any:
        from archzoo.training.context import EvalContext

        return EvalContext(
            device=setup["accelerator"].device, info=setup["splits"].info, tokenizer=setup["splits"].tokenizer
        )

    def tiny_loader(self, setup: dict[str, Any]) -> Any:
        from torch.utils.data import DataLoader, Subset

        splits = setup["splits"]
        size = min(self.batch_size * 2, len(splits.train))
        return DataLoader(Subset(splits.train, range(size)), batch_size=self.batch_size, collate_fn=splits.collate)

    # -- the contract ----------------------------------------------------------------

    def test_builds_a_module_of_the_declared_size(self, setup):
        torch = setup["torch"]
        model = self.build(setup)
        assert isinstance(model, torch.nn.Module)
        spec = setup["spec"]
        if spec.parameters is not None and not self.overrides and spec.default_dataset == setup["splits"].info.name:
            count = sum(p.numel() for p in model.parameters())
            assert count == spec.parameters, f"ArchSpec.parameters says {spec.parameters:,}, the model has {count:,}"

    def test_config_fields_do_not_shadow_training_settings(self, setup):
        clashes = {f.name for f in dataclasses.fields(setup["spec"].config)} & set(config_module.TRAIN_FIELDS)
        assert not clashes, f"config fields {clashes} clash with training settings of the same name"

    def test_forward_shape(self, setup):
        from archzoo.registry.specs import CLASSIFICATION_TASKS

        spec = setup["spec"]
        if spec.task not in (*CLASSIFICATION_TASKS, "tabular-regression"):
            pytest.skip(
                f"forward shape is checked for classifiers and regressions; {spec.task} is checked through sample"
            )
        model = self.build(setup).eval()
        inputs, labels = batch_parts(setup["batch"])
        with setup["torch"].no_grad():
            outputs = model(inputs)
        # One score per class, or one number per output of a regression (its info's num_classes).
        assert tuple(outputs.shape) == (len(labels), setup["splits"].info.num_classes)

    def test_train_steps_lower_the_loss_and_change_the_weights(self, setup):
        torch = setup["torch"]
        model = self.build(setup)
        before = {k: v.detach().clone() for k, v in model.state_dict().items()}
        history = self.train_a_little(setup, model)
        assert all(isinstance(h, dict) and "loss" in h for h in history), "train_step must return {'loss': ...}"
        losses = [float(h["loss"]) for h in history]
        assert all(math.isfinite(l) for l in losses), f"non-finite losses: {losses}"
        assert losses[-1] < losses[0], f"loss did not fall on a fixed batch: {losses}"
        changed = [k for k, v in model.state_dict().items() if v.is_floating_point() and not torch.equal(v, before[k])]
        assert changed, "train_step changed no weights"

    def test_every_metric_says_which_way_is_better(self, setup):
        """Each metric ``evaluate`` returns has its direction declared: by the architecture
        (``ArchSpec.metrics``) or by its task (accuracy rises, loss falls), never guessed from
        its name, so best checkpoints, studies and comparisons judge it the right way."""
        model = self.build(setup).eval()
        metrics = setup["hooks"].evaluate(model, self.tiny_loader(setup), self.eval_context(setup))
        spec = setup["spec"]
        undeclared = sorted(set(metrics) - set(spec.metrics))
        assert not undeclared, (
            f"{spec.name} reports {', '.join(undeclared)} without saying whether higher or lower is better: "
            "declare it in ArchSpec(metrics={" + ", ".join(f"{m!r}: 'lower' or 'higher'" for m in undeclared) + "})"
        )

    def test_evaluate_returns_metrics_in_range(self, setup):
        model = self.build(setup).eval()
        metrics = setup["hooks"].evaluate(model, self.tiny_loader(setup), self.eval_context(setup))
        assert isinstance(metrics, dict) and metrics, "evaluate must return a non-empty dict"
        for name, value in metrics.items():
            assert isinstance(value, float) and math.isfinite(value), f"metric {name} = {value!r} is not a finite float"
            if name in ("accuracy", "f1", "precision", "recall"):
                assert 0.0 <= value <= 1.0, f"{name} = {value} is outside [0, 1]"
            if name.endswith("loss") or name in ("mse", "mae"):
                assert value >= 0.0, f"{name} = {value} is negative"
            if name == "r2":
                assert value <= 1.0, f"r2 = {value} is above 1"
        if data_task(setup) == "tabular-regression":
            assert {"r2", "mse", "mae"} <= set(metrics), (
                f"a regression reports r2, mse and mae, not only {sorted(metrics)}"
            )

    def test_sample_returns_the_task_output(self, setup):
        from archzoo.registry.specs import CLASSIFICATION_TASKS, SampleResult

        spec, torch = setup["spec"], setup["torch"]
        model = self.build(setup).eval()
        labels = batch_parts(setup["batch"])[1]  # one row of probabilities per label
        result = setup["hooks"].sample(model, self.sample_request(setup), self.eval_context(setup))
        assert isinstance(result, SampleResult)
        task = data_task(setup)
        if task == "tabular-regression":
            assert result.kind == "values"
            values = result.outputs["values"]
            assert tuple(values.shape) == (len(labels), setup["splits"].info.num_classes)
            assert bool(torch.isfinite(values).all()), "predicted values are not all finite"
            assert len(result.outputs["names"]) == values.shape[1], "one name per predicted output"
        elif spec.task in CLASSIFICATION_TASKS:
            assert result.kind == "class-probabilities"
            probabilities = result.outputs["probabilities"]
            assert tuple(probabilities.shape) == (len(labels), setup["splits"].info.num_classes)
            assert torch.allclose(probabilities.sum(dim=1), torch.ones(len(labels)), atol=1e-5)
            assert len(result.outputs["class_names"]) == setup["splits"].info.num_classes
        elif spec.task == "image-generation":
            assert result.kind == "images"
            images = result.outputs["images"]
            assert images.ndim == 4 and float(images.min()) >= 0.0 and float(images.max()) <= 1.0
            n, points = self.sample_request(setup)["n"], result.outputs.get("points")
            if points is not None:  # a generator of points: n points, and pictures of them to look at
                assert points.ndim == 2 and len(points) == n, "a point generator returns the n points it was asked for"
                assert bool(torch.isfinite(points).all()), "the generated points are not all finite"
            else:
                assert len(images) == n, "a generator returns the n images it was asked for"
        elif spec.task == "text-generation":
            assert result.kind == "text" and all(isinstance(t, str) for t in result.outputs["texts"])
        elif spec.task == "feature-extraction":
            assert result.kind == "features" and result.outputs["features"].ndim == 2
        elif spec.task == "sequence-to-sequence":
            assert result.kind == "sequences", f"a sequence-to-sequence sample is 'sequences', not {result.kind!r}"
            texts, sources, attention = (result.outputs[k] for k in ("texts", "sources", "attention"))
            assert len(texts) == len(labels) and all(isinstance(t, str) for t in texts), "one output text per input"
            for source, tokens, matrix in zip(sources, result.outputs["tokens"], attention):
                if matrix is not None:  # output tokens x input tokens, each row a convex combination (theorem 6.1)
                    weights = torch.tensor(matrix)
                    assert tuple(weights.shape) == (len(tokens), len(source)), "attention is outputs x inputs"
                    assert torch.allclose(weights.sum(dim=1), torch.ones(len(tokens)), atol=1e-4)

    def test_regression_scores_its_own_predictions(self, setup):
        """Regressions: ``evaluate``'s MSE and R^2 are those of the values ``sample`` predicts,
        so what the app shows as predictions is what the metrics judged."""
        from archzoo.toolkit.regression import regression_scores

        torch = setup["torch"]
        if data_task(setup) != "tabular-regression":
            pytest.skip(f"checked for regressions; {setup['spec'].name} on its data is {data_task(setup)}")
        model = self.build(setup)
        self.train_a_little(setup, model)
        model.eval()
        loader = self.tiny_loader(setup)
        metrics = setup["hooks"].evaluate(model, loader, self.eval_context(setup))
        inputs = torch.cat([batch_parts(b)[0] for b in loader])
        targets = torch.cat([batch_parts(b)[1] for b in loader])
        result = setup["hooks"].sample(model, {"inputs": inputs}, self.eval_context(setup))
        expected = regression_scores(result.outputs["values"], targets)
        for name in ("r2", "mse"):
            assert math.isclose(metrics[name], expected[name], rel_tol=1e-5, abs_tol=1e-7), (
                f"evaluate's {name} is {metrics[name]}, but the values sample predicts give {expected[name]}"
            )

    def test_generators_are_seeded(self, setup):
        """Image generators: the same seed draws the same images, another seed others."""
        torch = setup["torch"]
        if setup["spec"].task != "image-generation":
            pytest.skip(f"seeding is checked for image generators; {setup['spec'].task} is not one")
        model = self.build(setup).eval()
        request = self.sample_request(setup)

        def images(seed: int) -> Any:
            torch.manual_seed(seed + 1)  # the global state must not matter, only the request's seed
            outputs = setup["hooks"].sample(model, {**request, "seed": seed}, self.eval_context(setup)).outputs
            return outputs.get("points", outputs["images"])  # a point generator: the points themselves

        first = images(0)
        assert torch.equal(first, images(0)), "the same seed gave different images"
        assert not torch.equal(first, images(1)), "two seeds gave the same images"

    def sample_request(self, setup: dict[str, Any]) -> dict[str, Any]:
        """The request ``sample`` gets in the check: the tiny batch's inputs, or a small draw
        (for text generation: 16 tokens after an empty prompt)."""
        request = {"inputs": batch_parts(setup["batch"])[0], "n": 4, "seed": 0, "steps": 5}
        if setup["spec"].task == "text-generation":
            request.update(prompt="", max_length=16)
        return request

    def saved(self, setup: dict[str, Any], model: Any, folder: Path) -> Path:
        """``model`` written as a checkpoint of the suite's data, as training writes one."""
        from archzoo.checkpoints.io import write_checkpoint
        from archzoo.checkpoints.meta import build_meta
        from archzoo.registry.config import TrainConfig
        from archzoo.toolkit.models import parameter_count

        meta = build_meta(
            spec=setup["spec"],
            config=setup["config"],
            train_config=TrainConfig(),
            info=setup["splits"].info,
            dataset=setup["splits"].info.name,
            metrics={},
            parameters=parameter_count(model)[0],
        )
        return write_checkpoint(folder, model, meta, extra_files=setup["splits"].checkpoint_files())

    def test_checkpoint_round_trip_gives_identical_outputs(self, setup, tmp_path):
        from archzoo.checkpoints.io import load

        torch = setup["torch"]
        model = self.build(setup)
        self.train_a_little(setup, model)
        model.eval()
        splits = setup["splits"]
        loaded = load(self.saved(setup, model, tmp_path / "ckpt"), host=setup["host"])
        if splits.tokenizer is not None:  # text: the tokenizer must come back with the weights
            assert loaded.tokenizer is not None, "the checkpoint lost the dataset's tokenizer"
            assert loaded.tokenizer.to_json() == splits.tokenizer.to_json(), "the tokenizer changed in the round trip"
        loaded_ctx = dataclasses.replace(self.eval_context(setup), tokenizer=loaded.tokenizer or splits.tokenizer)
        torch.manual_seed(0)
        expected = setup["hooks"].sample(model, self.sample_request(setup), self.eval_context(setup))
        torch.manual_seed(0)
        actual = setup["hooks"].sample(loaded.model, self.sample_request(setup), loaded_ctx)
        for key, value in expected.outputs.items():
            if torch.is_tensor(value):
                assert torch.equal(value, actual.outputs[key]), f"output '{key}' differs after the round trip"
            else:
                assert value == actual.outputs[key]

    def test_its_own_views_are_drawn(self, setup, tmp_path):
        """Every view the ``archzoo_views`` hook adds is drawn by ``archzoo show``'s code, from
        a checkpoint of the suite's data: its answer has the shape that view reads."""
        from archzoo.checkpoints.io import load
        from archzoo.inference.views import ViewRequest, draw, plugin_views

        model = self.build(setup)
        model.eval()
        loaded = load(self.saved(setup, model, tmp_path / "ckpt"), host=setup["host"])
        own = plugin_views(loaded, setup["host"])
        if not own:
            pytest.skip(f"{setup['spec'].name} adds no views of its own (the archzoo_views hook)")
        for name, answer in own.items():
            assert callable(answer), f"archzoo_views: '{name}' must map to a function of the request, not {answer!r}"
            try:
                view = draw(loaded, name, ViewRequest(count=4, resolution=32), host=setup["host"])
            except Exception as exc:
                pytest.fail(f"the view '{name}' from archzoo_views cannot be drawn: {type(exc).__name__}: {exc}")
            assert view.png.startswith(b"\x89PNG"), f"the view '{name}' drew no PNG"

    def test_same_seed_same_numbers(self, setup):
        torch = setup["torch"]
        first, second = self.build(setup), self.build(setup)
        torch.manual_seed(self.seed)
        losses_first = [h["loss"] for h in self.train_a_little(setup, first)]
        torch.manual_seed(self.seed)
        losses_second = [h["loss"] for h in self.train_a_little(setup, second)]
        assert losses_first == losses_second
        for (name, a), b in zip(first.state_dict().items(), second.state_dict().values()):
            assert torch.equal(a, b), f"{name} differs between two runs with the same seed"

    def test_bad_config_values_raise_config_error(self, setup):
        spec = setup["spec"]
        with pytest.raises(ConfigError, match="no_such_field"):
            config_module.build_config(spec.config, {"no_such_field": 1})
        checked = 0
        for name, bad in _bad_values(spec.config):
            with pytest.raises(ConfigError) as caught:
                config_module.build_config(spec.config, {name: bad})
            assert name in str(caught.value) and repr(bad) in str(caught.value)
            checked += 1
        assert checked, f"{spec.name}'s config has no field whose bad values could be checked"


def data_task(setup: dict[str, Any]) -> str:
    """The task the architecture does on the suite's data (an MLP on ``sine`` is a regression)."""
    from archzoo.registry.specs import task_on

    return task_on(setup["spec"], setup["splits"].info.task)


def batch_parts(batch: Any) -> tuple[Any, Any]:
    """(inputs, labels) of a batch: ``(inputs, labels)`` itself, or a dict with
    ``"inputs"`` and ``"labels"`` and whatever else its task needs (a graph's
    batch also names the ``"nodes"`` it is about).  Either way the model maps
    the inputs to one row of class scores per label.  Parts a batch lacks are None."""
    if isinstance(batch, dict):
        return batch.get("inputs"), batch.get("labels")
    if isinstance(batch, (list, tuple)):
        return batch[0], batch[1] if len(batch) > 1 else None
    return batch, None


def _bad_values(config_class: type) -> list[tuple[str, Any]]:
    """For each field, a value its type or bounds must reject."""
    hints = typing.get_type_hints(config_class)
    bad = []
    for f in dataclasses.fields(config_class):
        kind = hints[f.name]
        low, high = f.metadata.get("min"), f.metadata.get("max")
        origin = typing.get_origin(kind)
        if origin is Literal:
            bad.append((f.name, "not-one-of-the-choices"))
        elif kind in (int, float):
            bad.append((f.name, "not-a-number"))
            if low is not None:
                bad.append((f.name, low - 1))
            elif high is not None:
                bad.append((f.name, high + 1))
        elif kind is bool:
            bad.append((f.name, "perhaps"))
        elif origin is tuple:
            bad.append((f.name, "1,x,3"))
    return bad


def run_contract_suite(name: str, pytest_args: list[str] | None = None) -> int:
    """Run the suite on one installed architecture in a fresh pytest process; returns its exit code."""
    from archzoo.registry.host import get_host

    get_host().architecture(name)  # a clear error for unknown names, before pytest starts
    with tempfile.TemporaryDirectory(prefix="archzoo-check-") as folder:
        test_file = Path(folder) / "test_archzoo_contract.py"
        test_file.write_text(
            "from archzoo.testing import ContractSuite\n\n\n"
            f"class TestContract(ContractSuite):\n    architecture = {name!r}\n",
            encoding="utf-8",
        )
        command = [
            sys.executable,
            "-m",
            "pytest",
            str(test_file),
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            folder,
            *(pytest_args or []),
        ]
        return subprocess.call(command, cwd=folder, env={**os.environ})
