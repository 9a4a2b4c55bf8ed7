"""The switches that make a run faster on a GPU without changing what it computes:
``compile`` (torch.compile), ``channels_last`` for convolutional models, and
fused optimizers.

Each falls back to the plain path with a note rather than failing the run: a
platform where torch.compile cannot build its kernels still trains, eagerly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch


def compile_forward(model: torch.nn.Module, note: Callable[[str], None]) -> Callable[[], None] | None:
    """Compile ``model``'s forward pass in place (its weights and their names are
    untouched, so checkpoints are the same); returns how to undo it, or None
    when torch.compile is unavailable here (and says so)."""
    try:
        compiled = torch.compile(model.forward)
    except Exception as error:  # torch.compile raises whatever its backend does: any is a reason to run eagerly
        note(f"compile: torch.compile is unavailable here ({_reason(error)}); training runs uncompiled")
        return None
    model.forward = compiled

    def undo() -> None:
        del model.forward  # the class's own forward again

    return undo


def falling_back(train_step: Callable, undo: Callable[[], None], note: Callable[[str], None]) -> Callable:
    """``train_step`` whose first call, where compilation happens, falls back to the
    uncompiled model when compiling fails; later errors are the step's own."""
    first = True

    def step(model: Any, batch: Any, ctx: Any) -> Any:
        nonlocal first
        if not first:
            return train_step(model, batch, ctx)
        first = False
        try:
            return train_step(model, batch, ctx)
        except Exception as error:
            if not _is_compile_error(error):
                raise
            undo()
            note(f"compile: torch.compile failed ({_reason(error)}); training runs uncompiled")
            for optimizer in ctx.optimizers.values():
                optimizer.zero_grad(set_to_none=True)  # a half-made backward leaves nothing behind
            return train_step(model, batch, ctx)

    return step


def _is_compile_error(error: BaseException) -> bool:
    """Did torch.compile (dynamo or its backend) raise this, rather than the model?"""
    while error is not None:
        if type(error).__module__.startswith(("torch._dynamo", "torch._inductor")):
            return True
        error = error.__cause__
    return False


def _reason(error: BaseException) -> str:
    first = str(error).strip().splitlines()
    return f"{type(error).__name__}: {first[0][:200]}" if first else type(error).__name__


def is_convolutional(model: torch.nn.Module) -> bool:
    return any(isinstance(m, torch.nn.Conv2d | torch.nn.ConvTranspose2d) for m in model.modules())


def to_channels_last(model: torch.nn.Module, note: Callable[[str], None]) -> bool:
    """Put a convolutional model's weights in channels-last memory; a model
    with no convolution is left as it is, with a note."""
    if not is_convolutional(model):
        note("channels_last applies to convolutional models; this one has none, so it is left as it is")
        return False
    model.to(memory_format=torch.channels_last)
    return True


def channels_last_batches(train_step: Callable) -> Callable:
    """``train_step`` given its 4-D image batches in channels-last memory."""

    def step(model: Any, batch: Any, ctx: Any) -> Any:
        if isinstance(batch, list | tuple) and batch and _is_images(batch[0]):
            batch = type(batch)([batch[0].contiguous(memory_format=torch.channels_last), *batch[1:]])
        elif _is_images(batch):
            batch = batch.contiguous(memory_format=torch.channels_last)
        return train_step(model, batch, ctx)

    return step


def _is_images(value: Any) -> bool:
    return isinstance(value, torch.Tensor) and value.ndim == 4 and value.is_floating_point()


def fused_available(model: torch.nn.Module) -> bool:
    """Fused optimizer kernels for this model: on CUDA, where PyTorch has them for
    Adam, AdamW and SGD.  The CPU keeps its default kernels, so CPU runs keep
    their numbers bit for bit."""
    parameters = [p for p in model.parameters() if p.requires_grad]
    return bool(parameters) and all(p.is_cuda and p.is_floating_point() for p in parameters)
