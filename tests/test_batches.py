"""Whole batches from data in memory (archzoo.data.batches) and the step metrics read
every log_every steps (archzoo.training.tally): the same batches, the same numbers.

Real datasets (digits, SST-2, the toy grammar's corpus), the real trainer.  The
per-example path is reached by telling the loader no dataset can be taken whole,
which is the path image folders and custom collates take.
"""

from __future__ import annotations

import json

import pytest
import torch
from torch.utils.data import DataLoader

from archzoo import DataError, api
from archzoo.checkpoints.io import sha256_file
from archzoo.data import DataOptions, load_dataset
from archzoo.data import batches as batches_module
from archzoo.data.batches import IndexBatches, WholeBatches, batch_loader, placement
from archzoo.runs import events
from archzoo.training.tally import StepTally
from archzoo.training.trainer import EpochSampler


@pytest.fixture
def store(store, one_thread):
    """The shared empty store (conftest), trained in on one thread."""
    return store


def same_batches(first, second) -> bool:
    first, second = list(first), list(second)
    if len(first) != len(second):
        return False
    for a, b in zip(first, second):
        a, b = (a, b) if isinstance(a, list | tuple) else ((a,), (b,))
        if not all(x.dtype == y.dtype and torch.equal(x, y) for x, y in zip(a, b, strict=True)):
            return False
    return True


@pytest.mark.parametrize(
    "name, options",
    [
        ("digits", DataOptions()),
        ("sst2", None),  # variable-length sentences, padded per batch
        ("sentences-synthetic", DataOptions()),  # a corpus cut into windows
    ],
)
def test_whole_batches_are_the_per_example_batches_in_the_same_order(name, options, shared_data):
    if name == "sst2":
        options = DataOptions(data_dir=shared_data / "sst2")
    splits = load_dataset(name, options)
    sampler = EpochSampler(len(splits.train), seed=3, lengths=splits.lengths, batch_size=32)
    sampler.set_epoch(2)
    whole = batch_loader(splits.train, sampler, 32, splits.collate)
    assert isinstance(whole.dataset, WholeBatches), "the dataset should be taken whole"
    per_example = DataLoader(splits.train, batch_size=32, sampler=sampler, collate_fn=splits.collate)
    assert len(whole) == len(per_example)
    assert same_batches(whole, per_example)
    direct = batch_loader(splits.train, sampler, 32, splits.collate, direct=True)  # one CPU process: no DataLoader
    assert isinstance(direct, IndexBatches) and len(direct) == len(per_example)
    assert same_batches(direct, per_example)
    assert same_batches(direct.batches(skip=3), list(per_example)[3:])  # a run resumed inside the epoch
    validation = batch_loader(splits.val, None, 100, splits.collate)
    assert same_batches(validation, DataLoader(splits.val, batch_size=100, collate_fn=splits.collate))


def test_a_dataset_that_cannot_be_taken_whole_keeps_the_per_example_loader():
    splits = load_dataset("digits")
    odd = batch_loader(splits.train, None, 16, collate=lambda items: items)  # a custom collate of its own
    assert not isinstance(odd.dataset, WholeBatches) and len(next(iter(odd))) == 16


def test_training_on_whole_batches_gives_the_numbers_of_the_per_example_path(store, monkeypatch):
    overrides = {"epochs": "2", "batch_size": "100", "log_every": "1"}
    whole = api.train("mlp", dataset="digits", overrides=overrides, out="whole")
    with monkeypatch.context() as patched:
        patched.setattr(batches_module, "batch_taker", lambda dataset, collate: None)
        per_example = api.train("mlp", dataset="digits", overrides=overrides, out="per-example")
    assert whole.step_losses == per_example.step_losses and len(whole.step_losses) == 2 * 13
    strip = [{k: v for k, v in h.items() if k != "seconds"} for h in (*whole.history, *per_example.history)]
    assert strip[:2] == strip[2:]
    assert whole.test_metrics == per_example.test_metrics
    assert sha256_file(whole.last_dir / "model.safetensors") == sha256_file(per_example.last_dir / "model.safetensors")


