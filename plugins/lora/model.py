"""``lora``: a pretrained encoder adapted with LoRA (through ``peft``), and a linear head.

The figure, for each adapted Linear layer (by default the attention's query
and value projections in every block)::

    y = W x + (alpha / r) * B (A (dropout(x)))        W frozen; A: r x d_in, B: d_out x r, B = 0 at the start

and for the whole model::

    ids ──[CLS] ids [SEP]──> encoder with LoRA ──> H ──pool──> h ──Linear(d, classes)──> logits

where ``pool`` takes [CLS], the mean over the tokens, or BERT's own pooler
(``tanh(W_p H[:, 0] + b_p)``, frozen as the encoder holds it: the head of
``transformers``' ``BertForSequenceClassification``).

Only A, B and the head are trained (0.3% of all-MiniLM-L6-v2 at r = 8).  The
checkpoint keeps each of them once: A and B in PEFT's layout
(``adapter_config.json`` + ``adapter_model.safetensors``), so that plain
``peft`` can load them, and the head in ``model.safetensors``; :func:`archzoo.checkpoints.merge.merge_adapter`
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


def pooler_state(source: EncoderSource) -> dict[str, torch.Tensor]:
    """BERT's pooler layer as the encoder's weights file holds it (``dense.weight``, ``dense.bias``),
    read from that file's header and two tensors; empty for an encoder saved without one."""
    from safetensors import safe_open

    found = {}
    with safe_open(source.path / "model.safetensors", framework="pt") as weights:
        keys = list(weights.keys())
        for short in ("dense.weight", "dense.bias"):
            names = [k for k in keys if k == f"pooler.{short}" or k.endswith(f".pooler.{short}")]
            if len(names) != 1:
                return {}
            found[short] = weights.get_tensor(names[0])
    return found


def frozen_pooler(source: EncoderSource) -> nn.Linear:
    """The encoder's pooler as a frozen Linear layer (the checkpoint rebuilds it from the encoder)."""
    state = pooler_state(source)
    if not state:
        raise ConfigError(
            "pooling",
            "pooler",
            f"the encoder {source.name} has no pooler layer (BERT's pooler.dense) in its weights; use cls or mean",
        )
    weight = state["dense.weight"]
    pooler = nn.Linear(weight.shape[1], weight.shape[0])
    pooler.load_state_dict({"weight": weight, "bias": state["dense.bias"]})
    return pooler.requires_grad_(False)


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
        self.pooler = frozen_pooler(source) if self.pooling == "pooler" else None
        self.head = nn.Linear(base.config.hidden_size, config.num_classes)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        framed, mask = with_special_tokens(ids, self.tokenizer.cls_id, self.tokenizer.sep_id, self.tokenizer.max_tokens)
        hidden = self.encoder(input_ids=framed, attention_mask=mask).last_hidden_state
        if self.pooler is not None:
            return self.head(torch.tanh(self.pooler(hidden[:, 0])))
        return self.head(pool(hidden, mask, self.pooling))

    def encoder_pooler(self) -> dict[str, torch.Tensor]:
        """The encoder's own pooler weights (``dense.weight``, ``dense.bias``), whatever the pooling:
        a merged model keeps them, as the encoder has them."""
        return pooler_state(self.source)

    def checkpoint_files(self) -> dict[str, bytes]:
        """The adapter in PEFT's own layout, written by peft itself (its README is not kept:
        the checkpoint has archzoo's model card)."""
        with tempfile.TemporaryDirectory(prefix="archzoo-adapter-") as folder:
            # save_embedding_layers=False: LoRA here never touches the embeddings, and "auto"
            # would look the base model up on the Hub to check its vocabulary.
            self.encoder.save_pretrained(folder, safe_serialization=True, save_embedding_layers=False)
            return {name: (Path(folder) / name).read_bytes() for name in (ADAPTER_CONFIG, ADAPTER_WEIGHTS)}

    def state_from_files(self, folder: Path) -> dict[str, torch.Tensor]:
        """The LoRA matrices, read back from the adapter file, under this model's own names: the
        checkpoint keeps them there only, and ``model.safetensors`` holds the head.  PEFT names a
        tensor as the model does, less the adapter's name (``...query.lora_A.weight`` for
        ``encoder.base_model.model...query.lora_A.default.weight``)."""
        from safetensors.torch import load_file

        path = Path(folder) / ADAPTER_WEIGHTS
        if not path.is_file():
            return {}
        stored = load_file(path)
        ours = {adapter_key(name, self.encoder.active_adapter): name for name in self.learned_names()}
        return {ours[key]: tensor for key, tensor in stored.items() if key in ours}


def adapter_key(name: str, adapter: str) -> str:
    """This model's name for a LoRA tensor -> the name PEFT's adapter file gives it."""
    return name.removeprefix("encoder.").replace(f".{adapter}.", ".")


@hookimpl
def build_model(spec, config):
    return LoraClassifier(resolve_encoder(config.encoder), config)


@hookimpl
def text_tokenizer(spec, config, download):
    return load_tokenizer(resolve_encoder(config.encoder, download=download))
