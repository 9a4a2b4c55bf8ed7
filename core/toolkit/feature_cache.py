"""A disk cache of a frozen encoder's features, so a linear probe trains in seconds.

When the encoder is frozen, its output for a text never changes: computing it
again every epoch (and every rerun) is the whole cost of training a linear
head on top.  So ``bert-features`` computes each text's feature vector once
and keeps it here.

Keys.  A cache folder belongs to one (encoder weights' sha256, pooling, longest
text) triple; inside it each feature vector is keyed by a hash of the text's
token ids.  That is finer than one file per dataset: a dataset's hash is the set
of its texts' hashes, so a rerun on the same data finds every vector, a
different CSV that shares sentences with SST-2 reuses those, and a first run
that was interrupted keeps what it had computed.

Storage.  Append-only shards of safetensors (``keys``: N x 16 bytes,
``features``: N x D float32), each written under a temporary name and renamed,
named by the hash of its keys: a crash never leaves half a shard, and two
processes filling the same cache at once only write some vectors twice.
Nothing is pickled.

The folder is ``$ARCHZOO_FEATURE_CACHE``, else ``$XDG_CACHE_HOME/archzoo/features``
(``~/.cache/archzoo/features``); deleting it is always safe.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import threading
from pathlib import Path

import numpy as np
import torch

from archzoo.data.tokenizers import PAD_ID
from archzoo.files import staged_file

KEY_BYTES = 16
#: Write a shard once this many new vectors are waiting (and at the end of every evaluation).
FLUSH_EVERY = 16_384


def cache_root() -> Path:
    override = os.environ.get("ARCHZOO_FEATURE_CACHE")
    if override:
        return Path(override).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "archzoo" / "features"


def row_keys(ids: torch.Tensor) -> list[bytes]:
    """One key per row of a padded ``(B, T)`` id batch: a hash of its real token ids."""
    rows = ids.detach().to("cpu", torch.int32).numpy()
    lengths = (rows != PAD_ID).sum(axis=1)
    return [hashlib.blake2b(row[:n].tobytes(), digest_size=KEY_BYTES).digest() for row, n in zip(rows, lengths)]


class FeatureCache:
    """Feature vectors by key, in memory and in one folder of shards."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.index: dict[bytes, int] = {}
        # Row i holds the vector of the key with index i; grown by doubling, so adding is amortised O(1).
        self.matrix: torch.Tensor | None = None
        self.pending: list[tuple[list[bytes], torch.Tensor]] = []
        self.count = 0
        self.lock = threading.Lock()
        self._load()

    def __len__(self) -> int:
        return self.count

    def _load(self) -> None:
        from safetensors.numpy import load_file

        if not self.folder.is_dir():
            return
        for shard in sorted(self.folder.glob("*.safetensors")):
            try:
                data = load_file(shard)
            except Exception:  # a damaged shard is recomputed, never trusted
                continue
            keys, features = data.get("keys"), data.get("features")
            if keys is None or features is None or keys.shape[0] != features.shape[0] or keys.shape[1:] != (KEY_BYTES,):
                continue
            self._append([bytes(k) for k in keys], torch.from_numpy(features.copy()))

    def _append(self, keys: list[bytes], features: torch.Tensor) -> None:
        fresh = [i for i, k in enumerate(keys) if k not in self.index]
        if not fresh:
            return
        if len(fresh) < len(keys):
            keys = [keys[i] for i in fresh]
            features = features[fresh]
        features = features.detach().to("cpu", torch.float32)
        needed = self.count + len(keys)
        if self.matrix is None or needed > self.matrix.shape[0] or features.shape[1] != self.matrix.shape[1]:
            if self.matrix is not None and features.shape[1] != self.matrix.shape[1]:
                raise ValueError(f"feature width {features.shape[1]} does not match the cache's {self.matrix.shape[1]}")
            grown = torch.empty(
                max(needed, 2 * (0 if self.matrix is None else self.matrix.shape[0]), 1024), features.shape[1]
            )
            if self.matrix is not None:
                grown[: self.count] = self.matrix[: self.count]
            self.matrix = grown
        self.matrix[self.count : needed] = features
        for offset, key in enumerate(keys):
            self.index[key] = self.count + offset
        self.count = needed

    def missing(self, keys: list[bytes]) -> list[int]:
        """Positions of the keys not in the cache (a repeated key is listed once)."""
        seen: set[bytes] = set()
        out = []
        for position, key in enumerate(keys):
            if key not in self.index and key not in seen:
                seen.add(key)
                out.append(position)
        return out

    def add(self, keys: list[bytes], features: torch.Tensor) -> None:
        with self.lock:
            before = self.count
            self._append(keys, features)
            if self.count > before:
                self.pending.append((keys, features.detach().to("cpu", torch.float32)))
            if sum(len(k) for k, _ in self.pending) >= FLUSH_EVERY:
                self._flush()

    def get(self, keys: list[bytes]) -> torch.Tensor:
        """The vectors of ``keys`` (all present), stacked in order."""
        with self.lock:
            rows = torch.tensor([self.index[k] for k in keys], dtype=torch.long)
            return self.matrix.index_select(0, rows)

    def flush(self) -> None:
        with self.lock:
            self._flush()

    def _flush(self) -> None:
        if not self.pending:
            return
        from safetensors.numpy import save_file

        keys = [k for batch, _ in self.pending for k in batch]
        features = torch.cat([f for _, f in self.pending])
        # Only vectors not already in a shard on disk: pending batches may repeat keys.
        first = {}
        for position, key in enumerate(keys):
            first.setdefault(key, position)
        order = sorted(first.values())
        keys = [keys[i] for i in order]
        features = features[order]
        self.pending = []
        self.folder.mkdir(parents=True, exist_ok=True)
        name = hashlib.blake2b(b"".join(keys), digest_size=16).hexdigest()
        final = self.folder / f"{name}.safetensors"
        array = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), KEY_BYTES)
        with staged_file(final) as partial:
            save_file({"keys": array.copy(), "features": features.numpy()}, str(partial))


_CACHES: dict[Path, FeatureCache] = {}
_LOCK = threading.Lock()


def feature_cache(fingerprint: str, pooling: str, max_tokens: int) -> FeatureCache:
    """The process-wide cache for one encoder, pooling and text length (loaded from disk once)."""
    folder = cache_root() / f"{fingerprint[:24]}-{pooling}-{max_tokens}"
    with _LOCK:
        cache = _CACHES.get(folder)
        if cache is None:
            cache = _CACHES[folder] = FeatureCache(folder)
        return cache


@atexit.register
def flush_all() -> None:
    """Write every cache's pending vectors (also run when the process exits)."""
    for cache in list(_CACHES.values()):
        try:
            cache.flush()
        except OSError:
            pass


def forget() -> None:
    """Drop the in-memory caches (tests; the files stay)."""
    with _LOCK:
        _CACHES.clear()
