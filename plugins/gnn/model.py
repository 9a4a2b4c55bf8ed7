"""The message-passing graph neural network, as in the lecture notes' lab.

Recipe: one layer updates every node v from its own state and the aggregate
of the messages its neighbours send,

    m_uv = psi(h_v, h_u)        = ReLU(W_psi [h_v ; h_u] + b_psi)    one per edge u -> v
    a_v  = AGG_{u in N(v)} m_uv                                     sum, mean or max
    h_v' = phi(h_v, a_v)        = ReLU(W_phi [h_v ; a_v] + b_phi)

``layers`` of these (each reaches one hop further), then a Linear head from
the final state to the class scores of every node.  The aggregation is a
scatter over the edges' destination index, in plain PyTorch:
``index_add`` for sum (divided by the in-degree for mean) and
``scatter_reduce(..., "amax")`` for max (see :func:`scatter_max`); a node
without neighbours gets a zero aggregate.

``message_passing = false`` is the notes' baseline: the same depth and width
with h_v' = ReLU(W h_v + b), a features-only MLP applied to every node alone.

Batches are the whole graph plus the nodes they are about (see
:mod:`archzoo.plugins.gnn.data`), so this plugin brings its own
``train_step``, ``evaluate`` and ``sample``: cross-entropy and accuracy on
the batch's nodes only.  ``sample`` takes ``request["inputs"]`` = a graph
``{"x", "edge_index"}`` and optionally ``request["nodes"]``, and returns the
class probabilities of those nodes (of every node when none are named).
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from archzoo import SampleResult, hookimpl
from archzoo.toolkit import batch_accuracy, classification_loss


def aggregate(messages: torch.Tensor, target: torch.Tensor, num_nodes: int, how: str) -> torch.Tensor:
    """Combine the messages (E, D) arriving at each node ``target`` (E,) into (num_nodes, D)."""
    out = messages.new_zeros(num_nodes, messages.shape[1])
    if how == "max":
        return scatter_max(messages, target, out)
    total = out.index_add(0, target, messages)
    if how == "sum":
        return total
    degree = torch.bincount(target, minlength=num_nodes).clamp(min=1).unsqueeze(1)
    return total / degree  # mean


def scatter_max(messages: torch.Tensor, target: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """Per node and feature, the largest message arriving (0 for a node that gets none).

    The value comes from ``scatter_reduce(..., "amax")``; the gradient goes to
    the message(s) that won, shared equally among ties, through ``index_add``.
    That is what autograd's own backward of ``scatter_reduce`` computes, but
    several times faster on a CPU (ReLU messages tie at 0 a lot).  (Autograd's
    backward also counts the untouched zero of ``out`` as a tie when every
    message is 0, although ``include_self=False`` leaves it out of the value;
    here only real messages share the gradient.)
    """
    with torch.no_grad():
        best = out.scatter_reduce(
            0, target.unsqueeze(1).expand_as(messages), messages, reduce="amax", include_self=False
        )
        won = (messages == best[target]).to(messages.dtype)
        ties = out.index_add(0, target, won)[target]  # >= 1: every message ties with itself at least
    return out.index_add(0, target, messages * won / ties)


class MessagePassing(nn.Module):
    """h_v' = phi(h_v, AGG_u psi(h_v, h_u))."""

    def __init__(self, d_in: int, d_out: int, aggregation: str = "mean"):
        super().__init__()
        self.aggregation = aggregation
        self.psi = nn.Linear(2 * d_in, d_out)  # the message, seeing both ends of the edge
        self.phi = nn.Linear(d_in + d_out, d_out)  # the update, from the node's state and its aggregate

    def forward(self, h: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        source, target = edge_index  # a message flows source u -> target v
        # index_select, not h[target]: its backward (index_add) gives the same sums on every
        # run, while advanced indexing's accumulates in a thread-dependent order on a CPU
        ends = torch.cat([h.index_select(0, target), h.index_select(0, source)], dim=1)  # (E, 2 d_in): [h_v ; h_u]
        messages = F.relu(self.psi(ends))
        a = aggregate(messages, target, h.shape[0], self.aggregation)
        return F.relu(self.phi(torch.cat([h, a], dim=1)))


class NodeMLP(nn.Module):
    """The baseline's layer: h_v' = phi(h_v), blind to the edges."""

    def __init__(self, d_in: int, d_out: int):
        super().__init__()
        self.phi = nn.Linear(d_in, d_out)

    def forward(self, h: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        return F.relu(self.phi(h))


class GNN(nn.Module):
    """``layers`` x (message passing or node-wise MLP) -> Dropout -> Linear(hidden, classes), for every node."""

    def __init__(
        self,
        in_features: int,
        hidden: int,
        layers: int,
        num_classes: int,
        aggregation: str = "mean",
        message_passing: bool = True,
        dropout: float = 0.0,
    ):
        super().__init__()
        widths = [in_features] + [hidden] * layers
        make = (lambda a, b: MessagePassing(a, b, aggregation)) if message_passing else NodeMLP
        self.layers = nn.ModuleList(make(a, b) for a, b in zip(widths, widths[1:]))
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, num_classes)

    def forward(self, graph: dict) -> torch.Tensor:
        h, edge_index = graph["x"], graph["edge_index"]
        for layer in self.layers:
            h = self.dropout(layer(h, edge_index))
        return self.head(h)  # (N, num_classes): scores for every node


@hookimpl
def build_model(spec, config):
    return GNN(
        in_features=math.prod(config.input_shape),
        hidden=config.hidden,
        layers=config.layers,
        num_classes=config.num_classes,
        aggregation=config.aggregation,
        message_passing=config.message_passing,
        dropout=config.dropout,
    )


@hookimpl
def train_step(spec, model, batch, ctx):
    nodes, labels = batch["nodes"], batch["labels"][batch["nodes"]]
    logits = model(batch["inputs"]).index_select(0, nodes)  # every node's state is computed; only these count
    loss = classification_loss(logits, labels, ctx)
    ctx.backward(loss)
    ctx.step()
    return {"loss": loss.detach(), "accuracy": batch_accuracy(logits, labels)}


@hookimpl
def evaluate(spec, model, loader, ctx):
    losses, hits = [], []
    with torch.no_grad():
        for batch in loader:
            nodes, labels = batch["nodes"], batch["labels"][batch["nodes"]]
            logits = model(batch["inputs"])[nodes]
            losses.append(ctx.gather(F.cross_entropy(logits, labels, reduction="none")))
            hits.append(ctx.gather(logits.argmax(dim=1) == labels))
    if not hits:
        raise ValueError("cannot evaluate on an empty node split")
    return {"accuracy": torch.cat(hits).float().mean().item(), "loss": torch.cat(losses).mean().item()}


@hookimpl
def sample(spec, model, request, ctx):
    """Class probabilities of ``request["nodes"]`` (default: every node) of the graph ``request["inputs"]``."""
    graph = {key: value.to(ctx.device) for key, value in request["inputs"].items()}
    with torch.no_grad():
        logits = model(graph)
    nodes = request.get("nodes")
    if nodes is not None:
        logits = logits[torch.as_tensor(nodes, device=logits.device)]
    probabilities = torch.softmax(logits / float(request.get("temperature", 1.0)), dim=1)
    return SampleResult(
        kind="class-probabilities",
        outputs={"probabilities": probabilities.cpu(), "class_names": list(ctx.info.class_names)},
    )
