"""Feature vectors from a feature-extraction checkpoint: on screen with their
similarities, or written to a safetensors file (``archzoo embed``)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from archzoo.checkpoints.io import load
from archzoo.errors import ArchzooError
from archzoo.files import staged_file
from archzoo.inference.classify import _texts
from archzoo.inference.sampling import expect, require_task, sample_checkpoint
from archzoo.registry.host import Host, get_host


@dataclass
class Features:
    """One embedding per text, and their pairwise cosine similarities."""

    texts: list[str]
    vectors: list[list[float]]
    similarity: list[list[float]]


def extract_features(location: str | Path, texts: list[str] | str, *, host: Host | None = None) -> Features:
    """Embeddings for each text and their pairwise cosine similarities."""
    host = host or get_host()
    require_task(location, ("feature-extraction",), host)
    texts = _texts(texts)
    result = sample_checkpoint(load(location, host=host), {"texts": texts}, host=host)
    expect(result, "features")
    vectors = torch.as_tensor(result.outputs["features"], dtype=torch.float32).reshape(len(texts), -1)
    unit = torch.nn.functional.normalize(vectors, dim=1)
    return Features(texts=texts, vectors=vectors.tolist(), similarity=(unit @ unit.T).tolist())


@dataclass
class EmbeddingFile:
    path: Path
    count: int
    dim: int
    notes: list[str]


def embed_to_file(
    location: Any,
    texts: Sequence[str],
    out: Any,
    *,
    normalize: bool = False,
    batch_size: int = 64,
    overwrite: bool = False,
    host: Any = None,
) -> EmbeddingFile:
    """Features of ``texts`` from a feature-extraction checkpoint, written to ``out`` as
    safetensors (tensor ``features``, N x D, in the order given; the texts' sha256 in
    the metadata).  An existing ``out`` is kept unless ``overwrite``; the file is
    written under a temporary name and renamed."""
    out = Path(out).expanduser()
    if out.suffix != ".safetensors":
        raise ArchzooError(f"--out must name a .safetensors file, not {out.name}")
    if out.exists() and not overwrite:
        raise ArchzooError(f"{out} already exists; pass --overwrite to replace it")
    if batch_size < 1:
        raise ArchzooError(f"--batch-size must be at least 1, not {batch_size}")
    loaded = load(location, host=host)
    if loaded.spec.task != "feature-extraction":
        raise ArchzooError(
            f"{loaded.path} is a {loaded.spec.task} model ({loaded.spec.name}); embed needs a feature-extraction "
            "checkpoint"
        )
    result = sample_checkpoint(
        loaded, {"texts": list(texts), "normalize": normalize, "batch_size": batch_size}, host=host
    )
    if result.kind != "features":
        raise ArchzooError(f"the plugin's sample hook returned {result.kind!r}, expected 'features'")
    features = result.outputs["features"].detach().float().contiguous().cpu()
    digest = hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest()
    with staged_file(out) as partial:
        save_file(
            {"features": features},
            str(partial),
            metadata={
                "checkpoint": str(loaded.path),
                "architecture": loaded.spec.name,
                "count": str(len(texts)),
                "texts_sha256": digest,
                "normalized": str(bool(normalize)).lower(),
            },
        )
    return EmbeddingFile(out, features.shape[0], features.shape[1], list(result.outputs.get("notes", [])))
