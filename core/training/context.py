"""What the model hooks receive as ``ctx``: the pieces of a training run a
plugin may touch, and nothing else.

:class:`StepContext` is handed to ``train_step``; :class:`EvalContext` to
``evaluate`` and ``sample``.  Both hide Accelerate: ``backward``, ``step`` and
``gather`` do the right thing on one CPU or many GPUs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from archzoo.data.types import DataInfo
from archzoo.registry.config import TrainConfig
from archzoo.training.synchronise import average_gradients


@dataclass
class EvalContext:
    """For ``evaluate`` and ``sample``: where to put tensors, what the data is,
    and how to combine results from several processes."""

    device: torch.device
    info: DataInfo
    accelerator: Any = None
    #: Text models: the tokenizer their data was encoded with (from the dataset
    #: while training, from ``tokenizer.json`` for a loaded checkpoint), to read
    #: a request's texts and to write generated ones; None for other data.
    tokenizer: Any = None

    def gather(self, tensor: torch.Tensor) -> torch.Tensor:
        """Per-example results from every process, in order, without the
        duplicates that even sharding pads the last batch with.  On one process
        this returns ``tensor`` unchanged."""
        if self.accelerator is None or self.accelerator.num_processes == 1:
            return tensor
        return self.accelerator.gather_for_metrics(tensor)


@dataclass
class StepContext(EvalContext):
    """For ``train_step``: the optimizers, the step counter, and the two calls
    every step makes, ``backward(loss)`` and ``step()``."""

    model: Any = None
    optimizers: dict[str, torch.optim.Optimizer] = field(default_factory=dict)
    schedulers: dict[str, Any] = field(default_factory=dict)
    train_config: TrainConfig = field(default_factory=TrainConfig)
    global_step: int = 0
    epoch: int = 0
    #: Set by the trainer when Accelerate's backward would only call
    #: ``loss.backward()`` (no loss scaling or accumulation): then it is called directly.
    plain_backward: bool = False
    #: Set by the trainer for a model it could not wrap in DistributedDataParallel
    #: (``ArchSpec.separate_steps``) on several processes: ``step(name)`` then
    #: averages that optimizer's gradients over the processes itself.
    average_by_hand: bool = False

    @property
    def optimizer(self) -> torch.optim.Optimizer:
        """The first (usually only) optimizer."""
        return next(iter(self.optimizers.values()))

    def backward(self, loss: torch.Tensor) -> None:
        """Back-propagate ``loss`` (through Accelerate, so mixed precision and
        gradient synchronisation across processes just work)."""
        if self.plain_backward:
            loss.backward()
        else:
            self.accelerator.backward(loss)

    def step(self, name: str | None = None) -> None:
        """Add the L1 penalty's gradient, clip the gradients, step one optimizer and its
        schedule, zero its gradients; with gradient accumulation, only on the batch that
        ends a group (until then the gradients add up).

        ``name`` picks the optimizer when the plugin supplied several.
        """
        if self.accelerator is not None and not self.accelerator.sync_gradients:
            return  # inside a group of accumulated batches
        name = name or next(iter(self.optimizers))
        optimizer = self.optimizers[name]
        if self.average_by_hand:
            average_gradients(p for group in optimizer.param_groups for p in group["params"])
        if self.train_config.l1 > 0:
            add_l1_gradient(optimizer, self.train_config.l1)
        clip = self.train_config.grad_clip
        if clip > 0:
            params = [p for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
            self.accelerator.clip_grad_norm_(params, clip)
        optimizer.step()
        scheduler = self.schedulers.get(name)
        if scheduler is not None:
            scheduler.step()
        optimizer.zero_grad(set_to_none=True)


def add_l1_gradient(optimizer: torch.optim.Optimizer, strength: float) -> None:
    """g <- g + lambda_1 * sign(w) for every weight matrix and kernel (tensors of two or more
    dimensions; biases and norms are left alone, as weight decay leaves them): the
    (sub)gradient of lambda_1 * sum |w| added to the loss (explainers 3.2)."""
    weights = [p for group in optimizer.param_groups for p in group["params"] if p.grad is not None and p.ndim >= 2]
    for weight in weights:
        weight.grad.add_(weight.detach().sign(), alpha=strength)
