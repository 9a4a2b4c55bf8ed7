"""A classifier checkpoint's scores on a split: logits and labels, once.

Every trust measurement (accuracy interval, calibration, out-of-distribution
scores, shift curves) starts from the same thing: the model's class scores
for a set of inputs.  They are collected here, in one pass.

Probabilities come from the architecture's own ``sample`` hook, the same
numbers ``archzoo predict`` shows, so any classifier plugin works.  The
energy score needs the raw logits, which ``sample`` does not return, so the
model is also called directly; on the first batch its softmax is checked
against ``sample``'s probabilities, and only if they agree are the raw
outputs used (``exact``).  Otherwise the log-probabilities stand in: they
differ from the logits by one constant per row, which changes neither the
softmax nor temperature scaling, but it does change energy, which is then
reported as unavailable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from archzoo.errors import ArchzooError
from archzoo.inference.sampling import sample_checkpoint
from archzoo.registry.host import Host, get_host
from archzoo.registry.specs import CLASSIFICATION_TASKS


@dataclass
class Outputs:
    """Scores (N x C), labels (N), and whether the scores are the model's own logits."""

    logits: torch.Tensor
    labels: torch.Tensor
    exact: bool

    @property
    def probabilities(self) -> torch.Tensor:
        return torch.softmax(self.logits.double(), dim=1)

    @property
    def predicted(self) -> torch.Tensor:
        return self.logits.argmax(dim=1)

    def __len__(self) -> int:
        return len(self.labels)


class NotAClassifierError(ArchzooError):
    """Calibration, OOD and shift metrics were asked of a model that is not a classifier."""


def require_classifier(loaded: Any) -> None:
    """These metrics are about class probabilities: say so for any other model."""
    task = loaded.meta.get("task") or loaded.spec.task
    if loaded.spec.task not in CLASSIFICATION_TASKS or task not in CLASSIFICATION_TASKS:
        raise NotAClassifierError(
            f"accuracy intervals, calibration, out-of-distribution and shift metrics apply to classifiers; "
            f"'{loaded.spec.name}' is a {task} model"
        )
    if task == "node-classification":
        raise NotAClassifierError(
            f"'{loaded.spec.name}' classifies the nodes of one graph; these metrics need a classifier of "
            "separate inputs (images, texts, rows of numbers)"
        )


def collect(
    loaded: Any,
    loader: Any,
    *,
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    host: Host | None = None,
) -> Outputs:
    """Run ``loaded`` over ``loader`` (batches of inputs and labels), optionally
    changing each batch of inputs first (a rotation, noise); returns its scores."""
    host = host or get_host()
    require_classifier(loaded)
    scores, labels = [], []
    exact: bool | None = None
    for batch in loader:
        if not (isinstance(batch, (tuple, list)) and len(batch) == 2 and torch.is_tensor(batch[0])):
            raise ArchzooError(f"'{loaded.spec.name}': these metrics need batches of (inputs, labels) tensors")
        inputs, y = batch
        if transform is not None:
            inputs = transform(inputs)
        raw = _raw_logits(loaded.model, inputs) if exact is not False else None
        if exact is None:  # first batch: is the raw output what sample's softmax is made of?
            probs = sample_checkpoint(loaded, {"inputs": inputs}, host=host).outputs["probabilities"].double().cpu()
            exact = (
                raw is not None
                and raw.shape == probs.shape
                and torch.allclose(torch.softmax(raw.double(), 1), probs, atol=1e-4)
            )
            if not exact:
                scores.append(probs.clamp_min(1e-12).log())
                labels.append(y.cpu())
                continue
        if exact:
            scores.append(raw.float().cpu())
        else:
            probs = sample_checkpoint(loaded, {"inputs": inputs}, host=host).outputs["probabilities"].double().cpu()
            scores.append(probs.clamp_min(1e-12).log())
        labels.append(y.cpu())
    if not labels:
        raise ArchzooError("no examples to evaluate: the split is empty")
    return Outputs(logits=torch.cat(scores).float(), labels=torch.cat(labels).long(), exact=bool(exact))


def _raw_logits(model: torch.nn.Module, inputs: torch.Tensor) -> torch.Tensor | None:
    device = next(model.parameters()).device
    try:
        with torch.no_grad():
            out = model(inputs.to(device))
    except Exception:  # a model with its own calling convention: fall back to sample's probabilities
        return None
    return out if torch.is_tensor(out) and out.ndim == 2 else None


def subset(dataset: Any, limit: int | None, seed: int = 0) -> Any:
    """At most ``limit`` examples of ``dataset``, drawn without replacement with a fixed seed."""
    if not limit or len(dataset) <= limit:
        return dataset
    from torch.utils.data import Subset

    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))[:limit]
    return Subset(dataset, sorted(order.tolist()))
