"""The one training loop every plugin shares, on Hugging Face Accelerate.

The loop owns what should be the same for every architecture: seeding, the
default optimizer and schedule, data order, evaluation each epoch, early
stopping, ``best`` and ``last`` checkpoints, resuming, and cancellation.  The
plugin owns one step (``train_step``) and its metrics (``evaluate``).

The same code runs on a CPU, one GPU, or several processes started by
``torchrun`` / ``accelerate launch``: Accelerate shards the training batches
across processes, every process evaluates its shard, and only the main process
writes checkpoints and emits events.

Data order is a function of (seed, epoch) alone, so a run resumed from an
epoch boundary continues with exactly the numbers it would have produced.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import random
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, Sampler

from archzoo.checkpoints.io import read_weights, write_checkpoint
from archzoo.checkpoints.layout import STATE_JSON, STATE_TENSORS, is_checkpoint
from archzoo.checkpoints.meta import build_meta
from archzoo.data.batches import IndexBatches, batch_loader
from archzoo.data.text import bucket_by_length
from archzoo.data.types import DatasetSplits
from archzoo.errors import ArchzooError, CheckpointError, DataError
from archzoo.registry.config import TrainConfig
from archzoo.registry.host import Host
from archzoo.registry.limits import check_parameters, parse_json
from archzoo.registry.specs import ArchSpec, metric_direction
from archzoo.runs import events
from archzoo.toolkit.models import param_groups_weight_decay, parameter_count, plan_on_meta, planned_size, unwrap
from archzoo.training.augment import BatchAugmenter, augmenting, augments
from archzoo.training.context import EvalContext, StepContext
from archzoo.training.schedules import build_schedule
from archzoo.training.speed import (
    channels_last_batches,
    compile_forward,
    falling_back,
    fused_available,
    to_channels_last,
)
from archzoo.training.synchronise import broadcast_from_main
from archzoo.training.tally import StepTally, read
from archzoo.training.trackers import TrackerFeed, accelerator_options

#: Called on the main process after every epoch with (model, epoch, last): the model bare and in
#: eval mode, under ``no_grad``, with the random streams forked (training's numbers do not
#: change); returns (view name, file) for each file it wrote.  The live views are one.
EpochWatch = Callable[[torch.nn.Module, int, bool], list[tuple[str, Path]]]


class TrainingInterrupted(ArchzooError):
    """Ctrl-C stopped the run; a resumable ``last`` checkpoint was saved."""


@dataclass
class RunResult:
    status: str
    out_dir: Path
    best_dir: Path | None
    last_dir: Path | None
    val_metrics: dict[str, float] = field(default_factory=dict)
    test_metrics: dict[str, float] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    step_losses: list[float] = field(default_factory=list)
    seconds: float = 0.0
    is_main_process: bool = True  # False in the other processes of a multi-process run


@dataclass
class LoopState:
    """Where the loop is, and what it has seen: all a resumed run needs besides
    the weights, optimizers and random generators."""

    epoch: int = 0  # the epoch in progress (or the next one, between epochs)
    batch: int = 0  # batches of that epoch already trained
    global_step: int = 0
    best: float | None = None  # the best value of the headline validation metric
    best_metric: str = ""
    best_val: dict[str, float] = field(default_factory=dict)
    stale: int = 0  # epochs since the best one
    history: list[dict[str, Any]] = field(default_factory=list)
    step_losses: list[float] = field(default_factory=list)  # this session's steps only; not saved

    SAVED = ("epoch", "batch", "global_step", "best", "best_metric", "best_val", "stale", "history")

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.SAVED}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LoopState:
        return cls(**{name: data[name] for name in cls.SAVED if name in data})


class EpochSampler(Sampler[int]):
    """A shuffled order that depends only on (seed, epoch): the same in every
    process, the same when a run is resumed.

    Given the examples' ``lengths`` (text), the order is bucketed: shuffled,
    then sorted by length within pools of 50 batches, cut into batches, and the
    batches shuffled, so that a batch holds examples of about one length and
    needs little padding."""

    def __init__(self, size: int, seed: int, lengths: Any = None, batch_size: int = 1) -> None:
        self.size = size
        self.seed = seed
        self.epoch = 0
        self.lengths = lengths
        self.batch_size = batch_size

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        return iter(self.order().tolist())

    def order(self) -> torch.Tensor:
        """This epoch's order of the examples, as a tensor of indices."""
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        order = torch.randperm(self.size, generator=generator)
        if self.lengths is not None:
            order = bucket_by_length(order, self.lengths, self.batch_size, generator)
        return order

    def __len__(self) -> int:
        return self.size


