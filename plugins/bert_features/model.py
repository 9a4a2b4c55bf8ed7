"""``bert-features``: a frozen encoder's sentence vectors, and a linear head.

The figure::

    ids ──[CLS] ids [SEP]──> BERT encoder (frozen, eval mode) ──> H (B, T, d)
        ──pool──> h (B, d)      [CLS]: h = H[:, 0];  mean: h = mean of H over the real tokens
        ──Linear(d, classes)──> logits                          (the only trained part)

Training is plain cross-entropy on the head.  The encoder runs without
gradients, and each text's ``h`` is computed once and read from the feature
cache after that (:mod:`archzoo.toolkit.feature_cache`): the first epoch costs one
encoder pass over the data, later epochs and reruns cost a table lookup.

``sample`` returns ``h`` for texts or id batches (``features``, N x d):
``archzoo embed`` and the app's feature-extraction view call it.  Its request
may say ``normalize`` (unit-length vectors, for cosine similarity),
``batch_size`` (texts per encoder pass, 64 by default) and ``cache`` (False:
compute afresh).
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from archzoo import SampleResult, hookimpl
from archzoo.toolkit import pad_ids, unwrap
from archzoo.toolkit.classification import classification_metrics, classification_step
from archzoo.toolkit.encoders import (
    EncoderSource,
    LearnedStateModule,
    encoder_fingerprint,
    load_base_model,
    load_tokenizer,
    pool,
    resolve_encoder,
    sentence_pooling,
    text_ids,
    with_special_tokens,
)
from archzoo.toolkit.feature_cache import FeatureCache, feature_cache, row_keys


class BertFeatures(LearnedStateModule):
    """Frozen encoder -> pooled vector -> Linear head.  ``state_dict`` is the head alone."""

    def __init__(self, source: EncoderSource, pooling: str, num_classes: int, use_cache: bool = True) -> None:
        super().__init__()
        self.source = source
        self.tokenizer = load_tokenizer(source)
        self.encoder = load_base_model(source)
        self.encoder.requires_grad_(False)
        self.pooling = sentence_pooling(source) if pooling == "auto" else pooling
        self.head = nn.Linear(self.encoder.config.hidden_size, num_classes)
        self.cache: FeatureCache | None = (
            feature_cache(encoder_fingerprint(source), self.pooling, self.tokenizer.max_tokens) if use_cache else None
        )

    def train(self, mode: bool = True) -> BertFeatures:
        """The encoder stays in evaluation mode (no dropout): its features are fixed, so they can be cached."""
        super().train(mode)
        self.encoder.eval()
        return self

    @torch.no_grad()
    def encode(self, ids: torch.Tensor) -> torch.Tensor:
        """(B, T) ids padded with 0 -> (B, d) pooled features, straight from the encoder."""
        width = int(ids.ne(0).sum(dim=1).max()) if ids.numel() else 0
        framed, mask = with_special_tokens(
            ids[:, : max(width, 1)], self.tokenizer.cls_id, self.tokenizer.sep_id, self.tokenizer.max_tokens
        )
        hidden = self.encoder(input_ids=framed, attention_mask=mask).last_hidden_state
        return pool(hidden, mask, self.pooling)

    def features(self, ids: torch.Tensor, use_cache: bool = True) -> torch.Tensor:
        """Pooled features of a batch, from the cache where it has them."""
        if self.cache is None or not use_cache:
            return self.encode(ids)
        keys = row_keys(ids)
        missing = self.cache.missing(keys)
        if missing:
            rows = torch.tensor(missing, device=ids.device)
            self.cache.add([keys[i] for i in missing], self.encode(ids.index_select(0, rows)))
        return self.cache.get(keys).to(ids.device)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(ids))


@hookimpl
def build_model(spec, config):
    source = resolve_encoder(config.encoder)
    return BertFeatures(source, config.pooling, config.num_classes, config.feature_cache)


@hookimpl
def text_tokenizer(spec, config, download):
    return load_tokenizer(resolve_encoder(config.encoder, download=download))


@hookimpl
def train_step(spec, model, batch, ctx):
    # a feature extractor trained as a classifier: archzoo's classification step
    return classification_step(model, batch, ctx)


@hookimpl
def evaluate(spec, model, loader, ctx):
    try:
        return classification_metrics(model, loader, ctx)
    finally:
        cache = unwrap(model).cache
        if cache is not None:
            cache.flush()  # keep what this pass computed, even if the run stops here


@hookimpl
def sample(spec, model, request, ctx):
    model = unwrap(model)
    features, notes = embed(model, request, ctx.device)
    outputs = {"features": features}
    if notes:
        outputs["notes"] = notes
    return SampleResult(kind="features", outputs=outputs)


def embed(model: BertFeatures, request: dict, device: torch.device) -> tuple[torch.Tensor, list[str]]:
    """Features for ``request["texts"]`` (or an id batch, ``request["inputs"]``), in order.

    Texts are sorted by length and encoded ``batch_size`` at a time, so a batch
    holds texts of about one length and needs little padding."""
    use_cache = bool(request.get("cache", True))
    notes: list[str] = []
    if "texts" in request and "inputs" not in request:
        ids, notes = text_ids(model.tokenizer, request["texts"])
        batch_size = max(int(request.get("batch_size", 64)), 1)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out = torch.empty(len(ids), model.encoder.config.hidden_size)
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            batch = pad_ids([ids[i] for i in chosen]).to(device)
            out[chosen] = model.features(batch, use_cache).float().cpu()
    else:
        out = model.features(request["inputs"].to(device), use_cache).float().cpu()
    if model.cache is not None and use_cache:
        model.cache.flush()
    if request.get("normalize"):
        out = F.normalize(out, dim=1)
    return out, notes
