"""One training run from a name and settings: plan it, load its data, train it.

:func:`train` is what ``archzoo train``, the Train tab's queue, studies and
``archzoo.train`` all call.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from archzoo.checkpoints.locate import output_dir
from archzoo.checkpoints.replace import check_run_folder, recover_run_folder, retire_run_checkpoints
from archzoo.data.loading import load_dataset
from archzoo.data.tokenizers import load_tokenizer
from archzoo.data.types import TOKENIZER_FILE, data_options
from archzoo.errors import ArchzooError
from archzoo.files import name_in
from archzoo.registry import config as config_module
from archzoo.registry.host import Host, get_host
from archzoo.registry.plans import RunPlan, fill_from_data, plan_run
from archzoo.registry.specs import task_on
from archzoo.runs.lock import RunLock
from archzoo.runs.record import RecordWriter, record_folder
from archzoo.training.resume import resumed_plan
from archzoo.training.trackers import check_installed
from archzoo.training.trainer import EpochWatch, Trainer, TrainingInterrupted


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
    stop_early: Callable[[Any], str | None] | None = None,
    watch: Callable[..., EpochWatch | None] | None = None,
    host: Host | None = None,
    record: RecordWriter | None = None,
    tags: tuple[str, ...] = (),
    note: str = "",
):
    """Train an architecture or preset; returns the trainer's ``RunResult``.

    The run's record (:mod:`archzoo.runs.record`) is written as it goes, by
    the main process; ``record`` is one already begun (the app's queue begins
    it when the run is queued), otherwise this begins it, with ``tags`` and ``note``.
    ``stop_early`` is asked after each epoch with its ``EpochEnded``: a reason ends
    the run as ``stopped-early``, as patience does (a study's pruner uses it).
    ``watch(spec, config, splits, out_dir, host)`` gives the function the trainer hands
    the model after each epoch, or None (:func:`archzoo.inference.views.live.watcher`,
    which ``archzoo.api.train`` passes, keeps the live views in the run)."""
    host = host or get_host()
    plan, out_dir = plan_and_folder(
        name, dataset, overrides or {}, out, resume, overwrite, host, locked=record is not None
    )
    owned = record is None and _main_process()
    if owned:
        record = open_record(plan, out_dir, overrides or {}, resume=resume, host=host, tags=tags, note=note)
    try:
        if record is not None and record.data["status"] == "queued":
            record.start()
        if record is not None and overwrite and not resume:
            retire_run_checkpoints(out_dir)  # the old run goes as a whole, now that this one owns the folder
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
        if record is not None:
            record.data_read(config_module.to_dict(config), task_on(plan.spec, splits.info.task))
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
            stop_early=stop_early,
            watch=watch(plan.spec, config, splits, out_dir, host) if watch is not None and _main_process() else None,
            resume=resume,
            record=record,
            summary=plan.preset.summary if plan.preset else None,
        )
        return trainer.run()
    except TrainingInterrupted:
        raise  # the record already says so: the trainer ended the run as interrupted
    except KeyboardInterrupt:
        if record is not None:
            record.fail("stopped by Ctrl-C before a checkpoint could be saved", status="interrupted")
        raise
    except BaseException as exc:
        if record is not None:
            record.fail(str(exc) if isinstance(exc, ArchzooError) else f"{type(exc).__name__}: {exc}")
        raise
    finally:
        if owned and record is not None:
            record.close()


def plan_and_folder(
    name: str | None,
    dataset: str | None,
    overrides: dict[str, Any],
    out: str | Path | None,
    resume: bool,
    overwrite: bool,
    host: Host,
    *,
    locked: bool = False,
) -> tuple[RunPlan, Path]:
    """The run's plan and its folder, checked: a resumable run to continue, or a folder a
    new run may take (:func:`archzoo.checkpoints.replace.check_run_folder`).

    A swap a kill interrupted is put right first, under the run's lock (``locked``:
    the caller already holds it); a folder another process is writing is refused."""
    store = host.settings.checkpoint_dir
    if resume:
        if out is None:
            raise ArchzooError("--resume needs --out: the run folder to continue")
        out_dir = output_dir(out, store)
        _recover(out_dir, locked)
        plan = resumed_plan(out_dir, name, overrides, host)
        check_installed(plan.train_config.log_with)
        return plan, out_dir
    plan = plan_run(name, dataset=dataset, overrides=overrides, host=host)
    check_installed(plan.train_config.log_with)
    out_dir = output_dir(out or fresh_name(plan, store), store)
    check_run_folder(out_dir, overwrite=overwrite)
    _recover(out_dir, locked)
    return plan, out_dir


def _recover(out_dir: Path, locked: bool) -> None:
    """Recover ``out_dir``'s interrupted swaps while holding its lock (main process only)."""
    if not out_dir.is_dir() or not _main_process():
        return
    if locked:
        recover_run_folder(out_dir)
        return
    with RunLock(out_dir):
        recover_run_folder(out_dir)


def fresh_name(plan: RunPlan, store: Path) -> str:
    """``ARCH-DATASET-YYYYmmdd-HHMMSS``, made unique in the store: the folder of a run nobody named."""
    base = f"{plan.spec.name}-{Path(plan.dataset).name[:60]}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    name, n = base, 2
    while (store / name).exists():
        name, n = f"{base}-{n}", n + 1
    return name


def open_record(
    plan: RunPlan,
    out_dir: Path,
    overrides: dict[str, Any],
    *,
    resume: bool,
    host: Host,
    status: str = "running",
    tags: tuple[str, ...] = (),
    note: str = "",
) -> RecordWriter:
    """Begin (or, resuming, continue) the record of the run ``plan`` describes in ``out_dir``;
    the record's lock makes a second writer of the same folder fail here, before any work."""
    if resume and record_folder(out_dir) is not None:
        return RecordWriter.resume(out_dir, overrides=overrides, status=status)
    spec = plan.spec
    return RecordWriter.begin(
        out_dir,
        name=name_in(out_dir, host.settings.checkpoint_dir),
        architecture=spec.name,
        preset=plan.preset.name if plan.preset else None,
        dataset=plan.dataset,
        task=task_on(spec, getattr(host.datasets.get(plan.dataset), "task", None)),
        config=config_module.to_dict(plan.config),
        train=config_module.to_dict(plan.train_config),
        overrides=overrides,
        plugin={"name": spec.plugin, "distribution": spec.distribution, "version": spec.version},
        directions=dict(spec.metrics),
        status=status,
        tags=tags,
        note=note,
    )


def _main_process() -> bool:
    """Only the first process of a torchrun / accelerate launch writes the record."""
    return os.environ.get("RANK", "0") == "0"


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
