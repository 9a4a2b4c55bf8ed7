"""``lora``: a pretrained encoder adapted with LoRA (through ``peft``), and a linear head.

The figure, for each adapted Linear layer (by default the attention's query
and value projections in every block)::

    y = W x + (alpha / r) * B (A (dropout(x)))        W frozen; A: r x d_in, B: d_out x r, B = 0 at the start

and for the whole model::

    ids ──[CLS] ids [SEP]──> encoder with LoRA ──> H ──pool──> h ──Linear(d, classes)──> logits

Only A, B and the head are trained (0.3% of all-MiniLM-L6-v2 at r = 8).  The
checkpoint keeps exactly those in ``model.safetensors``, plus the adapter in
PEFT's layout (``adapter_config.json`` + ``adapter_model.safetensors``) so
that plain ``peft`` can load it; :func:`archzoo.checkpoints.merge.merge_adapter`
(``archzoo train lora --merge``) folds ``B A`` into ``W`` and writes an
ordinary transformers model.

Training, evaluation and class probabilities are archzoo's standard
text-classification hooks: the model's ``tokenizer`` (the encoder's own) is
what the default ``sample`` reads texts with, cut to the encoder's length.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import torch
import torch.nn as nn

from archzoo import ConfigError, hookimpl
from archzoo.toolkit.encoders import (
    EncoderSource,
    LearnedStateModule,
    load_base_model,
    load_tokenizer,
    pool,
    resolve_encoder,
    sentence_pooling,
    with_special_tokens,
)

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"


def target_names(text: str) -> list[str]:
    names = [n.strip() for n in str(text).split(",") if n.strip()]
    if not names:
        raise ConfigError("target_modules", text, "at least one module name, e.g. query,value")
    return names


def check_targets(encoder: nn.Module, names: list[str], text: str) -> None:
    """Every requested name must match a Linear layer of the encoder; else say which layers exist.

    (peft itself only complains when *no* name matches, so a misspelt second
    name would silently adapt fewer layers than asked.)"""
    linear = [path for path, module in encoder.named_modules() if isinstance(module, nn.Linear)]
    unmatched = [n for n in names if not any(path == n or path.endswith("." + n) for path in linear)]
    if unmatched:
        leaves = sorted({path.rsplit(".", 1)[-1] for path in linear})
        examples = sorted({".".join(path.split(".")[-3:]) for path in linear if ".0." in path or path.count(".") < 3})
        raise ConfigError(
            "target_modules",
            text,
            f"{', '.join(map(repr, unmatched))} match{'es' if len(unmatched) == 1 else ''} no Linear layer of the "
            "encoder; "
            f"its Linear layers are named {', '.join(leaves)} (in block 0: {', '.join(examples[:8])})",
        )


class LoraClassifier(LearnedStateModule):
    """Encoder with LoRA updates -> pooled vector -> Linear head.  ``state_dict``: the LoRA matrices and the head."""

    def __init__(self, source: EncoderSource, config) -> None:
        super().__init__()
        import peft

        self.source = source
        self.tokenizer = load_tokenizer(source)
        base = load_base_model(source)
        names = target_names(config.target_modules)
        check_targets(base, names, config.target_modules)
        settings = peft.LoraConfig(
            r=config.r,
            lora_alpha=config.alpha,
            lora_dropout=config.dropout,
            target_modules=names,
            bias="none",
        )
        with warnings.catch_warnings():  # peft asks transformers a deprecated question; nothing for the user to do
            warnings.simplefilter("ignore", FutureWarning)
            self.encoder = peft.get_peft_model(base, settings)
        self.encoder.peft_config["default"].base_model_name_or_path = source.base_model_name
        self.pooling = sentence_pooling(source) if config.pooling == "auto" else config.pooling
        self.head = nn.Linear(base.config.hidden_size, config.num_classes)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        framed, mask = with_special_tokens(ids, self.tokenizer.cls_id, self.tokenizer.sep_id, self.tokenizer.max_tokens)
        hidden = self.encoder(input_ids=framed, attention_mask=mask).last_hidden_state
        return self.head(pool(hidden, mask, self.pooling))

    def checkpoint_files(self) -> dict[str, bytes]:
        """The adapter in PEFT's own layout, written by peft itself (its README is not kept:
        the checkpoint has archzoo's model card)."""
        with tempfile.TemporaryDirectory(prefix="archzoo-adapter-") as folder:
            # save_embedding_layers=False: LoRA here never touches the embeddings, and "auto"
            # would look the base model up on the Hub to check its vocabulary.
            self.encoder.save_pretrained(folder, safe_serialization=True, save_embedding_layers=False)
            return {name: (Path(folder) / name).read_bytes() for name in (ADAPTER_CONFIG, ADAPTER_WEIGHTS)}


@hookimpl
def build_model(spec, config):
    return LoraClassifier(resolve_encoder(config.encoder), config)


@hookimpl
def text_tokenizer(spec, config, download):
    return load_tokenizer(resolve_encoder(config.encoder, download=download))
