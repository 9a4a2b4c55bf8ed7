"""Catalogue card for ``lora``: a BERT-family encoder fine-tuned with LoRA
(through ``peft``), and a linear classification head.

LoRA (Hu et al., 2021) freezes the pretrained weights W and learns a low-rank
update for chosen layers: ``W x + (alpha / r) B A x``, with A (r x d) and
B (d x r), B starting at zero so training starts from the pretrained model.
The lecture notes' setting, r = 8 on the attention's query and value
projections, trains 0.3% of all-MiniLM-L6-v2's parameters.

The checkpoint holds the head (``model.safetensors``) and the LoRA matrices,
once, in PEFT's own layout (``adapter_config.json``,
``adapter_model.safetensors``), so ``peft.PeftModel.from_pretrained(encoder,
checkpoint_folder)`` loads it without archzoo.  ``archzoo train lora --merge``
also writes the encoder with the update merged in, as a plain transformers
model folder (with ``pooling="pooler"``, a whole
``AutoModelForSequenceClassification`` model).

No torch here; the model is in :mod:`archzoo.plugins.lora.model`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from archzoo import ArchSpec, hookimpl, param


@dataclass
class LoraClassifierConfig:
    """The encoder, where the low-rank updates go and how big they are, and the head's classes."""

    encoder: str = param(
        "all-MiniLM-L6-v2",
        "the encoder to adapt: a BERT-family model folder, a Hugging Face Hub id (read from the local cache; "
        "--download fetches it), or all-MiniLM-L6-v2 (installed with archzoo, works offline)",
    )
    r: int = param(8, "rank of each low-rank update B A", min=1, max=4096)
    alpha: float = param(16.0, "the update is scaled by alpha / r", min=0.0, max=1e6)
    dropout: float = param(0.1, "dropout on the input of each low-rank update", min=0.0, max=0.95)
    target_modules: str = param(
        "query,value",
        "comma-separated names of the Linear layers to adapt (a name matches a module whose path ends with it)",
    )
    pooling: Literal["auto", "cls", "mean", "pooler"] = param(
        "auto",
        "one vector per text for the head: [CLS], the mean over the tokens, pooler (BERT's own pooler, tanh of a "
        "dense layer on [CLS], frozen: the head transformers' AutoModelForSequenceClassification has, so a merged "
        "model loads there exactly), or auto: the encoder's own sentence pooling if it declares one (mean for "
        "all-MiniLM-L6-v2), else [CLS]",
    )
    num_classes: int = param(2, "number of classes (filled from the dataset)", from_data="num_classes", min=2)


#: all-MiniLM-L6-v2 without its pooler (22,565,376), LoRA r=8 on query and value in
#: 6 layers (6 x 2 x (8 x 384 + 384 x 8) = 73,728), and the head 384 x 2 + 2 = 770.
DEFAULT_PARAMETERS = 22_639_874


@hookimpl
def archzoo_register(registry):
    registry.add_architecture(
        ArchSpec(
            name="lora",
            task="text-classification",
            summary="A BERT-family encoder fine-tuned with LoRA through peft (r=8 on query and value by default) and "
            "a linear head; the adapter is saved in PEFT's layout.",
            config=LoraClassifierConfig,
            default_dataset="sst2",
            citation="Hu et al. (2021), LoRA: low-rank adaptation of large language models. ICLR 2022; Devlin et al. "
            "(2019), BERT. NAACL; Hugging Face peft; lecture notes' fine-tuning recipe.",
            parameters=DEFAULT_PARAMETERS,
            implementation="archzoo.plugins.lora.model",
        )
    )
