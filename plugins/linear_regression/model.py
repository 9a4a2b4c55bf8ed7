"""Linear regression on polynomial features, solved in closed form or by gradient descent.

The explainers' 2.1, with a design matrix Z = [1, phi(x)]: phi(x) holds every monomial of
the inputs of degree 1..d, and the prediction is theta_0 + w . phi(x).  Both solvers
minimise one objective, the mean squared error plus the ridge penalty on the weights:

    J(theta) = 1/n sum_i (y_i - z_i . theta)^2 + delta |w|^2

- ``closed-form``: its minimum solves the normal equations
  (Z^T Z + n delta D) theta = Z^T y, with D = diag(0, 1, ..., 1) (the intercept is not
  penalised).  This is the explainers' (X^T X + delta I)^-1 X^T y with their delta = n delta:
  written per example, one delta means the same on 50 points or on 50,000.  Z^T Z and Z^T y
  are sums over examples, so one pass over the training batches accumulates them (in
  float64, summed across processes) and each step solves with what it has seen so far;
  after the pass, theta is the exact closed form.  A new epoch starts the sums again.
- ``gradient-descent``: SGD on J itself, batch by batch, through the shared trainer.

Without a ridge penalty Z^T Z must be invertible: a degree whose features outnumber what
the training data can pin down (16 columns, 10 points) has no unique solution, and the
fit says so and suggests delta > 0 (evaluating, or starting the next pass, such a fit is
an error; until the pass is over, a step uses the minimum-norm solution of what it has seen).
"""

from __future__ import annotations

import itertools
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from archzoo import DataError, hookimpl
from archzoo.toolkit import regression_metrics, unwrap


def monomials(inputs: int, degree: int) -> list[tuple[int, ...]]:
    """Exponents of every monomial of ``inputs`` variables of total degree 1..``degree``, lowest
    degree first: ``monomials(2, 2)`` is x1, x2, x1^2, x1 x2, x2^2 as ((1,0), (0,1), (2,0), (1,1), (0,2))."""
    terms = []
    for total in range(1, degree + 1):
        for combination in itertools.combinations_with_replacement(range(inputs), total):
            terms.append(tuple(combination.count(i) for i in range(inputs)))
    return terms


