"""What a checkpoint folder holds, by name: the one place these names are declared.

::

    model.safetensors           weights (safetensors only; never pickle)
    config.json                 what built them and how well they did
    README.md                   the model card
    tokenizer.json              a text model's tokenizer
    adapter_config.json         LoRA: PEFT's own layout
    adapter_model.safetensors
    evaluation/                 archzoo report's page, figures and numbers
    training_state.*            a run's ``last`` checkpoint only: what resuming needs

A run's folder holds ``best/`` and ``last/``, and ``views/`` where its model has a
live view (``boundary.json`` + ``boundary-epoch-0001.safetensors``, ...); a location
names either checkpoint, or the run (its best).  Torch-free, so listing a store or
talking to the Hub never imports torch.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from archzoo.data.types import TOKENIZER_FILE
from archzoo.errors import CheckpointError
from archzoo.registry.host import get_host

FORMAT = "archzoo-checkpoint"
FORMAT_VERSION = 1
WEIGHTS = "model.safetensors"
CONFIG = "config.json"
CARD = "README.md"
TOKENIZER = TOKENIZER_FILE
ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
STATE_TENSORS = "training_state.safetensors"
STATE_JSON = "training_state.json"
#: The subfolder of a checkpoint that holds its trust report and figures.
EVALUATION_DIR = "evaluation"

#: The subfolder of a run folder that holds its live views, one file per epoch.
VIEWS_DIR = "views"
#: The names of the files in it: VIEW.json (what every epoch shares), VIEW-epoch-NNNN.safetensors.
VIEW_FILE = re.compile(r"(?P<view>[a-z]+)(?:-epoch-(?P<epoch>\d{4,6}))?\.(?:json|safetensors)")

#: The files a checkpoint shares on the Hub (``training_state.*`` stays local: it is only for resuming).
SHARED_FILES = (WEIGHTS, CONFIG, CARD, ADAPTER_CONFIG, ADAPTER_WEIGHTS, TOKENIZER)
#: archzoo's own files, which a plugin's extra files may not replace.
RESERVED = (WEIGHTS, CONFIG, CARD, STATE_TENSORS, STATE_JSON)


def is_checkpoint(path: Path) -> bool:
    """A folder is a checkpoint when it holds a ``config.json``."""
    return (Path(path) / CONFIG).is_file()


def find_local(location: str | os.PathLike, store: Path | None = None) -> Path:
    """A path (or a name in the checkpoint store) -> a checkpoint folder on this machine."""
    text = str(location)
    store = store if store is not None else get_host().settings.checkpoint_dir
    candidates = [Path(text).expanduser()]
    if not Path(text).is_absolute():
        candidates.append(store / text)
    for path in candidates:
        for folder in (path, path / "best", path / "last"):
            if is_checkpoint(folder):
                return folder
        if path.is_dir() and any(path.iterdir()):
            raise CheckpointError(f"{path} is not an archzoo checkpoint: it has no {CONFIG}")
    raise CheckpointError(f"no checkpoint at '{text}' (looked in {', '.join(str(c) for c in candidates)})")
