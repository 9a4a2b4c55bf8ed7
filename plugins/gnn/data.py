"""The ``sbm`` dataset: one stochastic-block-model graph for node classification.

The graph.  1,000 nodes fall into 4 communities (the classes) of 250.  Each
pair of nodes is joined with probability ``P_IN`` when they share a
community and ``P_OUT`` when they do not: on average about 6 neighbours
inside the community and 2 outside, so three quarters of a node's
neighbours share its class.

The features.  Each community has a random mean vector in 16 dimensions, and
a node's features are its community's mean plus unit Gaussian noise scaled so
that the features *alone* are weakly informative: a classifier that sees one
node at a time gets well under perfect.  Averaging over neighbours (who mostly
share the class) cancels much of the noise, which is what message passing
can exploit and a features-only MLP cannot.

How it meets the trainer.  The dataset is one graph, so an *example* is a
node: the train, validation and test splits are sets of node indices
(:class:`NodeSplit`), and :class:`GraphBatch`, the splits' ``collate``, turns
a list of nodes into a batch that holds the *whole* graph plus the nodes the
batch is about::

    {"nodes": LongTensor (B,),                      # whose loss / accuracy counts
     "inputs": {"x": (N, F) features, "edge_index": (2, E) LongTensor},
     "labels": LongTensor (N,)}                     # every node's class

A model computes every node's state from the whole graph (messages need the
neighbours, whatever split they are in: the transductive setting) and the
loss is taken on ``labels[nodes]`` only.  ``batch_size`` is the number of
labelled nodes per step; at least the training split's size gives the usual
full-batch training.  Everything is generated from :data:`SPLIT_SEED`, so
every run sees the same graph and the same splits.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import torch
from torch.utils.data import Dataset

from archzoo.toolkit import SPLIT_SEED, DataInfo, DataOptions, DatasetSplits, split_indices

N_NODES = 1000
N_BLOCKS = 4
N_FEATURES = 16
P_IN = 6 / 249  # about 6 neighbours in the same community ...
P_OUT = 2 / 750  # ... and 2 in the other three
FEATURE_SIGNAL = 0.35  # community means ~ N(0, 0.35^2 I); the noise around them is N(0, I)
TEST_FRACTION = 0.2


@cache
def sbm_graph() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features (N, F) float32, edge_index (2, E) int64 with both directions, labels (N,) int64)."""
    rng = np.random.default_rng(SPLIT_SEED)
    labels = np.repeat(np.arange(N_BLOCKS), N_NODES // N_BLOCKS)
    same = labels[:, None] == labels[None, :]
    joined = rng.random((N_NODES, N_NODES)) < np.where(same, P_IN, P_OUT)
    u, v = np.nonzero(np.triu(joined, k=1))  # each unordered pair once, no self-loops
    edge_index = np.stack([np.concatenate([u, v]), np.concatenate([v, u])])  # u->v and v->u
    means = rng.normal(0.0, FEATURE_SIGNAL, (N_BLOCKS, N_FEATURES))
    features = means[labels] + rng.normal(0.0, 1.0, (N_NODES, N_FEATURES))
    arrays = features.astype(np.float32), edge_index.astype(np.int64), labels.astype(np.int64)
    for array in arrays:
        array.setflags(write=False)
    return arrays


class NodeSplit(Dataset):
    """A split of the graph: its examples are node indices."""

    def __init__(self, nodes: np.ndarray):
        self.nodes = torch.as_tensor(np.sort(nodes), dtype=torch.int64)

    def __len__(self) -> int:
        return len(self.nodes)

    def __getitem__(self, i: int) -> int:
        return int(self.nodes[i])


class GraphBatch:
    """``collate`` for node splits: a list of node indices -> the whole graph and those nodes."""

    def __init__(self, x: torch.Tensor, edge_index: torch.Tensor, labels: torch.Tensor):
        self.x, self.edge_index, self.labels = x, edge_index, labels

    def __call__(self, nodes: list[int]) -> dict:
        return {
            "nodes": torch.tensor(nodes, dtype=torch.int64),
            "inputs": {"x": self.x, "edge_index": self.edge_index},
            "labels": self.labels,
        }


def load_sbm(options: DataOptions) -> DatasetSplits:
    """The graph, its node splits (20% test, ``val_fraction`` of the rest validation), features
    standardised with the training nodes' mean and standard deviation."""
    features, edge_index, labels = sbm_graph()
    train, val, test = split_indices(N_NODES, TEST_FRACTION, options.val_fraction)
    mean, std = features[train].mean(axis=0), features[train].std(axis=0)
    x = torch.from_numpy((features - mean) / std)
    collate = GraphBatch(x, torch.from_numpy(edge_index.copy()), torch.from_numpy(labels.copy()))
    info = DataInfo(
        "sbm",
        "node-classification",
        (N_FEATURES,),
        N_BLOCKS,
        tuple(f"community {k}" for k in range(N_BLOCKS)),
        tuple(mean.tolist()),
        tuple(std.tolist()),
    )
    note = (
        f"sbm: one graph of {N_NODES} nodes and {edge_index.shape[1] // 2} edges; every batch carries the whole graph"
    )
    return DatasetSplits(
        info, NodeSplit(train), NodeSplit(val) if len(val) else None, NodeSplit(test), notes=[note], collate=collate
    )


def clear_caches() -> None:
    sbm_graph.cache_clear()