def better(metric: str, new: float, old: float | None, declared: dict[str, str] | None = None) -> bool:
    """Is ``new`` an improvement, in the direction the architecture declares for ``metric``?"""
    if old is None:
        return True
    return new < old if metric_direction(metric, declared) == "lower" else new > old


class Trainer:
    """Trains one architecture on one dataset into ``out_dir``."""

    def __init__(
        self,
        spec: ArchSpec,
        config: Any,
        train_config: TrainConfig,
        splits: DatasetSplits,
        dataset_name: str,
        out_dir: Path,
        *,
        host: Host,
        on_event: Callable[[Any], None] | None = None,
        stop: threading.Event | None = None,
        resume: bool = False,
        record: Any = None,
        summary: str | None = None,
        stop_early: Callable[[events.EpochEnded], str | None] | None = None,
        watch: EpochWatch | None = None,
    ) -> None:
        if splits.train is None or len(splits.train) == 0:
            notes = " ".join(splits.notes)
            raise DataError(f"dataset '{dataset_name}' has no training split to train on. {notes}".strip())
        self.spec = spec
        self.config = config
        self.tc = train_config
        self.splits = splits
        self.dataset_name = dataset_name
        self.out_dir = Path(out_dir)
        self.hooks = host.hooks(spec)
        self.on_event = on_event
        self.stop = stop or threading.Event()
        self.resume = resume
        #: Asked after each epoch, as patience is: a reason (a message for the log) ends the run
        #: as ``stopped-early``. A study's pruner speaks through it; with several processes,
        #: each is asked and all must answer alike (they see the same gathered metrics).
        self.stop_early = stop_early
        self.watch = watch
        #: The run's record (:class:`archzoo.runs.record.RecordWriter`), on the main process; None elsewhere.
        self.record = record
        self.summary = summary  # what the checkpoints say this model is (a preset's summary)
        self.trackers: TrackerFeed | None = None
        self.notes: list[str] = []  # what the user should be told of how the run was set up

    # -- the run -------------------------------------------------------------------

    def run(self) -> RunResult:
        started = time.perf_counter()
        self._prepare()
        try:
            return self._train(started)
        finally:
            if self.trackers is not None:  # a failed run's tracker files are closed too
                self.trackers.close()

    def _train(self, started: float) -> RunResult:
        state = self._restore() if self.resume else LoopState()
        self._give_each_process_its_own_randomness()
        total_params, trainable = parameter_count(self.model)
        self._emit(
            events.RunStarted(
                architecture=self.spec.name,
                dataset=self.dataset_name,
                epochs=self.tc.epochs,
                steps_per_epoch=self.steps_per_epoch,
                total_steps=self.total_steps,
                parameters=total_params,
                trainable_parameters=trainable,
                device=str(self.accelerator.device),
                num_processes=self.accelerator.num_processes,
                out_dir=self.out_dir,
                resumed_from_step=state.global_step,
            )
        )
        for note in dict.fromkeys([*self.splits.notes, *self.notes]):  # each once, in order
            self._emit(events.Message(note))

        status = "finished"
        with _graceful_interrupt(self.stop) as interrupted:
            for epoch in range(state.epoch, self.tc.epochs):
                epoch_start = time.perf_counter()
                train_metrics = self._train_epoch(epoch, state)
                if train_metrics is None:  # stopped between two steps
                    status = "interrupted" if interrupted() else "cancelled"
                    self._save("last", {}, state, resumable=True)
                    break
                stopping = self._close_epoch(epoch, train_metrics, state, time.perf_counter() - epoch_start)
                capped = bool(self.tc.max_steps) and state.global_step >= self.tc.max_steps
                self._watch(epoch + 1, last=stopping or capped or epoch + 1 == self.tc.epochs)
                if stopping:
                    status = "stopped-early"
                    break
                if capped:
                    break
        return self._finish(status, state, time.perf_counter() - started)

    def _prepare(self) -> None:
        """Set up the run, step by step: the processes, the model and its optimizers,
        the loaders, Accelerate's wrappers, the step count, and the step's context."""
        self.accelerator = Accelerator(
            cpu=not torch.accelerator.is_available(),
            gradient_accumulation_steps=self.tc.grad_accumulation,
            **accelerator_options(self.tc.log_with, self.out_dir),
        )
        self.trackers = self._trackers()
        plain, by_hand = self._synchronisation()
        # One CPU process stepping plainly: Accelerate wraps nothing, so the training batches
        # can come straight from the order of indices (archzoo.data.batches.IndexBatches).
        self.direct = plain and self.accelerator.num_processes == 1 and self.accelerator.device.type == "cpu"
        set_seed(self.tc.seed)
        plan = plan_on_meta(self.hooks.build_model, self.config)  # its size first, allocating nothing
        if plan is not None:
            check_parameters(planned_size(plan), f"the {self.spec.name} settings")
        model = self._speed_up(self.hooks.build_model(self.config))
        optimizers = build_optimizers(self.hooks, model, self.tc)
        train_loader, val_loader = self._loaders()
        self.model, optimizers, self.train_loader, self.val_loader = self._hand_to_accelerate(
            model, optimizers, train_loader, val_loader, plain=plain, by_hand=by_hand
        )
        self.steps_per_epoch = len(self.train_loader)
        self.total_steps = self.steps_per_epoch * self.tc.epochs
        if self.tc.max_steps:
            self.total_steps = min(self.total_steps, self.tc.max_steps)
        schedulers = {name: self._schedule(opt) for name, opt in optimizers.items()}
        self.train_step = self._step_function(by_hand)
        self.listening = self.on_event is not None and self.accelerator.is_main_process
        self.ctx = StepContext(
            device=self.accelerator.device,
            info=self.splits.info,
            accelerator=self.accelerator,
            model=self.model,
            optimizers=optimizers,
            schedulers={k: v for k, v in schedulers.items() if v is not None},
            train_config=self.tc,
            tokenizer=self.splits.tokenizer,
            plain_backward=plain,
            average_by_hand=by_hand,
        )

    def _trackers(self) -> TrackerFeed | None:
        """The feed to ``log_with``'s tracker, with the run's settings; None without one."""
        if self.tc.log_with == "none":
            return None
        settings = {
            "architecture": self.spec.name,
            "dataset": self.dataset_name,
            "model": dataclasses.asdict(self.config),
            "train": dataclasses.asdict(self.tc),
        }
        return TrackerFeed(self.accelerator, self.out_dir.name, settings)

    def _synchronisation(self) -> tuple[bool, bool]:
        """(plain, by_hand): whether backward and step need nothing of Accelerate's
        (:func:`plain_steps`), and whether this model is kept in step across processes
        by hand rather than by DistributedDataParallel (``ArchSpec.separate_steps``).
        Without an accelerator Accelerate is told it is on CPUs, or it ignores
        torchrun's environment and every process trains alone."""
        plain = plain_steps(self.accelerator)
        by_hand = self.spec.separate_steps and self.accelerator.num_processes > 1
        if by_hand and not plain:
            raise ArchzooError(
                f"architecture '{self.spec.name}' steps its networks separately, which archzoo synchronises "
                f"across processes only for plain data parallelism; this run uses "
                f"{self.accelerator.distributed_type.value} with gradient accumulation "
                f"{self.accelerator.gradient_accumulation_steps}: start it with torchrun or a plain multi-GPU launch"
            )
        return plain, by_hand

    def _loaders(self) -> tuple[DataLoader, DataLoader | None]:
        """The training loader, in the (seed, epoch) order of :class:`EpochSampler`, and the validation
        one; whole batches where the data is in memory (:mod:`archzoo.data.batches`)."""
        lengths = self.splits.lengths if self.tc.bucket_batches else None
        self.sampler = EpochSampler(len(self.splits.train), self.tc.seed, lengths, self.tc.batch_size)
        train_loader = self._loader(self.splits.train, self.sampler, self.tc.batch_size, direct=self.direct)
        return train_loader, self._eval_loader(self.splits.val)

    def _loader(self, dataset: Any, sampler: Sampler[int] | None, batch_size: int, direct: bool = False) -> Any:
        return batch_loader(
            dataset,
            sampler,
            batch_size,
            self.splits.collate,
            num_workers=self.tc.num_workers,
            device=self.accelerator.device,
            budget_gib=self.tc.device_data_budget,
            note=self.notes.append,
            direct=direct,
        )

    def _hand_to_accelerate(
        self,
        model: torch.nn.Module,
        optimizers: dict,
        train_loader: DataLoader,
        val_loader: DataLoader | None,
        *,
        plain: bool,
        by_hand: bool,
    ) -> tuple[torch.nn.Module, dict, Any, Any]:
        """Wrap what needs wrapping, in one ``prepare`` call, and leave the rest bare.

        Accelerate's optimizer wrapper exists for loss scaling, gradient
        accumulation and sharded (FSDP, DeepSpeed, XLA) setups; where none
        applies it only adds work to every step, so plain optimizers stay bare.
        In one CPU process the training loader's wrapper has nothing to shard or
        move yet costs every batch (about 18 us, ~1% of a small MLP's step), so
        it stays bare too.  A model synchronised by hand is moved to the device
        and given the main process's weights instead of a DDP wrapper."""
        parts: dict[str, Any] = {}
        if by_hand:
            model = model.to(self.accelerator.device)
            broadcast_from_main([*model.parameters(), *model.buffers()])
        else:
            parts["model"] = model
        if not plain:
            parts.update({f"optimizer {name}": optimizer for name, optimizer in optimizers.items()})
        if not self.direct:
            parts["train"] = train_loader
        if val_loader is not None:
            parts["validation"] = val_loader
        prepared = self.accelerator.prepare(*parts.values())
        if len(parts) == 1:  # prepare() hands back a lone object bare
            prepared = (prepared,)
        done = dict(zip(parts, prepared))
        optimizers = {name: done.get(f"optimizer {name}", optimizer) for name, optimizer in optimizers.items()}
        return done.get("model", model), optimizers, done.get("train", train_loader), done.get("validation")

    def _speed_up(self, model: torch.nn.Module) -> torch.nn.Module:
        """The model on the run's device (so fused optimizers can be made for it), in
        channels-last memory and compiled when the run asks (:mod:`archzoo.training.speed`)."""
        model = model.to(self.accelerator.device)
        self.channels_last = self.tc.channels_last and to_channels_last(model, self.notes.append)
        self.uncompile = compile_forward(model, self.notes.append) if self.tc.compile else None
        return model

    def _step_function(self, by_hand: bool) -> Callable[[Any, Any, Any], dict[str, float]]:
        """The plugin's ``train_step``, looked up once, under bf16 autocast when the run
        asks for it, followed by buffer sharing for a model synchronised by hand."""
        step = self.hooks.train_step_caller()
        if self.tc.mixed_precision != "no":
            step = _under_autocast(step, self.accelerator.device)
        if self.tc.grad_accumulation > 1:
            step = _accumulating(step, self.accelerator)
        if augments(self.tc) or self.tc.mixup or self.tc.cutmix:
            step = augmenting(step, BatchAugmenter(self.tc, self.splits.info))
        if by_hand:
            step = _sharing_buffers(step, self.model)
        if self.channels_last:
            step = channels_last_batches(step)
        if self.uncompile is not None:
            step = falling_back(step, self.uncompile, lambda note: self._emit(events.Message(note)))
        return step

    def _give_each_process_its_own_randomness(self) -> None:
        """Every process starts from the run's seed, so all build the same
        model; from then on each needs a random stream of its own, or they
        would draw the same noise, dropout masks and diffusion steps for
        different data.  The streams are derived from the shared one, so a
        run, and a resumed run, is still reproducible.  One process: unchanged."""
        if self.accelerator.num_processes > 1:
            shared = int(torch.randint(0, 2**31 - 1, ()))  # the same draw on every process
            set_seed(shared + self.accelerator.process_index)

    def _train_epoch(self, epoch: int, state: LoopState) -> dict[str, float] | None:
        """One pass over the training shard; the mean step metrics, or None if stopped midway.

        Step metrics stay on the device (:class:`StepTally`); they are read, and
        progress reported, every ``log_every`` steps and at the epoch's end."""
        self.model.train()
        self.ctx.epoch = epoch
        loader = self.train_loader
        if state.batch and isinstance(loader, IndexBatches):
            loader = loader.batches(skip=state.batch)
        elif state.batch:
            loader = self.accelerator.skip_first_batches(self.train_loader, state.batch)
        # Accelerate's loaders set their sampler's epoch from their own
        # iteration count on every pass; set it so a resumed run agrees.
        _set_epoch(loader, self.sampler, epoch)
        tally = StepTally()
        examples, tick = 0, time.perf_counter()
        last_batch = self.steps_per_epoch - 1
        for batch_index, batch in enumerate(loader, start=state.batch):
            if self.stop.is_set():
                state.epoch, state.batch = epoch, batch_index
                self._keep_losses(tally, state)
                return None
            self.ctx.global_step = state.global_step
            metrics = self.train_step(self.model, batch, self.ctx)
            state.global_step += 1
            tally.add(state.global_step, metrics)
            examples += _batch_length(batch) * self.accelerator.num_processes
            capped = bool(self.tc.max_steps) and state.global_step >= self.tc.max_steps
            if self.listening and (state.global_step % self.tc.log_every == 0 or batch_index == last_batch or capped):
                now = time.perf_counter()
                self.on_event(
                    events.StepEnded(
                        epoch=epoch,
                        step=state.global_step,
                        total_steps=self.total_steps,
                        metrics=read(metrics),
                        examples_per_second=examples / max(now - tick, 1e-9),
                        lr=self.ctx.optimizer.param_groups[0]["lr"],
                    )
                )
                examples, tick = 0, now
            if capped:
                if batch_index + 1 < self.steps_per_epoch:
                    # Stopped inside the epoch: a run resumed with a larger max_steps
                    # continues from the next batch, as if it had never stopped.
                    state.epoch, state.batch = epoch, batch_index + 1
                    self._keep_losses(tally, state)
                    return tally.means()
                break
        state.epoch, state.batch = epoch + 1, 0
        self._keep_losses(tally, state)
        return tally.means()

    def _keep_losses(self, tally: StepTally, state: LoopState) -> None:
        """Read the epoch's step losses back once, for the epoch's report and the run's result."""
        self._epoch_losses = tally.step_losses()
        state.step_losses += [loss for _, loss in self._epoch_losses]

    def _close_epoch(self, epoch: int, train_metrics: dict[str, float], state: LoopState, seconds: float) -> bool:
        """Validate, keep the best and last checkpoints, report; True when early stopping says stop."""
        val_metrics = self.evaluate(self.model, self.val_loader) if self.val_loader else {}
        judged = val_metrics or {"loss": train_metrics.get("loss", 0.0)}
        headline = next(iter(judged))
        is_best = better(headline, judged[headline], state.best, self.spec.metrics)
        if is_best:
            state.best, state.best_metric, state.best_val, state.stale = judged[headline], headline, val_metrics, 0
        else:
            state.stale += 1
        # An epoch cut by max_steps and finished after a resume is reported once, by its end.
        state.history = [h for h in state.history if h["epoch"] != epoch + 1]
        state.history.append(
            {"epoch": epoch + 1, "train": train_metrics, "validation": val_metrics, "seconds": seconds}
        )
        metrics = {"validation": val_metrics} if val_metrics else {}
        self._save("last", metrics, state, resumable=True)
        if is_best:
            self._save("best", metrics, state)
        ended = events.EpochEnded(
            epoch=epoch + 1,
            train_metrics=train_metrics,
            val_metrics=val_metrics,
            is_best=is_best,
            seconds=seconds,
            step_losses=events.thinned(self._epoch_losses),
            global_step=state.global_step,
        )
        self._emit(ended)
        if self.tc.patience and state.stale >= self.tc.patience:
            self._emit(events.Message(f"no better {headline} for {self.tc.patience} epochs: stopping early"))
            return True
        reason = self.stop_early(ended) if self.stop_early is not None else None
        if reason:
            self._emit(events.Message(reason))
            return True
        return False

    def _finish(self, status: str, state: LoopState, seconds: float) -> RunResult:
        """Test the best checkpoint (when the run ended normally), report, and return the result."""
        best_dir, last_dir = self.out_dir / "best", self.out_dir / "last"
        test_metrics: dict[str, float] = {}
        test_loader = self._eval_loader(self.splits.test)
        if status in ("finished", "stopped-early") and is_checkpoint(best_dir) and test_loader is not None:
            model = unwrap(self.model)
            model.load_state_dict(read_weights(best_dir, model))
            test_metrics = self.evaluate(self.model, self.accelerator.prepare(test_loader))
            self._save(
                "best", {**({"validation": state.best_val} if state.best_val else {}), "test": test_metrics}, state
            )
        result = RunResult(
            status=status,
            out_dir=self.out_dir,
            best_dir=best_dir if best_dir.exists() else None,
            last_dir=last_dir if last_dir.exists() else None,
            val_metrics=dict(state.best_val),
            test_metrics=test_metrics,
            history=state.history,
            step_losses=state.step_losses,
            seconds=seconds,
            is_main_process=self.accelerator.is_main_process,
        )
        self._emit(
            events.RunEnded(
                status=status,
                best_dir=result.best_dir,
                last_dir=result.last_dir,
                val_metrics=result.val_metrics,
                test_metrics=test_metrics,
                seconds=seconds,
            )
        )
        if status == "interrupted":
            raise TrainingInterrupted(
                f"training interrupted; a resumable checkpoint is in {last_dir}: continue with --resume"
            )
        return result

    def evaluate(self, model: torch.nn.Module, loader: Any) -> dict[str, float]:
        model.eval()
        ctx = EvalContext(
            device=self.accelerator.device,
            info=self.splits.info,
            accelerator=self.accelerator,
            tokenizer=self.splits.tokenizer,
        )
        in_run_precision = self.tc.eval_mixed_precision and self.tc.mixed_precision != "no"
        precision = (
            torch.autocast(device_type=self.accelerator.device.type, dtype=torch.bfloat16)
            if in_run_precision
            else contextlib.nullcontext()
        )
        with precision:
            metrics = self.hooks.evaluate(model, loader, ctx)
        model.train()
        return metrics

    def _watch(self, epoch: int, *, last: bool) -> None:
        """Hand the model to the epoch watch (the live views), leaving training as it was."""
        if self.watch is None or not self.accelerator.is_main_process:
            return
        device = self.accelerator.device
        model = unwrap(self.model)
        model.eval()
        forked = [] if device.type == "cpu" else [device.index or 0]
        with torch.random.fork_rng(devices=forked, device_type=device.type), torch.no_grad():
            saved = self.watch(model, epoch, last)
        model.train()
        for view, path in saved:
            self._emit(events.ViewSaved(view=view, epoch=epoch, path=path))

    # -- pieces --------------------------------------------------------------------

    def _eval_loader(self, dataset: Any) -> DataLoader | None:
        if dataset is None or len(dataset) == 0:
            return None
        return self._loader(dataset, None, self.tc.eval_batch_size)

    def _schedule(self, optimizer: torch.optim.Optimizer) -> Any:
        """The learning-rate schedule over the run's updates: with gradient accumulation
        an update is every ``grad_accumulation`` batches (and at each epoch's end)."""
        every = self.tc.grad_accumulation
        per_epoch = math.ceil(self.steps_per_epoch / every)
        updates = per_epoch * self.tc.epochs
        if self.tc.max_steps:
            updates = min(updates, math.ceil(self.tc.max_steps / every))
        return build_schedule(optimizer, self.tc, updates, per_epoch)

    def _emit(self, event: Any) -> None:
        """Tell the listener, if any, and the run's record (which keeps all but per-step events)."""
        if self.listening:
            self.on_event(event)
        if self.record is not None:
            self.record.add(event)
        if self.trackers is not None:
            self.trackers.add(event)

    def _save(self, which: str, metrics: dict, state: LoopState, *, resumable: bool = False) -> None:
        if self.accelerator.is_main_process:
            meta = build_meta(
                spec=self.spec,
                config=self.config,
                train_config=self.tc,
                info=self.splits.info,
                dataset=self.dataset_name,
                metrics=metrics,
                parameters=parameter_count(self.model)[0],
                summary=self.summary,
            )
            training_state = self._training_state(state) if resumable else None
            path = write_checkpoint(
                self.out_dir / which,
                unwrap(self.model),
                meta,
                training_state=training_state,
                extra_files=self.splits.checkpoint_files(),
            )
            self._emit(events.CheckpointSaved(path=path, which=which))
        self.accelerator.wait_for_everyone()

    # -- resumable state -----------------------------------------------------------

    def _training_state(self, state: LoopState) -> tuple[dict[str, torch.Tensor], dict]:
        """Optimizer, schedule, RNG and loop position as safetensors + JSON (never pickle)."""
        tensors: dict[str, torch.Tensor] = {"rng.torch": torch.get_rng_state()}
        extra: dict[str, Any] = {"loop": state.to_json()}
        extra["rng"] = {"python": _jsonable(random.getstate()), "numpy": _jsonable(np.random.get_state())}
        extra["optimizers"] = {}
        for name, optimizer in self.ctx.optimizers.items():
            sd = optimizer.state_dict()
            scalars = {}
            for pid, pstate in sd["state"].items():
                for key, value in pstate.items():
                    if torch.is_tensor(value):
                        tensors[f"optim.{name}.{pid}.{key}"] = value
                    else:
                        scalars[f"{pid}.{key}"] = value
            extra["optimizers"][name] = {"param_groups": sd["param_groups"], "scalars": scalars}
        extra["schedulers"] = {name: s.state_dict() for name, s in self.ctx.schedulers.items()}
        return tensors, extra

    def _restore(self) -> LoopState:
        """The loop, optimizers, schedules and random generators as the ``last`` checkpoint saved
        them; a state file that is damaged or not archzoo's is a :class:`CheckpointError` naming it."""
        last = self.out_dir / "last"
        if not (last / STATE_JSON).is_file():
            raise ArchzooError(f"nothing to resume: {last} holds no resumable training state")
        try:
            return self._restore_from(last)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError, RuntimeError) as exc:
            if isinstance(exc, ArchzooError):
                raise
            raise CheckpointError(
                f"{last / STATE_JSON} cannot be resumed from ({type(exc).__name__}: {str(exc)[:200]}); "
                "the training state is damaged: start a new run with --overwrite"
            ) from None

    def _restore_from(self, last: Path) -> LoopState:
        from safetensors.torch import load_file

        unwrap(self.model).load_state_dict(read_weights(last, unwrap(self.model)))
        tensors = load_file(last / STATE_TENSORS)
        extra = parse_json((last / STATE_JSON).read_bytes(), str(last / STATE_JSON))
        for name, optimizer in self.ctx.optimizers.items():
            saved = extra["optimizers"][name]
            if len(saved["param_groups"]) != len(optimizer.param_groups):
                raise ArchzooError(
                    f"cannot resume {last}: its '{name}' optimizer state has {len(saved['param_groups'])} parameter "
                    f"group(s) and this run's optimizer has {len(optimizer.param_groups)} (was weight_decay changed, "
                    f"or the run saved by another archzoo version?); start a new run with --overwrite"
                )
            per_param: dict[int, dict] = {}
            prefix = f"optim.{name}."
            for key, value in tensors.items():
                if key.startswith(prefix):
                    pid, _, field_name = key[len(prefix) :].partition(".")
                    per_param.setdefault(int(pid), {})[field_name] = value
            for key, value in saved["scalars"].items():
                pid, _, field_name = key.partition(".")
                per_param.setdefault(int(pid), {})[field_name] = value
            optimizer.load_state_dict({"state": per_param, "param_groups": saved["param_groups"]})
        for name, scheduler in self.ctx.schedulers.items():
            scheduler.load_state_dict(extra["schedulers"][name])
        torch.set_rng_state(tensors["rng.torch"])
        random.setstate(_tuples(extra["rng"]["python"]))
        numpy_state = extra["rng"]["numpy"]
        np.random.set_state((numpy_state[0], np.array(numpy_state[1], dtype=np.uint32), *numpy_state[2:]))
        state = LoopState.from_json(extra["loop"])
        if state.epoch >= self.tc.epochs:
            raise ArchzooError(
                f"the run in {self.out_dir} already finished {state.epoch} of {self.tc.epochs} epochs; "
                f"raise epochs (--set epochs=N) to train further"
            )
        if self.tc.max_steps and state.global_step >= self.tc.max_steps:
            raise ArchzooError(
                f"the run in {self.out_dir} already took {state.global_step:,} steps and max_steps is "
                f"{self.tc.max_steps:,}; raise it (--set max_steps=N, or 0 for no limit) to train further"
            )
        return state


