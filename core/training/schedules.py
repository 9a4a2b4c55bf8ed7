"""Learning-rate schedules of the notes (2.5), stepped once per optimizer update.

``cosine`` and ``step`` are the notes' formulas written out, as one factor of
the peak rate per update (a ``LambdaLR``), after a linear warmup over
``warmup_fraction`` of the updates:

- step decay:  eta_t = eta_0 * gamma ** floor(t / T), T = ``step_epochs`` epochs;
- cosine:      eta_t = eta_min + (eta_0 - eta_min) * (1 + cos(pi t / T)) / 2.

``onecycle`` is PyTorch's ``OneCycleLR`` (its rise is the warmup), momentum
cycled where the optimizer has one.  ``constant`` is no schedule at all.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from archzoo.registry.config import TrainConfig


def build_schedule(
    optimizer: torch.optim.Optimizer, tc: TrainConfig, total_updates: int, updates_per_epoch: int
) -> torch.optim.lr_scheduler.LRScheduler | None:
    """The schedule ``tc.schedule`` names for ``optimizer``, over ``total_updates``; None for constant."""
    if tc.schedule == "constant":
        return None
    total_updates = max(total_updates, 1)
    if tc.schedule == "onecycle":
        has_momentum = all("momentum" in g or "betas" in g for g in optimizer.param_groups)
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer,
            max_lr=[group["lr"] for group in optimizer.param_groups],
            total_steps=total_updates,
            pct_start=min(max(tc.warmup_fraction, 1 / total_updates), 0.99),
            cycle_momentum=has_momentum and tc.optimizer != "adagrad",
        )
    warmup = int(tc.warmup_fraction * total_updates)
    factors = [lr_factor(tc, group["lr"], total_updates, warmup, updates_per_epoch) for group in optimizer.param_groups]
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factors)


def lr_factor(
    tc: TrainConfig, peak: float, total_updates: int, warmup: int, updates_per_epoch: int
) -> Callable[[int], float]:
    """The multiple of ``peak`` the learning rate is at update ``t`` (from 0)."""
    floor = min(tc.eta_min / peak, 1.0) if peak > 0 else 0.0
    step_every = max(tc.step_epochs * updates_per_epoch, 1)

    def factor(t: int) -> float:
        if t < warmup:
            return (t + 1) / warmup
        t -= warmup
        if tc.schedule == "step":
            return tc.step_gamma ** (t // step_every)
        progress = min(t / max(total_updates - warmup, 1), 1.0)  # cosine (and its older name, warmup-cosine)
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor
