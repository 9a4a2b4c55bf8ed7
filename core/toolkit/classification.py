"""The standard classification hooks, used by any classifier that does not
write its own: cross-entropy training step, loss and accuracy evaluation,
softmax class probabilities as its sample.

A text classifier's ``sample`` may also be asked for ``{"texts": [...]}``: the
texts are encoded with ``ctx.tokenizer`` and padded like its training batches.

Registered at the lowest priority (``trylast``), so a plugin's own hook always
wins, and answering ``None`` for tasks they do not know, so other tasks fall
through to the plugin (or to a clear "not implemented" error).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from archzoo.data.text import MAX_TOKENS, pad_ids
from archzoo.data.tokenizers import encode_texts
from archzoo.registry.hookspecs import hookimpl
from archzoo.registry.specs import CLASSIFICATION_TASKS, SampleResult
from archzoo.toolkit.models import unwrap


@hookimpl(trylast=True)
def train_step(spec, model, batch, ctx):
    if spec.task not in CLASSIFICATION_TASKS:
        return None
    return classification_step(model, batch, ctx)


@hookimpl(trylast=True)
def evaluate(spec, model, loader, ctx):
    if spec.task not in CLASSIFICATION_TASKS:
        return None
    return classification_metrics(model, loader, ctx)


def classification_step(model, batch, ctx) -> dict[str, torch.Tensor]:
    """Cross-entropy on ``(inputs, labels)``, one optimizer step; loss and accuracy.
    Also for plugins of other tasks that train a classifier (``bert-features``)."""
    inputs, labels = batch
    logits = model(inputs)
    loss = classification_loss(logits, labels, ctx)
    ctx.backward(loss)
    ctx.step()
    return {"loss": loss.detach(), "accuracy": batch_accuracy(logits, labels)}


def classification_loss(logits: torch.Tensor, targets: torch.Tensor, ctx) -> torch.Tensor:
    """The training loss of a classifier: cross-entropy with the run's ``label_smoothing``.
    ``targets`` are class indices, or rows of class probabilities where mixup or cutmix
    blended two examples; a plugin with a step of its own calls this to honour both."""
    return F.cross_entropy(logits, targets, label_smoothing=ctx.train_config.label_smoothing)


def batch_accuracy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor | float:
    """The share of the batch whose top class is its label (the larger share of a blended
    one): a device tensor on an accelerator, read when the trainer reports rather than
    every step; a number on the CPU, where reading waits for nothing."""
    labels = targets if targets.ndim == 1 else targets.argmax(dim=1)
    hits = (logits.argmax(dim=1) == labels).sum()  # argmax has no gradient: no detach needed
    if hits.device.type == "cpu":
        return hits.item() / len(labels)  # on the CPU a number is read without waiting, and is cheaper
    exact = torch.float32 if hits.device.type == "mps" else torch.float64  # float64: hits / n as Python has it
    return hits.to(exact) / len(labels)


def classification_metrics(model, loader, ctx) -> dict[str, float]:
    """Accuracy and mean cross-entropy over every example of ``loader`` (gathered across processes)."""
    losses, hits = [], []
    with torch.no_grad():
        for inputs, labels in loader:
            logits = model(inputs)
            losses.append(ctx.gather(F.cross_entropy(logits, labels, reduction="none")))
            hits.append(ctx.gather(logits.argmax(dim=1) == labels))
    if not losses:
        raise ValueError("cannot evaluate on an empty data split")
    return {"accuracy": torch.cat(hits).float().mean().item(), "loss": torch.cat(losses).mean().item()}


@hookimpl(trylast=True)
def sample(spec, model, request, ctx):
    if spec.task not in CLASSIFICATION_TASKS:
        return None
    notes: list[str] = []
    if "texts" in request and "inputs" not in request:
        # A text classifier given texts: encode them as the training batches were
        # (archzoo.data.text) and pad them.  A model on a pretrained encoder reads
        # with that encoder's own tokenizer and length limit.
        tokenizer = getattr(unwrap(model), "tokenizer", None) or ctx.tokenizer
        limit = getattr(tokenizer, "max_tokens", MAX_TOKENS)
        ids, notes = encode_texts(tokenizer, request["texts"], max_tokens=limit)
        inputs = pad_ids(ids).to(ctx.device)
    else:
        inputs = request["inputs"].to(ctx.device)
    with torch.no_grad():
        logits = model(inputs)
    temperature = float(request.get("temperature", 1.0))
    probabilities = torch.softmax(logits / temperature, dim=1)
    outputs = {"probabilities": probabilities.cpu(), "class_names": list(ctx.info.class_names)}
    if notes:
        outputs["notes"] = notes
    return SampleResult(kind="class-probabilities", outputs=outputs)