def build_optimizers(hooks: Any, model: torch.nn.Module, tc: TrainConfig) -> dict[str, torch.optim.Optimizer]:
    """The plugin's own optimizers if it supplies them, else the default one, as ``{name: optimizer}``."""
    supplied = hooks.configure_optimizers(model, tc)
    if supplied is None:
        return {"main": default_optimizer(model, tc)}
    if isinstance(supplied, torch.optim.Optimizer):
        return {"main": supplied}
    return dict(supplied)


def _under_autocast(train_step: Callable, device: torch.device) -> Callable:
    """``train_step`` with its forward passes in bfloat16 (``mixed_precision = "bf16"``).

    The whole step is wrapped, not the model's ``forward``, so a plugin whose
    step calls its parts directly (the GAN's generator and discriminator) is
    covered the same way; the backward pass inside reuses the dtypes the
    forward pass chose, as it would outside.  bfloat16 keeps float32's range,
    so no loss scaling is needed.  This is ``torch.autocast`` rather than
    Accelerate's ``mixed_precision``: that one is fixed once per process, and
    the UI trains many runs with different settings in one process."""

    def step(model: Any, batch: Any, ctx: Any) -> dict[str, float]:
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16):
            return train_step(model, batch, ctx)

    return step


def _accumulating(train_step: Callable, accelerator: Accelerator) -> Callable:
    """``train_step`` inside Accelerate's ``accumulate``: the loss is divided by the number
    of batches added up, gradients are synchronised across processes only on the last of
    them, and ``ctx.step()`` updates only then (and at an epoch's end)."""

    def step(model: Any, batch: Any, ctx: Any) -> dict[str, float]:
        with accelerator.accumulate(model):
            return train_step(model, batch, ctx)

    return step


