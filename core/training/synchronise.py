"""Keeping one model identical across processes by hand.

Data-parallel training needs three things of every process: the same starting
weights, gradients averaged before each optimizer step, and the same
normalisation statistics.  ``DistributedDataParallel`` does all three inside
the model's ``forward`` and ``backward``, which assumes one forward and one
backward per step.  A GAN's step breaks that assumption: it runs the
discriminator three times and the generator once, and back-propagates twice,
each time into a different optimizer's parameters.  For such a model
(``ArchSpec.separate_steps``) the trainer leaves the model unwrapped and calls
these functions instead: :func:`broadcast_from_main` once at the start and
after every step (for the buffers), :func:`average_gradients` in
``ctx.step(name)`` for that optimizer's parameters only.

Each is a no-op on one process.  On several, every process must call it with
the same tensors in the same order (they run the same code, so they do).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.distributed as dist


def spread() -> bool:
    """True inside a multi-process run (torchrun, accelerate launch)."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def average_gradients(parameters: Iterable[torch.nn.Parameter]) -> None:
    """Replace each gradient by its mean over the processes, in one collective call.

    Parameters without a gradient are skipped (every process skips the same
    ones: the step that produced the gradients is the same code everywhere)."""
    if not spread():
        return
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= dist.get_world_size()
    for grad, averaged in zip(grads, flat.split([g.numel() for g in grads])):
        grad.copy_(averaged.view_as(grad))


def broadcast_from_main(tensors: Iterable[torch.Tensor]) -> None:
    """Overwrite ``tensors`` on every process with the main process's values
    (weights at the start; BatchNorm running statistics after each step, as
    ``DistributedDataParallel`` does by default)."""
    if not spread():
        return
    for tensor in tensors:
        dist.broadcast(tensor.data, src=0)