class PolynomialRegression(nn.Module):
    """phi(x) = the monomials of x up to ``degree``; then Linear(features, outputs): w . phi(x) + theta_0."""

    def __init__(self, inputs: int, outputs: int, degree: int, ridge: float, solver: str):
        super().__init__()
        self.degree, self.ridge, self.solver = degree, ridge, solver
        exponents = torch.tensor(monomials(inputs, degree), dtype=torch.float32)  # (F, D)
        self.register_buffer("exponents", exponents, persistent=False)  # follows from the config
        self.linear = nn.Linear(len(exponents), outputs)
        if solver == "closed-form":
            # The pass's sums, kept in the checkpoint so a run resumed mid-epoch goes on summing.
            size = len(exponents) + 1
            self.register_buffer("gram", torch.zeros(size, size, dtype=torch.float64))  # Z^T Z
            self.register_buffer("moment", torch.zeros(size, outputs, dtype=torch.float64))  # Z^T y
            self.register_buffer("seen", torch.zeros((), dtype=torch.int64))  # n, rows summed
            self.register_buffer("epoch", torch.full((), -1, dtype=torch.int64))  # the pass they belong to
            self.register_buffer("rank", torch.zeros((), dtype=torch.int64))  # of Z, as far as it is seen

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, ...) -> phi(x), (B, F): each monomial a product of powers of the inputs."""
        x = x.flatten(1).unsqueeze(1)  # (B, 1, D)
        return x.pow(self.exponents).prod(dim=2)  # (B, F, D) -> (B, F)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.features(x))

    def penalty(self) -> torch.Tensor:
        """delta |w|^2 per output (the intercept is free), as the mean squared error averages over outputs."""
        return self.ridge * self.linear.weight.pow(2).sum() / self.linear.out_features


def objective(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """J on a batch: mean squared error plus the ridge penalty (both solvers minimise it)."""
    net = unwrap(model)
    loss = F.mse_loss(model(inputs), targets)
    return loss + net.penalty() if net.ridge > 0 else loss


# -- the closed form ---------------------------------------------------------------------------


def accumulate(net: PolynomialRegression, inputs: torch.Tensor, targets: torch.Tensor, ctx) -> None:
    """Add a batch's Z^T Z, Z^T y and row count to the pass's sums (every process's batch)."""
    with torch.autocast(device_type=inputs.device.type, enabled=False):  # the sums are float64, not bf16
        features = net.features(inputs.float()).double()
    z = torch.cat([torch.ones(len(features), 1, dtype=features.dtype, device=features.device), features], dim=1)
    y = targets.double().reshape(len(z), -1)
    sums = [z.T @ z, z.T @ y, torch.tensor(len(z), device=z.device, dtype=torch.int64)]
    accelerator = getattr(ctx, "accelerator", None)
    if accelerator is not None and accelerator.num_processes > 1:
        sums = [accelerator.reduce(s, reduction="sum") for s in sums]
    net.gram += sums[0]
    net.moment += sums[1]
    net.seen += sums[2]


def solve(net: PolynomialRegression) -> None:
    """theta = (Z^T Z + n delta D)^-1 Z^T y from the sums so far, into the Linear layer.  Without a
    penalty and short of full rank (not every row seen yet, or too high a degree for the data),
    the minimum-norm least-squares solution; :func:`check_rank` decides, once the pass is over."""
    size = net.gram.shape[0]
    diagonal = torch.full((size,), float(net.seen) * net.ridge, dtype=torch.float64, device=net.gram.device)
    diagonal[0] = 0.0  # the intercept is not penalised
    system = net.gram + torch.diag(diagonal)
    eigenvalues = torch.linalg.eigvalsh(system)
    tolerance = eigenvalues.max().clamp(min=0) * size * torch.finfo(torch.float64).eps
    net.rank.fill_(int((eigenvalues > tolerance).sum()))
    if int(net.rank) == size:
        theta = torch.linalg.solve(system, net.moment)
    else:
        theta = torch.linalg.pinv(system, hermitian=True) @ net.moment
    net.linear.bias.copy_(theta[0].to(net.linear.bias.dtype))
    net.linear.weight.copy_(theta[1:].T.to(net.linear.weight.dtype))


def check_rank(net: PolynomialRegression) -> None:
    """A pass's sums that leave Z^T Z singular are an error that says why and suggests a ridge penalty."""
    size = net.gram.shape[0]
    if net.ridge > 0 or int(net.seen) == 0 or int(net.rank) >= size:
        return
    inputs = net.exponents.shape[1]
    lower = f" or a degree of at most {int(net.rank) - 1}" if inputs == 1 and int(net.rank) > 1 else ""
    raise DataError(
        f"linear-regression: degree {net.degree} on {inputs} input{'s' if inputs > 1 else ''} makes {size} columns "
        f"of the feature matrix X (the intercept and {size - 1} polynomial features), but the {int(net.seen)} "
        f"training rows give X a rank of only {int(net.rank)}: X^T X is singular and the closed form has no unique "
        f"solution. Add a ridge penalty (delta > 0, e.g. --set ridge=1e-4, makes X^T X + delta I invertible){lower}"
    )


def closed_form_step(model: nn.Module, batch, ctx) -> dict[str, torch.Tensor]:
    """One batch of the pass: its loss under the weights it met, then the sums and the solve."""
    net = unwrap(model)
    inputs, targets = batch
    with torch.no_grad():
        loss = objective(model, inputs, targets)
        if int(net.epoch) != ctx.epoch:  # a new pass: the last one's sums are complete, and done with
            check_rank(net)
            net.gram.zero_(), net.moment.zero_(), net.seen.zero_()
            net.epoch.fill_(ctx.epoch)
        accumulate(net, inputs, targets, ctx)
        solve(net)
    return {"loss": loss.detach()}


# -- the hooks -------------------------------------------------------------------------------


@hookimpl
def build_model(spec, config):
    return PolynomialRegression(
        math.prod(config.input_shape), config.outputs, config.degree, config.ridge, config.solver
    )


@hookimpl
def configure_optimizers(spec, model, train_config):
    # Gradient descent as the explainers derive it: the penalty is in the loss, so no weight decay here.
    # The closed form does not step it.
    return torch.optim.SGD(model.parameters(), lr=train_config.lr, momentum=train_config.momentum)


@hookimpl
def train_step(spec, model, batch, ctx):
    if unwrap(model).solver == "closed-form":
        return closed_form_step(model, batch, ctx)
    inputs, targets = batch
    loss = objective(model, inputs, targets)
    ctx.backward(loss)
    ctx.step()
    return {"loss": loss.detach()}


@hookimpl
def evaluate(spec, model, loader, ctx):
    net = unwrap(model)
    if net.solver == "closed-form":
        check_rank(net)  # evaluation follows the pass: a singular fit is named here, not scored
    return regression_metrics(model, loader, ctx)
