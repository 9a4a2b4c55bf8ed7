"""Training runs one at a time in a worker thread: the queue, streaming events,
stopping with a resumable checkpoint, and failures that leave the worker alive."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from archzoo.errors import ArchzooError, ConfigError
from archzoo.runs import events
from archzoo.runs.progress import RunProgress, describe_event
from archzoo.training.queue import RunManager


def started(**kw):
    values = dict(
        architecture="mlp",
        dataset="digits",
        epochs=2,
        steps_per_epoch=4,
        total_steps=8,
        parameters=19210,
        trainable_parameters=19210,
        device="cpu",
        num_processes=1,
        out_dir=Path("/store/run"),
    )
    return events.RunStarted(**{**values, **kw})


def test_progress_folds_events_into_a_bar_curves_and_the_cli_log():
    progress = RunProgress()
    progress.add(started())
    for step in range(1, 5):
        progress.add(
            events.StepEnded(
                epoch=0,
                step=step,
                total_steps=8,
                metrics={"loss": 2.0 / step, "accuracy": 0.5},
                examples_per_second=100.0,
                lr=1e-3,
            )
        )
    assert progress.fraction == 0.5 and progress.epoch == 1
    progress.add(
        events.EpochEnded(
            epoch=1,
            train_metrics={"loss": 1.0, "accuracy": 0.6},
            val_metrics={"accuracy": 0.7, "loss": 0.9},
            is_best=True,
            seconds=0.5,
        )
    )
    progress.add(events.CheckpointSaved(path=Path("/store/run/best"), which="best"))
    progress.add(events.Message("note: something to know"))
    progress.add(
        events.RunEnded(
            status="finished",
            best_dir=Path("/store/run/best"),
            last_dir=Path("/store/run/last"),
            test_metrics={"accuracy": 0.71},
            seconds=1.5,
        )
    )
    assert progress.fraction == 1.0 and progress.best_dir == Path("/store/run/best")
    assert progress.loss_curve() == [
        (0.25, 2.0, "train"),
        (0.5, 1.0, "train"),
        (0.75, pytest.approx(2 / 3), "train"),
        (1.0, 0.5, "train"),
    ]
    assert progress.epoch_loss_curve() == [(1.0, 1.0, "train"), (1.0, 0.9, "validation")]
    assert progress.metric_curve() == [(1.0, 0.6, "train accuracy"), (1.0, 0.7, "validation accuracy")]
    text = "\n".join(progress.log)
    assert "training mlp on digits: 19,210 parameters" in text
    assert "epoch 1: train loss 1.0000 accuracy 0.6000 | validation accuracy 0.7000 loss 0.9000 | 0.5s *best*" in text
    assert "note: something to know" in text and "finished in 1.5s" in text and "test:       accuracy 0.7100" in text


def test_long_curves_are_thinned_by_averaging():
    progress = RunProgress()
    progress.add(started(steps_per_epoch=1000, total_steps=1000, epochs=1))
    for step in range(1, 1001):
        progress.add(
            events.StepEnded(epoch=0, step=step, total_steps=1000, metrics={"loss": 1.0}, examples_per_second=1, lr=0)
        )
    curve = progress.loss_curve(max_points=100)
    assert len(curve) == 100 and all(y == 1.0 for _, y, _ in curve)
    assert (
        describe_event(events.StepEnded(epoch=0, step=1, total_steps=1, metrics={}, examples_per_second=1, lr=0))
        is None
    )


def test_thousands_of_epochs_plot_as_evenly_spaced_epochs_ending_with_the_last():
    progress = RunProgress()
    progress.add(started(steps_per_epoch=1, total_steps=1000, epochs=1000))
    for epoch in range(1, 1001):
        progress.add(
            events.EpochEnded(
                epoch=epoch,
                train_metrics={"loss": 1.0 / epoch},
                val_metrics={"accuracy": epoch / 1000},
                is_best=False,
                seconds=0,
            )
        )
    epochs = [x for x, _, _ in progress.metric_curve(max_epochs=100)]
    assert len(epochs) == 100 and epochs[-1] == 1000.0 and epochs == sorted(epochs)
    assert {b - a for a, b in zip(epochs, epochs[1:], strict=False)} == {10.0}
    assert 200 < len(progress.epoch_loss_curve()) <= 400


class FakeTrainer:
    """Stands in for ``archzoo.api.train``: emits a few events per call, runs
    until released or stopped, and records how many calls overlap."""

    def __init__(self):
        self.running = 0
        self.most = 0
        self.calls: list[str] = []
        self.release = threading.Event()
        self.lock = threading.Lock()

    def __call__(self, name, *, on_event, stop, out, dataset=None, **kwargs):
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.calls.append(out)
        try:
            if name == "broken":
                raise RuntimeError("a bug in a plugin")
            if name == "bad-data":
                raise ArchzooError("dataset folder /nowhere does not exist")
            on_event(started(out_dir=Path(out)))
            step = 0
            while not (self.release.is_set() or stop.is_set()):
                step += 1
                on_event(
                    events.StepEnded(
                        epoch=0, step=step, total_steps=8, metrics={"loss": 1.0}, examples_per_second=1.0, lr=1e-3
                    )
                )
                time.sleep(0.01)
            status = "cancelled" if stop.is_set() else "finished"
            on_event(events.RunEnded(status=status, best_dir=None, last_dir=Path(out) / "last"))

            class Result:
                pass

            result = Result()
            result.status = status
            return result
        finally:
            with self.lock:
                self.running -= 1


class FakeHost:
    """A host whose plan checks pass for the names the fake trainer knows."""

    def __init__(self, store):
        from archzoo.registry.host import Host
        from archzoo.registry.settings import Settings

        self.real = Host(Settings(checkpoint_dir=store), entry_points=False)
        self.settings = self.real.settings

    def __getattr__(self, name):
        return getattr(self.real, name)


@pytest.fixture
def fake(tmp_path, monkeypatch):
    from archzoo.training import launch

    trainer = FakeTrainer()
    real_plan = launch.plan_run

    def plan(name=None, **kwargs):  # 'broken' and 'bad-data' stand for the default architecture
        return real_plan(None if name in ("broken", "bad-data") else name, **kwargs)

    monkeypatch.setattr(launch, "plan_run", plan)
    manager = RunManager(FakeHost(tmp_path), train=trainer)
    yield manager, trainer
    trainer.release.set()
    manager.shutdown(timeout=10)


def wait_for(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_one_run_at_a_time_and_the_others_wait_in_order(fake):
    manager, trainer = fake
    first = manager.submit("mlp")
    second = manager.submit("mlp", dataset="moons")
    third = manager.submit("cnn")
    wait_for(lambda: first.state == "running")
    assert [manager.position(r) for r in (first, second, third)] == [0, 1, 2]
    rows = manager.rows()
    assert [(r.id, r.state) for r in rows] == [(first.id, "running"), (second.id, "queued"), (third.id, "queued")]
    assert rows[2].detail == "waiting: 1 run(s) ahead" and second.label == "mlp on moons"
    trainer.release.set()
    for run in (first, second, third):
        assert run.wait(20) and run.state == "finished"
    assert trainer.most == 1 and len(trainer.calls) == 3
    assert len(set(trainer.calls)) == 3  # each run got a folder of its own
    assert all(manager.position(r) == -1 for r in (first, second, third))


def test_events_stream_to_a_follower(fake):
    manager, trainer = fake
    run = manager.submit("mlp")
    seen = []
    while len(seen) < 5:
        seen += run.events_since(len(seen), timeout=5)
    assert isinstance(seen[0], events.RunStarted) and isinstance(seen[1], events.StepEnded)
    trainer.release.set()
    run.wait(10)
    assert isinstance(run.events_since(0)[-1], events.RunEnded)
    assert run.events_since(10**6, timeout=5) == []  # a finished run does not make a follower wait


def test_stop_a_running_run_and_take_a_waiting_one_out_of_the_queue(fake):
    manager, trainer = fake
    running = manager.submit("mlp")
    waiting = manager.submit("mlp")
    wait_for(lambda: running.progress.step > 0)
    assert "taken out of the queue" in manager.stop(waiting.id)
    assert waiting.state == "cancelled" and manager.position(waiting) == -1
    assert "resumable checkpoint" in manager.stop(running.id)
    assert running.wait(10) and running.state == "cancelled"
    assert len(trainer.calls) == 1  # the waiting run never started
    assert "already cancelled" in manager.stop(running.id)
    assert manager.stop("run-999") == "no run run-999"


def test_a_bad_setting_is_refused_before_it_waits(fake):
    manager, trainer = fake
    with pytest.raises(ConfigError, match="invalid value 'many' for 'epochs': an integer"):
        manager.submit("mlp", overrides={"epochs": "many"})
    with pytest.raises(ArchzooError, match="cannot train on dataset 'moons'"):
        manager.submit("cnn", dataset="moons")
    with pytest.raises(ArchzooError, match="outside the checkpoint store"):
        manager.submit("mlp", out="../outside")
    assert manager.rows() == [] and trainer.calls == []


def test_a_failing_run_is_reported_and_the_next_one_still_runs(fake):
    manager, trainer = fake
    bug = manager.submit("broken")
    user_error = manager.submit("bad-data")
    fine = manager.submit("mlp")
    trainer.release.set()
    for run in (bug, user_error, fine):
        run.wait(20)
    assert bug.state == "failed" and "RuntimeError: a bug in a plugin" in bug.error and "server log" in bug.error
    assert user_error.state == "failed" and user_error.error == "dataset folder /nowhere does not exist"
    assert fine.state == "finished"
    assert "error: dataset folder /nowhere does not exist" in user_error.progress.log


def test_a_real_run_stopped_keeps_a_resumable_checkpoint_that_resumes(store):
    manager = RunManager()
    try:
        long = manager.submit("mlp", overrides={"epochs": 50, "batch_size": 16}, out="long")
        wait_for(lambda: long.progress.step >= 3, timeout=120)
        manager.stop(long.id)
        assert long.wait(120) and long.state == "cancelled"
        assert (store / "long" / "last" / "training_state.json").is_file()
        assert "(resumable)" in "\n".join(long.progress.log)

        resumed = manager.submit(out="long", resume=True, overrides={"epochs": 1})
        assert resumed.wait(120) and resumed.state == "finished", resumed.error
        assert resumed.progress.started.resumed_from_step >= 3
        assert resumed.result.best_dir == store / "long" / "best"
        with pytest.raises(ArchzooError, match="cannot change lr when resuming"):
            manager.submit(out="long", resume=True, overrides={"lr": 0.1})
    finally:
        manager.shutdown()


def test_the_default_trains_in_the_worker_under_30_seconds(store):
    manager = RunManager()
    try:
        run = manager.submit()
        assert run.wait(120), "the default run did not finish"
        assert run.state == "finished", run.error
        assert run.result.seconds < 30
        assert run.out_dir.parent == store and run.out_dir.name.startswith("mlp-digits-")
        assert run.progress.fraction == 1.0 and run.progress.best_dir.is_dir()
        assert len(run.progress.epoch_rows) == 5
    finally:
        manager.shutdown()


def test_work_that_holds_the_training_slot_keeps_runs_waiting_until_it_is_released(fake):
    manager, trainer = fake
    trainer.release.set()
    stop = threading.Event()
    holder = manager.hold("study", "study lr", stop)
    with pytest.raises(ArchzooError, match="study lr is training; one training at a time"):
        manager.hold("study", "study other", threading.Event())
    waiting = manager.submit("mlp")
    time.sleep(0.3)
    assert waiting.state == "queued" and trainer.calls == []
    assert [(r.id, r.label, r.state) for r in manager.rows()][0] == ("study", "study lr", "running")
    manager.release(holder)
    assert waiting.wait(20) and waiting.state == "finished"
    assert manager.holder() is None

    trainer.release.clear()
    busy = manager.submit("mlp")
    wait_for(lambda: busy.state == "running")
    with pytest.raises(ArchzooError, match=f"run {busy.id} .* is running; one training at a time"):
        manager.hold("study", "study lr", stop)
    trainer.release.set()
    busy.wait(20)
    manager.hold("study", "study lr", stop)
    manager.shutdown(timeout=10)
    assert stop.is_set()  # shutting the server down stops the holder's work too
