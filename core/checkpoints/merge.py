"""A LoRA checkpoint as a plain ``transformers`` model: the adapter folded into its encoder.

``archzoo train lora-... --merge`` and the Checkpoints tab's Merge button call
:func:`merge_adapter`.  The folder needs no archzoo:

- ``AutoModel.from_pretrained`` loads the encoder with ``W + (alpha / r) B A``
  folded in, and the encoder's pooler kept as the encoder has it;
- ``AutoModelForSequenceClassification.from_pretrained`` loads the whole
  classifier, computing archzoo's logits, when the head reads what transformers'
  BERT head reads: the pooler's ``tanh`` of [CLS] (``pooling="pooler"``).  A head
  on the plain [CLS] vector or on the mean of the tokens is another function, so
  it is not written in that layout (that class would load it and compute other
  logits); ``head.safetensors`` and ``head.json`` hold it, and the folder's
  ``README.md`` says how to apply it.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

from safetensors.torch import save_file

from archzoo.checkpoints.io import load
from archzoo.errors import EncoderError
from archzoo.files import staged_folder

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json")
HEAD_WEIGHTS, HEAD_INFO, CARD = "head.safetensors", "head.json", "README.md"


def merge_adapter(location: Any, dest: Any, *, host: Any = None) -> Path:
    """Fold a LoRA checkpoint's updates into its encoder and write the result as a plain
    transformers model folder: ``config.json`` and ``model.safetensors`` (see the module's
    docstring for what loads them; archzoo takes the folder as an ``encoder``), the encoder's
    tokenizer files, the classification head (``head.safetensors``, ``head.json``) and a
    ``README.md``, so nothing the checkpoint knew is lost.

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
    classes = [str(name) for name in loaded.info.class_names]
    gap = classifier_gap(model)
    pooler = model.encoder_pooler() if hasattr(model, "encoder_pooler") else {}  # the encoder's own, if any
    with staged_folder(dest) as staging:
        transformers_model(model, pooler, classes if gap is None else None).save_pretrained(staging)
        source = model.source.path
        for name in TOKENIZER_FILES:
            if (source / name).is_file():
                shutil.copy2(source / name, staging / name)
        save_file(
            {k: v.detach().contiguous().cpu() for k, v in model.head.state_dict().items()}, staging / HEAD_WEIGHTS
        )
        head = {
            "pooling": model.pooling,
            "class_names": classes,
            # names, never folders of this machine: the merged model is made to be shared
            "merged_from": loaded.path.name,
            "base_model": model.source.hub_id,
            "sequence_classification": gap is None,
        }
        if gap is not None:
            head["why_not_sequence_classification"] = gap
        (staging / HEAD_INFO).write_text(json.dumps(head, indent=2) + "\n", encoding="utf-8")
        (staging / CARD).write_text(merged_card(head, bool(pooler)), encoding="utf-8")
    return dest


def what_loads(folder: Path) -> str:
    """One line on what loads a merged folder, from its ``head.json`` (the command line prints it)."""
    head = json.loads((Path(folder) / HEAD_INFO).read_text(encoding="utf-8"))
    if head.get("sequence_classification"):
        return "AutoModel loads the encoder, AutoModelForSequenceClassification the whole classifier"
    return f"AutoModel loads the encoder; the head is in {HEAD_WEIGHTS} ({head['why_not_sequence_classification']})"


def classifier_gap(model: Any) -> str | None:
    """Why ``AutoModelForSequenceClassification`` would not compute this model's logits; None when it
    would (a BERT encoder whose head reads the pooler's output, as ``BertForSequenceClassification``'s does)."""
    model_type = model.encoder.get_base_model().config.model_type
    if model_type != "bert":
        return f"transformers' {model_type} sequence-classification head is not one linear layer on a pooled vector"
    if model.pooling == "pooler":
        return None
    read = "the [CLS] vector" if model.pooling == "cls" else "the mean of the token vectors"
    return (
        f"BertForSequenceClassification reads tanh(pooler([CLS])) and this model's head reads {read}, so that class "
        "would compute other logits; train with --set pooling=pooler for a model it loads whole"
    )