def _sharing_buffers(train_step: Callable, model: torch.nn.Module) -> Callable:
    """``train_step`` followed by copying the main process's buffers (BatchNorm
    running statistics) to the others, as DistributedDataParallel would: for a
    model synchronised by hand (``ArchSpec.separate_steps``)."""
    buffers = list(model.buffers())

    def step(model: Any, batch: Any, ctx: Any) -> dict[str, float]:
        metrics = train_step(model, batch, ctx)
        broadcast_from_main(buffers)
        return metrics

    return step


def plain_steps(accelerator: Accelerator) -> bool:
    """True when ``loss.backward()`` and ``optimizer.step()`` are all Accelerate
    would do: no loss scaling, no gradient accumulation, and either one process
    or plain data parallelism (whose gradient all-reduce lives in the model
    wrapper, not the optimizer)."""
    from accelerate.utils import DistributedType

    simple = (DistributedType.NO, DistributedType.MULTI_CPU, DistributedType.MULTI_GPU)
    return (
        accelerator.scaler is None
        and accelerator.gradient_accumulation_steps == 1
        and accelerator.distributed_type in simple
    )


def default_optimizer(model: torch.nn.Module, tc: TrainConfig) -> torch.optim.Optimizer:
    """The optimizer ``tc.optimizer`` names, with weight decay on weights, none on biases and
    norms; fused kernels on CUDA where torch has them."""
    groups = param_groups_weight_decay(model, tc.weight_decay)
    if not groups:
        raise ArchzooError("the model has no trainable parameters")
    fused = {"fused": True} if fused_available(model) else {}
    betas = (tc.adam_beta1, tc.adam_beta2)
    if tc.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=tc.lr, betas=betas, **fused)
    if tc.optimizer == "adam":
        return torch.optim.Adam(groups, lr=tc.lr, betas=betas, **fused)
    if tc.optimizer == "rmsprop":
        return torch.optim.RMSprop(groups, lr=tc.lr, alpha=tc.rms_decay, momentum=tc.momentum)
    if tc.optimizer == "adagrad":
        return torch.optim.Adagrad(groups, lr=tc.lr)
    return torch.optim.SGD(groups, lr=tc.lr, momentum=tc.momentum, **fused)


class _graceful_interrupt:
    """The first Ctrl-C asks the loop to stop at the next step (so the saved
    checkpoint is consistent); a second one stops at once.  Only the main
    thread can take signals; elsewhere (the UI's worker) ``stop`` alone is used."""

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop
        self.hit = False
        self.previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.getsignal(signal.SIGINT)

            def handler(signum, frame):
                if self.hit:
                    raise KeyboardInterrupt
                self.hit = True
                self.stop.set()

            signal.signal(signal.SIGINT, handler)
        return lambda: self.hit

    def __exit__(self, *exc_info):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        return False


def _set_epoch(loader: Any, sampler: EpochSampler, epoch: int) -> None:
    if hasattr(loader, "set_epoch"):
        loader.set_epoch(epoch)
    sampler.set_epoch(epoch)


def _batch_length(batch: Any) -> int:
    first = (
        batch[0]
        if isinstance(batch, (list, tuple))
        else next(iter(batch.values()))
        if isinstance(batch, dict)
        else batch
    )
    return len(first)


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _tuples(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value
