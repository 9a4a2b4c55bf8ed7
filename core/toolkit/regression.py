"""The standard regression hooks, used by any architecture on ``tabular-regression``
data that does not write its own: a mean-squared-error training step, MSE / MAE / R^2
evaluation, and the predicted values as its sample.

They answer for the task the model does on its data (:func:`task_on`): the
``linear-regression`` plugin, and a classifier that also lists ``tabular-regression``
(the MLP) when it is given regression data.  Registered at the lowest priority
(``trylast``) before the classification defaults, so that they are asked first among
the defaults (:data:`archzoo.registry.host.TASK_DEFAULTS`), and answering ``None`` for
every other task.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from archzoo.registry.hookspecs import hookimpl
from archzoo.registry.specs import SampleResult, task_on

TASK = "tabular-regression"


def _regresses(spec, ctx) -> bool:
    return task_on(spec, getattr(ctx.info, "task", None)) == TASK


@hookimpl(trylast=True)
def train_step(spec, model, batch, ctx):
    if not _regresses(spec, ctx):
        return None
    return regression_step(model, batch, ctx)


@hookimpl(trylast=True)
def evaluate(spec, model, loader, ctx):
    if not _regresses(spec, ctx):
        return None
    return regression_metrics(model, loader, ctx)


@hookimpl(trylast=True)
def sample(spec, model, request, ctx):
    if not _regresses(spec, ctx):
        return None
    return predicted_values(model, request["inputs"].to(ctx.device), ctx)


def regression_step(model, batch, ctx) -> dict[str, torch.Tensor]:
    """Mean squared error on ``(inputs, targets)``, one optimizer step; the loss as a device tensor
    (the trainer reads it when it reports, not every step)."""
    inputs, targets = batch
    loss = F.mse_loss(model(inputs), targets)
    ctx.backward(loss)
    ctx.step()
    return {"loss": loss.detach()}


def regression_metrics(model, loader, ctx) -> dict[str, float]:
    """R^2 (first: the trainer keeps the checkpoint with the best), MSE, MAE and the loss (the MSE
    the training step minimises) over every example of ``loader``, gathered across processes."""
    predictions, truths = [], []
    with torch.no_grad():
        for inputs, targets in loader:
            predictions.append(ctx.gather(model(inputs).float()))
            truths.append(ctx.gather(targets))
    if not predictions:
        raise ValueError("cannot evaluate on an empty data split")
    return regression_scores(torch.cat(predictions), torch.cat(truths))


def regression_scores(predicted: torch.Tensor, true: torch.Tensor) -> dict[str, float]:
    """``r2``, ``mse``, ``mae`` and ``loss`` of predictions (N, K) against targets (N, K), in float64.

    R^2 = 1 - SS_res / SS_tot per output (SS_tot about the targets' own mean, the explainers' 2.1),
    averaged over the outputs; an output whose targets are all equal has no variance to explain,
    and its R^2 is 1 when predicted exactly, else 0 (scikit-learn's convention)."""
    predicted, true = predicted.double().reshape(len(true), -1), true.double().reshape(len(true), -1)
    residual = true - predicted
    ss_res = (residual**2).sum(dim=0)
    ss_tot = ((true - true.mean(dim=0)) ** 2).sum(dim=0)
    constant = ss_tot == 0
    r2 = torch.where(constant, (ss_res == 0).double(), 1 - ss_res / torch.where(constant, 1.0, ss_tot))
    mse = (residual**2).mean().item()
    return {"r2": r2.mean().item(), "mse": mse, "mae": residual.abs().mean().item(), "loss": mse}


def predicted_values(model, inputs: torch.Tensor, ctx) -> SampleResult:
    """The model's outputs for ``inputs`` (N x D), as a ``"values"`` result named by the data's outputs."""
    with torch.no_grad():
        values = model(inputs).float()
    names = list(ctx.info.class_names) or [f"y{i}" for i in range(values.shape[1])]
    return SampleResult(kind="values", outputs={"values": values.cpu(), "names": names})