def test_step_metrics_are_read_every_log_every_steps_and_their_means_are_the_steps_means(store):
    seen = []
    result = api.train(
        "mlp", dataset="digits", overrides={"epochs": "1", "batch_size": "64", "log_every": "4"}, on_event=seen.append
    )
    steps = [e for e in seen if isinstance(e, events.StepEnded)]
    assert [e.step for e in steps] == [4, 8, 12, 16, 20, 21]  # 1,293 training examples in 21 batches
    assert all(isinstance(v, float) for e in steps for v in e.metrics.values())
    assert all(e.examples_per_second > 0 for e in steps)
    ended = next(e for e in seen if isinstance(e, events.EpochEnded))
    assert len(ended.step_losses) == 21 and ended.step_losses[-1][1] == steps[-1].metrics["loss"]
    assert ended.train_metrics["loss"] == pytest.approx(sum(loss for _, loss in ended.step_losses) / 21, rel=1e-12)
    assert json.loads((result.last_dir / "config.json").read_text())["train"]["log_every"] == 4


def test_the_tally_adds_tensors_and_numbers_as_python_would():
    tally = StepTally()
    values = [0.1, 0.7, 1 / 3]
    for step, value in enumerate(values, start=1):
        tally.add(
            step, {"loss": torch.tensor(value, dtype=torch.float32), "accuracy": value, "hits": torch.tensor(step)}
        )
    expected = sum(float(torch.tensor(v, dtype=torch.float32)) for v in values) / 3
    assert tally.means() == {"loss": expected, "accuracy": sum(values) / 3, "hits": 2.0}
    assert tally.step_losses() == [(s, float(torch.tensor(v, dtype=torch.float32))) for s, v in enumerate(values, 1)]


def test_data_stays_on_the_host_on_a_cpu():
    assert placement(10**6, 4.0, torch.device("cpu")) == "host"
    assert placement(10**6, 4.0, None) == "host"


def test_on_an_accelerator_data_within_the_budget_goes_on_it_and_a_budget_over_its_size_is_refused(monkeypatch):
    # This machine has no accelerator: its size is the one thing stood in for (an 80 GiB GPU).
    monkeypatch.setattr(batches_module, "device_memory", lambda device: 80 * 2**30)
    gpu, notes = torch.device("cuda", 0), []
    assert placement(2 * 2**30, 4.0, gpu, notes.append) == "device"
    assert placement(5 * 2**30, 4.0, gpu, notes.append) == "pinned"
    assert notes == [
        "the data (5.00 GiB) is over device_data_budget (4 GiB): batches are copied from pinned memory instead"
    ]
    assert placement(10, 0.0, gpu, notes.append) == "pinned"  # 0 keeps data off the device
    with pytest.raises(DataError, match=r"device_data_budget 100 GiB is more than the cuda:0 has \(80.0 GiB\)"):
        placement(10, 100.0, gpu)


def test_compile_where_it_fails_goes_on_uncompiled_says_so_and_computes_what_a_plain_run_does(store, monkeypatch):
    import torch._inductor.config as inductor

    monkeypatch.setattr(inductor.cpp, "cxx", ("/nonexistent/g++",))  # a machine with no C++ compiler for its kernels
    seen = []
    overrides = {"epochs": "1", "batch_size": "128"}
    failed = api.train("mlp", dataset="digits", overrides={**overrides, "compile": "true"}, on_event=seen.append)
    plain = api.train("mlp", dataset="digits", overrides=overrides, out="plain")
    said = [e.text for e in seen if isinstance(e, events.Message)]
    assert failed.status == "finished" and any(
        t.startswith("compile: torch.compile failed (InductorError: InvalidCxxCompiler") for t in said
    ), said
    assert failed.step_losses == plain.step_losses


def test_a_compiled_channels_last_run_computes_what_a_plain_one_does_and_keeps_its_weights_names(store):
    from archzoo.checkpoints.io import load

    fast = {"epochs": "1", "compile": "true", "channels_last": "true"}
    result = api.train("cnn", dataset="digits", overrides=fast, out="fast")
    plain = api.train("cnn", dataset="digits", overrides={"epochs": "1"}, out="plain")
    assert result.status == "finished" and result.step_losses == pytest.approx(plain.step_losses, abs=1e-4)
    assert result.test_metrics["accuracy"] == pytest.approx(plain.test_metrics["accuracy"], abs=0.01)
    loaded = load(result.best_dir)  # a plain model, no compiled wrapper's names in the file
    assert not any("_orig_mod" in name for name in loaded.model.state_dict())
