"""One training run from a name and settings: plan it, load its data, train it.

:func:`train` is what ``archzoo train``, the Train tab's queue, studies and
``archzoo.train`` all call.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from archzoo.checkpoints.layout import is_checkpoint
from archzoo.checkpoints.locate import output_dir
from archzoo.data.loading import load_dataset
from archzoo.data.tokenizers import load_tokenizer
from archzoo.data.types import TOKENIZER_FILE, data_options
from archzoo.errors import ArchzooError
from archzoo.registry.host import Host, get_host
from archzoo.registry.plans import RunPlan, fill_from_data, plan_run
from archzoo.training.resume import resumed_plan
from archzoo.training.trainer import Trainer


def train(
    name: str | None = None,
    *,
    dataset: str | None = None,
    overrides: dict[str, Any] | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    data_dir: str | Path | None = None,
    download: bool = False,
    on_event: Callable[[Any], None] | None = None,
    stop: threading.Event | None = None,
    host: Host | None = None,
):
    """Train an architecture or preset; returns the trainer's ``RunResult``."""
    host = host or get_host()
    store = host.settings.checkpoint_dir
    if resume:
        if out is None:
            raise ArchzooError("--resume needs --out: the run folder to continue")
        out_dir = output_dir(out, store)
        plan = resumed_plan(out_dir, name, overrides or {}, host)
    else:
        plan = plan_run(name, dataset=dataset, overrides=overrides, host=host)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        out_dir = output_dir(out or f"{plan.spec.name}-{Path(plan.dataset).name}-{stamp}", store)
        existing = [d for d in (out_dir, out_dir / "best", out_dir / "last") if is_checkpoint(d)]
        if existing and not overwrite:
            raise ArchzooError(
                f"{out_dir} already holds a checkpoint; pass --overwrite to replace it, or --resume to continue it"
            )

    options = data_options(
        plan.train_config,
        data_dir=Path(data_dir).expanduser() if data_dir else None,
        download=download,
        trained_tokenizer=run_tokenizer(plan, out_dir, resume=resume, download=download, host=host),
    )
    splits = load_dataset(plan.dataset, options, host=host)
    if plan.spec.task == "image-generation" and splits.info.task != plan.spec.task:
        # A generator trained on labelled images (labels unused) still generates: record that
        # task in the checkpoint, so the CLI and the UI treat it as an image generator.
        splits.info = dataclasses.replace(splits.info, task=plan.spec.task)
    config = fill_from_data(plan.config, splits.info)
    trainer = Trainer(
        plan.spec,
        config,
        plan.train_config,
        splits,
        plan.dataset,
        out_dir,
        host=host,
        on_event=on_event,
        stop=stop,
        resume=resume,
    )
    return trainer.run()


def run_tokenizer(plan: RunPlan, out_dir: Path, *, resume: bool, download: bool = False, host: Host) -> Any:
    """The tokenizer a run reads its text with, or None for the data layer to build one.

    A model on a pretrained encoder reads text with the encoder's own
    tokenizer (the ``text_tokenizer`` hook), also when resumed: that keeps the
    encoder's length limit, which the checkpoint's tokenizer.json does not
    record.  Any other resumed text run reads with the vocabulary it started
    with, saved in its last checkpoint."""
    own = host.hooks(plan.spec).text_tokenizer(plan.config, download)
    if own is not None or not resume:
        return own
    return _saved_tokenizer(out_dir / "last")


def _saved_tokenizer(folder: Path) -> Any:
    path = folder / TOKENIZER_FILE
    return load_tokenizer(path) if path.is_file() else None