def transformers_model(model: Any, pooler: dict[str, Any], classes: list[str] | None) -> Any:
    """The encoder with its LoRA updates folded in and its pretrained ``pooler`` kept (when it has one);
    with ``classes``, inside a ``BertForSequenceClassification`` whose classifier is archzoo's head."""
    import torch
    from transformers import AutoModelForSequenceClassification

    merged = model.encoder.merge_and_unload()
    if not pooler:
        return merged  # an encoder saved without a pooler gives a merged model without one
    state = {**merged.state_dict(), **{f"pooler.{name}": tensor for name, tensor in pooler.items()}}
    config = copy.deepcopy(merged.config)
    with torch.no_grad():
        if classes is None:
            whole = type(merged)(config)  # the same encoder class, with its pooler layer
            whole.load_state_dict(state, strict=True)
        else:
            config.id2label = dict(enumerate(classes))
            config.label2id = {name: i for i, name in enumerate(classes)}
            whole = AutoModelForSequenceClassification.from_config(config)
            whole.base_model.load_state_dict(state, strict=True)
            whole.classifier.load_state_dict(model.head.state_dict(), strict=True)
    return whole.eval()


def merged_card(head: dict[str, Any], has_pooler: bool) -> str:
    """The merged folder's ``README.md``: what it is, and what loads it."""
    from huggingface_hub import ModelCardData

    whole = head["sequence_classification"]
    data = ModelCardData(
        library_name="transformers",
        base_model=head["base_model"],
        pipeline_tag="text-classification" if whole else "feature-extraction",
        tags=["archzoo", "lora", "merged"],
    )
    lines = [
        "---",
        data.to_yaml(),
        "---",
        "",
        f"# {head['merged_from']}, merged",
        "",
        f"The archzoo LoRA checkpoint `{head['merged_from']}` with its adapter folded into the encoder "
        "(`W + (alpha / r) B A`): a plain transformers model, with the encoder's tokenizer.",
        "",
        "```python",
        "from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer",
        "",
        'tokenizer = AutoTokenizer.from_pretrained("path/to/this/folder")',
        'encoder = AutoModel.from_pretrained("path/to/this/folder")  # the encoder'
        + (", its pooler included" if has_pooler else " (saved without a pooler, as its base was)"),
    ]
    if whole:
        lines += [
            'model = AutoModelForSequenceClassification.from_pretrained("path/to/this/folder")  # the classifier',
            'logits = model(**tokenizer(["a gorgeous , witty film"], return_tensors="pt")).logits',
            "# classes: model.config.id2label",
            "```",
            "",
            "`AutoModelForSequenceClassification` computes the archzoo model's logits: its head is the pooler's "
            "tanh of [CLS] and a linear layer (`classifier.weight`, `classifier.bias`), as archzoo trained it.",
        ]
    else:
        pooled = (
            "hidden[:, 0]"
            if head["pooling"] == "cls"
            else "(hidden * mask).sum(1) / mask.sum(1)  # the mean over the tokens, [CLS] and [SEP] included"
        )
        lines += [
            "",
            "import torch",
            "from safetensors.torch import load_file",
            "",
            'batch = tokenizer(["a gorgeous , witty film"], return_tensors="pt")',
            "hidden = encoder(**batch).last_hidden_state",
            'mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)',
            f"pooled = {pooled}",
            f"head = torch.nn.Linear(hidden.shape[-1], {len(head['class_names'])})",
            'head.load_state_dict(load_file("path/to/this/folder/head.safetensors"))',
            "logits = head(pooled)  # classes: head.json's class_names",
            "```",
            "",
            "The classifier is not in `AutoModelForSequenceClassification`'s layout: "
            f"{head['why_not_sequence_classification']}.",
        ]
    return "\n".join(lines) + "\n"
