"""A LoRA checkpoint as a plain ``transformers`` model: the adapter folded into its encoder.

``archzoo train lora-... --merge`` and the Checkpoints tab's Merge button call
:func:`merge_adapter`; the result loads with ``AutoModel.from_pretrained``
and needs no archzoo.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from safetensors.torch import save_file

from archzoo.checkpoints.io import load
from archzoo.errors import EncoderError
from archzoo.files import staged_folder


def merge_adapter(location: Any, dest: Any, *, host: Any = None) -> Path:
    """Fold a LoRA checkpoint's updates into its encoder (W + (alpha / r) B A) and write
    the result as a plain transformers model folder: ``config.json`` and
    ``model.safetensors`` (``AutoModel.from_pretrained`` loads it; archzoo takes it
    as an ``encoder``), the encoder's tokenizer files, and the classification head
    (``head.safetensors``, ``head.json``), so nothing the checkpoint knew is lost.

    Written under a temporary name and renamed (:func:`archzoo.files.staged_folder`); a ``dest`` that already holds
    files is refused rather than overwritten."""
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise EncoderError(f"{dest} already exists; choose a new (or empty) folder for the merged model")
    loaded = load(location, host=host)
    model = loaded.model
    encoder = getattr(model, "encoder", None)
    if "adapter_config.json" not in (loaded.meta.get("files") or {}) or not hasattr(encoder, "merge_and_unload"):
        raise EncoderError(
            f"{loaded.path} is a {loaded.spec.name} checkpoint with no LoRA adapter: there is nothing to merge"
        )
    with staged_folder(dest) as staging:
        merged = encoder.merge_and_unload()
        merged.save_pretrained(staging)
        source = model.source.path
        for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
            if (source / name).is_file():
                shutil.copy2(source / name, staging / name)
        save_file(
            {k: v.detach().contiguous().cpu() for k, v in model.head.state_dict().items()}, staging / "head.safetensors"
        )
        (staging / "head.json").write_text(
            json.dumps(
                {
                    "pooling": model.pooling,
                    "class_names": list(loaded.info.class_names),
                    # names, never folders of this machine: the merged model is made to be shared
                    "merged_from": loaded.path.name,
                    "base_model": model.source.hub_id,
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
    return dest
