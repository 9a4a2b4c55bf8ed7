"""The trainer on real data (scikit-learn's digits): checkpoints, events,
determinism, resuming, cancelling, early stopping, and never overwriting."""

from __future__ import annotations

import json
import shutil
import threading

import pytest
import torch

import archzoo
from archzoo.api import train
from archzoo.checkpoints.layout import STATE_JSON, STATE_TENSORS
from archzoo.files import sha256_file
from archzoo.runs import events

FAST = {"epochs": "2", "batch_size": "128"}


def test_training_writes_best_and_last_checkpoints_that_classify_digits(store):
    seen = []
    result = train("mlp", dataset="digits", overrides={"epochs": "8", "lr": "3e-3"}, out="run", on_event=seen.append)
    assert result.status == "finished"
    assert result.best_dir == store / "run" / "best" and result.last_dir == store / "run" / "last"
    assert result.test_metrics["accuracy"] > 0.9, result.test_metrics
    meta = json.loads((result.best_dir / "config.json").read_text())
    assert meta["architecture"] == "mlp" and meta["dataset"]["name"] == "digits"
    assert meta["dataset"]["info"]["input_shape"] == [1, 8, 8]
    assert meta["metrics"]["test"]["accuracy"] == result.test_metrics["accuracy"]
    assert meta["weights_sha256"] == sha256_file(result.best_dir / "model.safetensors")
    assert (result.last_dir / STATE_TENSORS).is_file() and not (result.best_dir / STATE_TENSORS).exists()
    card = (result.best_dir / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: archzoo\n") and "type: digits" in card  # in the model-index
    assert "\ndatasets:" not in card  # digits has no Hub dataset id, and none is invented

    kinds = [type(e) for e in seen]
    assert kinds[0] is events.RunStarted and kinds[-1] is events.RunEnded
    assert kinds.count(events.EpochEnded) == 8
    # progress every log_every (10) steps and at each epoch's end, where the step metrics are read
    per_epoch, total = seen[0].steps_per_epoch, seen[0].total_steps
    reported = [e.step for e in seen if isinstance(e, events.StepEnded)]
    assert reported == [s for s in range(1, total + 1) if s % 10 == 0 or s % per_epoch == 0]
    assert all(e.examples_per_second > 0 for e in seen if isinstance(e, events.StepEnded))

    loaded = archzoo.load(store / "run")
    assert loaded.path == result.best_dir and not loaded.model.training


def test_same_seed_gives_the_same_numbers(store):
    first = train("mlp", overrides=FAST, out="a")
    second = train("mlp", overrides=FAST, out="b")
    other = train("mlp", overrides={**FAST, "seed": "7"}, out="c")
    assert first.step_losses == second.step_losses
    assert sha256_file(first.last_dir / "model.safetensors") == sha256_file(second.last_dir / "model.safetensors")
    assert first.step_losses != other.step_losses


def test_resuming_from_an_epoch_boundary_matches_an_uninterrupted_run(store):
    straight = train("mlp", overrides={**FAST, "epochs": "3"}, out="straight")
    stop = threading.Event()

    def stop_after_first_epoch(event):
        if isinstance(event, events.EpochEnded) and event.epoch == 1:
            stop.set()

    cut = train("mlp", overrides={**FAST, "epochs": "3"}, out="split", on_event=stop_after_first_epoch, stop=stop)
    assert cut.status == "cancelled" and len(cut.history) == 1
    resumed = train(out="split", resume=True)
    assert resumed.status == "finished"
    assert resumed.step_losses == straight.step_losses[len(straight.step_losses) - len(resumed.step_losses) :]
    assert sha256_file(straight.last_dir / "model.safetensors") == sha256_file(resumed.last_dir / "model.safetensors")
    assert [h["epoch"] for h in resumed.history] == [1, 2, 3]


def test_a_finished_run_can_be_extended_with_more_epochs(store):
    train("mlp", overrides={**FAST, "epochs": "1"}, out="grow")
    grown = train(overrides={"epochs": "3"}, out="grow", resume=True)
    assert grown.status == "finished"
    assert [h["epoch"] for h in grown.history] == [1, 2, 3]


def test_a_run_cut_by_max_steps_inside_an_epoch_continues_there_when_resumed_with_more(store):
    """max_steps stops a run mid-epoch; resumed with a larger (or no) limit it takes
    the rest of that epoch's batches, so the whole equals a run that never stopped."""
    settings = {**FAST, "batch_size": "64", "schedule": "constant"}
    straight = train("mlp", overrides=settings, out="straight")
    cut = train("mlp", overrides={**settings, "max_steps": "5"}, out="cut")
    assert cut.status == "finished" and len(cut.step_losses) == 5 and [h["epoch"] for h in cut.history] == [1]
    with pytest.raises(archzoo.ArchzooError, match="already took 5 steps and max_steps is 5"):
        train(out="cut", resume=True)
    resumed = train(overrides={"max_steps": "0"}, out="cut", resume=True)
    assert cut.step_losses + resumed.step_losses == straight.step_losses
    assert sha256_file(straight.last_dir / "model.safetensors") == sha256_file(resumed.last_dir / "model.safetensors")
    assert [h["epoch"] for h in resumed.history] == [1, 2]


def test_cancelling_mid_epoch_keeps_a_resumable_checkpoint_and_resume_matches(store):
    straight = train("mlp", overrides={**FAST, "batch_size": "64"}, out="straight")
    stop = threading.Event()

    def cancel_after_five_steps(event):
        if isinstance(event, events.StepEnded) and event.step == 5:
            stop.set()

    cancelled = train(
        "mlp",
        overrides={**FAST, "batch_size": "64", "log_every": "1"},
        out="cut",
        on_event=cancel_after_five_steps,
        stop=stop,
    )
    assert cancelled.status == "cancelled"
    state = json.loads((store / "cut" / "last" / STATE_JSON).read_text())
    assert state["loop"]["global_step"] == 5 and state["loop"]["batch"] == 5 and state["loop"]["epoch"] == 0
    resumed = train(out="cut", resume=True)
    assert resumed.status == "finished"
    assert sha256_file(straight.last_dir / "model.safetensors") == sha256_file(resumed.last_dir / "model.safetensors")


def test_early_stopping_stops_when_validation_does_not_improve(store):
    seen = []
    result = train("mlp", overrides={"epochs": "10", "lr": "0", "patience": "2"}, out="flat", on_event=seen.append)
    assert result.status == "stopped-early"
    assert len(result.history) == 3
    assert any(isinstance(e, events.Message) and "stopping early" in e.text for e in seen)


def test_an_existing_checkpoint_is_never_overwritten_without_overwrite(store):
    first = train("mlp", overrides=FAST, out="keep")
    before = sha256_file(first.best_dir / "model.safetensors")
    with pytest.raises(archzoo.ArchzooError, match="already holds a checkpoint.*--overwrite"):
        train("mlp", overrides={**FAST, "seed": "3"}, out="keep")
    assert sha256_file(first.best_dir / "model.safetensors") == before
    replaced = train("mlp", overrides={**FAST, "seed": "3"}, out="keep", overwrite=True)
    assert sha256_file(replaced.best_dir / "model.safetensors") != before


def test_resume_refuses_to_change_the_recipe(store):
    train("mlp", overrides=FAST, out="r")
    with pytest.raises(archzoo.ArchzooError, match="cannot change lr"):
        train(overrides={"lr": "0.1", "epochs": "4"}, out="r", resume=True)
    with pytest.raises(archzoo.ArchzooError, match="already finished 2 of 2 epochs"):
        train(out="r", resume=True)


def test_mlp_trains_on_two_dimensional_points(store):
    result = train("mlp", dataset="moons", overrides={"hidden": "32,32", "epochs": "30", "lr": "1e-2"}, out="moons")
    assert result.test_metrics["accuracy"] > 0.9, result.test_metrics


def test_a_preset_on_points_is_recorded_and_described_as_what_it_is(store):
    """A preset's run says the data's task and its card the preset's summary, also after a resume."""
    train("mlp-moons", overrides={"epochs": "1"}, out="preset")
    record = json.loads((store / "preset" / "run.json").read_text())
    assert record["task"] == "tabular-classification" and record["preset"] == "mlp-moons"
    card = (store / "preset" / "best" / "README.md").read_text()
    assert "2-32-32-2" in card and "784-256-10" not in card
    train(out="preset", resume=True, overrides={"epochs": "2"})
    assert "2-32-32-2" in (store / "preset" / "last" / "README.md").read_text()
    assert json.loads((store / "preset" / "last" / "config.json").read_text())["train"]["epochs"] == 2


def test_a_classifier_cannot_train_on_another_task(store):
    with pytest.raises(archzoo.ArchzooError, match="cannot train on dataset 'moons'"):
        train("cnn", dataset="moons")


def test_resume_names_an_optimizer_state_of_another_shape(store):
    """A run saved with two parameter groups (weight decay on weights only) that
    is resumed by an optimizer with one gets a clear error, and its files stay."""
    first = train("mlp", overrides={**FAST, "weight_decay": "0"}, out="groups")
    state_file = first.last_dir / STATE_JSON
    state = json.loads(state_file.read_text())
    group = state["optimizers"]["main"]["param_groups"][0]
    state["optimizers"]["main"]["param_groups"] = [
        dict(group, params=group["params"][:2]),
        dict(group, params=group["params"][2:]),
    ]
    state_file.write_text(json.dumps(state))
    before = sha256_file(first.last_dir / "model.safetensors")
    with pytest.raises(archzoo.ArchzooError, match="2 parameter group.*has 1"):
        train(overrides={"epochs": "3"}, out="groups", resume=True)
    assert sha256_file(first.last_dir / "model.safetensors") == before


def test_bfloat16_steps_train_in_lower_precision_and_save_float32_weights(store):
    """``mixed_precision=bf16`` puts the training steps under autocast: the
    losses differ from a float32 run's (so the setting reaches the step), the
    model still learns, and the checkpoint keeps float32 weights."""
    from safetensors.torch import load_file

    overrides = {"epochs": "6", "lr": "3e-3"}
    full = train("mlp", dataset="digits", overrides=overrides, out="fp32")
    half = train("mlp", dataset="digits", overrides={**overrides, "mixed_precision": "bf16"}, out="bf16")
    assert half.step_losses != full.step_losses
    assert abs(half.step_losses[0] - full.step_losses[0]) < 0.05  # same start, bf16 rounding only
    assert half.test_metrics["accuracy"] > 0.9, half.test_metrics
    assert {t.dtype for t in load_file(half.last_dir / "model.safetensors").values()} == {torch.float32}
    assert json.loads((half.last_dir / "config.json").read_text())["train"]["mixed_precision"] == "bf16"
    with pytest.raises(archzoo.ArchzooError, match="mixed_precision"):
        train("mlp", dataset="digits", overrides={"mixed_precision": "fp16"}, out="fp16")


def test_a_float32_run_can_go_on_in_bfloat16(store):
    """Precision is how fast the same steps run, not the recipe, so a resumed
    run may change it; the continuation is recorded as bf16 and differs from
    one that stays float32."""
    first = train("mlp", dataset="digits", overrides={"epochs": "1", "lr": "3e-3"}, out="switch")
    assert json.loads((first.last_dir / "config.json").read_text())["train"]["mixed_precision"] == "no"
    shutil.copytree(first.last_dir.parent, first.last_dir.parent.parent / "stay")
    half = train(overrides={"epochs": "2", "mixed_precision": "bf16"}, out="switch", resume=True)
    full = train(overrides={"epochs": "2"}, out="stay", resume=True)
    assert half.status == full.status == "finished"
    assert json.loads((half.last_dir / "config.json").read_text())["train"]["mixed_precision"] == "bf16"
    assert half.step_losses != full.step_losses


@pytest.mark.parametrize("name", ["rmsprop", "adagrad"])
def test_rmsprop_and_adagrad_take_the_notes_steps(name):
    """Two steps of each on a small linear model against the update rules written out:
    RMSProp's running average of squared gradients (notes 2.4.2), AdaGrad's running total."""
    from archzoo.registry.config import build_config
    from archzoo.training.trainer import default_optimizer

    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    tc = build_config(archzoo.TrainConfig, {"optimizer": name, "lr": 0.05, "weight_decay": 0, "momentum": 0})
    optimizer = default_optimizer(model, tc)
    x, y = torch.randn(16, 3), torch.randn(16, 1)
    theta = [p.detach().clone() for p in model.parameters()]
    state = [torch.zeros_like(p) for p in theta]
    for _ in range(2):
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        grads = [p.grad.detach().clone() for p in model.parameters()]
        optimizer.step()
        for i, g in enumerate(grads):
            state[i] = tc.rms_decay * state[i] + (1 - tc.rms_decay) * g**2 if name == "rmsprop" else state[i] + g**2
            theta[i] = theta[i] - tc.lr * g / (state[i].sqrt() + 1e-10)
    for expected, p in zip(theta, model.parameters()):
        assert torch.allclose(p.detach(), expected, atol=1e-6), (name, p, expected)


def test_adams_betas_are_settings():
    from archzoo.registry.config import build_config
    from archzoo.training.trainer import default_optimizer

    tc = build_config(archzoo.TrainConfig, {"optimizer": "adam", "adam_beta1": "0.5", "adam_beta2": 0.9})
    optimizer = default_optimizer(torch.nn.Linear(2, 2), tc)
    assert all(group["betas"] == (0.5, 0.9) for group in optimizer.param_groups)
    with pytest.raises(archzoo.ConfigError, match="adam_beta2"):
        build_config(archzoo.TrainConfig, {"adam_beta2": 1.0})
