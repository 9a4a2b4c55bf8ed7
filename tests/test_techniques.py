"""The training techniques of the notes as settings, each checked by its effect on
real runs on scikit-learn's digits: label smoothing (3.10), gradient accumulation
(3.3.4), the L1 penalty (explainers 3.2) and the schedules (2.5)."""

from __future__ import annotations

import math
import threading

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file

import archzoo
from archzoo.api import train
from archzoo.data.loading import load_dataset
from archzoo.errors import ConfigError
from archzoo.registry.config import TrainConfig
from archzoo.registry.plans import plan_run
from archzoo.runs import events
from archzoo.toolkit.classification import classification_loss
from archzoo.training.context import StepContext
from archzoo.training.schedules import build_schedule

#: One plain SGD update with nothing else moving the weights: no momentum, decay, clipping or schedule.
BARE = {"optimizer": "sgd", "momentum": "0", "weight_decay": "0", "grad_clip": "0", "schedule": "constant"}


def weights(run_dir):
    return load_file(run_dir / "last" / "model.safetensors")


def test_label_smoothing_is_cross_entropy_against_the_smoothed_targets():
    torch.manual_seed(0)
    logits, labels, eps, k = torch.randn(6, 4), torch.tensor([0, 1, 2, 3, 1, 0]), 0.1, 4
    targets = F.one_hot(labels, k).float() * (1 - eps) + eps / k  # 1 - eps + eps/K on the true class
    by_hand = -(targets * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()
    ctx = StepContext(device=torch.device("cpu"), info=None, train_config=TrainConfig(label_smoothing=eps))
    torch.testing.assert_close(classification_loss(logits, labels, ctx), by_hand)


def test_a_run_with_label_smoothing_reports_the_smoothed_loss_of_its_batch(store):
    """lr 0 and one batch of the whole training split: the step's loss is the smoothed
    cross-entropy of the untouched model on every training example."""
    result = train(
        "mlp",
        dataset="digits",
        overrides={**BARE, "lr": "0", "label_smoothing": "0.2", "batch_size": "4096", "epochs": "1"},
        out="smooth",
    )
    model = archzoo.load(store / "smooth" / "last").model
    splits = load_dataset("digits")
    inputs, labels = splits.train.tensors
    with torch.no_grad():
        expected = F.cross_entropy(model(inputs), labels, label_smoothing=0.2).item()
        val_inputs, val_labels = splits.val.tensors
        plain_validation = F.cross_entropy(model(val_inputs), val_labels).item()
    assert result.step_losses == [pytest.approx(expected, rel=1e-6)]
    # evaluation stays plain cross-entropy, comparable with runs that did not smooth
    assert result.history[0]["validation"]["loss"] == pytest.approx(plain_validation, rel=1e-6)


def test_four_accumulated_batches_of_32_make_the_update_of_one_batch_of_128(store):
    whole = train(
        "mlp", dataset="digits", overrides={**BARE, "lr": "0.5", "batch_size": "128", "max_steps": "1"}, out="one"
    )
    added = train(
        "mlp",
        dataset="digits",
        overrides={**BARE, "lr": "0.5", "batch_size": "32", "grad_accumulation": "4", "max_steps": "4"},
        out="four",
    )
    start = train("mlp", dataset="digits", overrides={**BARE, "lr": "0", "max_steps": "1"}, out="start")
    one, four, before = weights(whole.out_dir), weights(added.out_dir), weights(start.out_dir)
    for name in one:
        assert not torch.equal(one[name], before[name]), f"{name} did not move"
        torch.testing.assert_close(four[name], one[name], atol=1e-6, rtol=1e-5)


def test_accumulation_updates_every_n_batches_and_at_the_end_of_an_epoch(store):
    seen = []
    result = train(
        "mlp",
        dataset="digits",
        overrides={"batch_size": "256", "grad_accumulation": "3", "epochs": "2", "lr": "1e-3"},
        out="acc",
        on_event=seen.append,
    )
    started = next(e for e in seen if isinstance(e, events.RunStarted))
    assert result.status == "finished" and started.steps_per_epoch == 6
    # two updates an epoch (after batches 3 and 6): the cosine runs over four; progress is
    # reported at steps 6 (2 updates), 10 (3 updates: batch 9 ended a group) and 12 (4)
    lrs = [e.lr for e in seen if isinstance(e, events.StepEnded)]
    cosine = [0.5e-3 * (1 + math.cos(math.pi * u / 4)) for u in (2, 3, 4)]
    assert [e.step for e in seen if isinstance(e, events.StepEnded)] == [6, 10, 12]
    assert lrs == [pytest.approx(lr, abs=1e-12) for lr in cosine]


def test_l1_adds_lambda_times_the_sign_of_each_weight_to_its_gradient(store):
    lr, l1 = 0.5, 0.01
    plain = train("mlp", dataset="digits", overrides={**BARE, "lr": str(lr), "max_steps": "1"}, out="plain")
    lasso = train("mlp", dataset="digits", overrides={**BARE, "lr": str(lr), "l1": str(l1), "max_steps": "1"}, out="l1")
    start = train("mlp", dataset="digits", overrides={**BARE, "lr": "0", "max_steps": "1"}, out="w0")
    w_plain, w_l1, w0 = weights(plain.out_dir), weights(lasso.out_dir), weights(start.out_dir)
    for name in w0:
        if w0[name].ndim >= 2:  # weights: one more step of lr * l1 towards zero
            torch.testing.assert_close(w_l1[name], w_plain[name] - lr * l1 * w0[name].sign(), atol=1e-6, rtol=0)
        else:  # biases are left alone
            torch.testing.assert_close(w_l1[name], w_plain[name])


def lrs_of(schedule: str, updates: int = 100, per_epoch: int = 10, lr: float = 1.0, **settings) -> list[float]:
    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([parameter], lr=lr, momentum=0.9)
    tc = TrainConfig(schedule=schedule, lr=lr, **settings)
    scheduler = build_schedule(optimizer, tc, updates, per_epoch)
    seen = []
    for _ in range(updates):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return seen


def test_step_decay_is_eta_0_times_gamma_to_the_floor_of_t_over_T():
    seen = lrs_of("step", warmup_fraction=0.0, step_epochs=3, step_gamma=0.1)
    expected = [0.1 ** (t // 30) for t in range(100)]  # T = 3 epochs of 10 updates
    assert seen == pytest.approx(expected)


def test_cosine_decays_from_the_peak_to_eta_min_after_its_warmup():
    seen = lrs_of("cosine", lr=0.1, warmup_fraction=0.1, eta_min=0.001)
    assert seen[:10] == pytest.approx([0.1 * (t + 1) / 10 for t in range(10)])  # linear warmup
    t, big_t = 45 - 10, 90  # half-way through the decay
    assert seen[45] == pytest.approx(0.001 + 0.5 * (0.1 - 0.001) * (1 + math.cos(math.pi * t / big_t)))
    assert seen[-1] == pytest.approx(0.001, abs=1e-4) and min(seen) >= 0.001 - 1e-12
    assert lrs_of("warmup-cosine", lr=0.1, warmup_fraction=0.1, eta_min=0.001) == seen  # its earlier name


def test_onecycle_rises_from_a_25th_to_the_peak_then_falls_far_below_it():
    seen = lrs_of("onecycle", lr=0.1, warmup_fraction=0.3)
    peak = seen.index(max(seen))
    assert seen[0] == pytest.approx(0.1 / 25) and max(seen) == pytest.approx(0.1)
    assert 28 <= peak <= 31  # the rise takes warmup_fraction of the updates
    assert seen[-1] < 0.1 / 25 / 1000


def test_a_resumed_onecycle_run_continues_its_schedule_exactly(store):
    settings = {"schedule": "onecycle", "epochs": "3", "batch_size": "128"}
    straight = train("mlp", dataset="digits", overrides=settings, out="straight")
    stop = threading.Event()

    def after_first_epoch(event):
        if isinstance(event, events.EpochEnded) and event.epoch == 1:
            stop.set()

    train("mlp", dataset="digits", overrides=settings, out="cut", on_event=after_first_epoch, stop=stop)
    resumed = train(out="cut", resume=True)
    assert resumed.step_losses == straight.step_losses[-len(resumed.step_losses) :]


def test_a_setting_the_run_would_ignore_is_refused_by_name():
    with pytest.raises(ConfigError, match="label_smoothing.*ddpm on 'spirals' is image-generation"):
        plan_run("ddpm", dataset="spirals", overrides={"label_smoothing": "0.1"})
    plan_run("mlp", dataset="moons", overrides={"label_smoothing": "0.1"})  # a classifier: read


def test_the_form_hides_what_a_run_never_reads():
    from archzoo.registry import catalog

    fields = {f.name: f for f in catalog.form("mlp").fields}  # the Train form is built once, from one form
    assert {"label_smoothing", "mixup", "grad_accumulation"} <= set(fields)
    generating = catalog.run_task("ddpm", "spirals")
    classifying = catalog.run_task("mlp", "moons")
    assert (generating, classifying) == ("image-generation", "tabular-classification")
    assert not catalog.applies(fields["label_smoothing"], catalog.data_kinds("spirals"), generating)
    assert catalog.applies(fields["label_smoothing"], catalog.data_kinds("moons"), classifying)
    assert catalog.applies(fields["grad_accumulation"], catalog.data_kinds("spirals"), generating)  # every run
