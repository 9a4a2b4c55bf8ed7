"""``archzoo train``: one run, with a progress bar and the same log lines the app shows."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from archzoo.errors import ArchzooError


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("train", help="train an architecture or preset")
    p.add_argument("name", nargs="?", help="architecture or preset (default: from registry.toml)")
    p.add_argument("--dataset", help="dataset name, or the path of an image folder")
    p.add_argument(
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a model or training setting (repeatable; see 'archzoo info NAME')",
    )
    p.add_argument("--out", help="run folder: a name inside the checkpoint store, or an absolute path")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    p.add_argument("--overwrite", action="store_true", help="replace checkpoints already in --out")
    p.add_argument("--data-dir", help="folder that holds the dataset's files")
    p.add_argument(
        "--download", action="store_true", help="allow downloading the dataset (or a Hub encoder) if it is not found"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar and no log: only the result")
    p.add_argument(
        "--log-with",
        choices=["tensorboard", "trackio", "mlflow", "wandb"],
        help="also send the metrics to this tracker (files in RUN/trackers); same as --set log_with=NAME",
    )
    p.add_argument(
        "--merge",
        action="store_true",
        help="LoRA runs: also write the encoder with the adapter merged in, as a plain transformers model, to "
        "RUN/merged",
    )
    p.set_defaults(handler=train)


def train(args: argparse.Namespace) -> int:
    from archzoo.api import train
    from archzoo.registry.config import parse_assignments

    overrides = parse_assignments(args.settings)
    if args.log_with:
        overrides["log_with"] = args.log_with
    if args.merge and not args.resume:
        _check_mergeable(args.name)
    progress = ProgressPrinter(quiet=args.quiet)
    try:
        result = train(
            args.name,
            dataset=args.dataset,
            overrides=overrides,
            out=args.out,
            resume=args.resume,
            overwrite=args.overwrite,
            data_dir=args.data_dir,
            download=args.download,
            on_event=progress,
        )
    finally:
        progress.close()
    if result.is_main_process and args.merge and result.best_dir is not None:
        from archzoo.checkpoints.merge import merge_adapter, what_loads

        merged = merge_adapter(result.best_dir, result.out_dir / "merged")
        print(f"merged model:    {merged}\n                 {what_loads(merged)}")
    return 0 if result.status in ("finished", "stopped-early") else 1


def _check_mergeable(name: str | None) -> None:
    """--merge is for architectures that train a PEFT adapter: say so before training, not after."""
    from archzoo.registry.host import get_host

    host = get_host()
    spec, _ = host.resolve(name or host.settings.default_architecture)
    fields = {f.name for f in dataclasses.fields(spec.config)}
    if not {"r", "target_modules"} <= fields:
        raise ArchzooError(f"--merge is for LoRA runs (architecture 'lora'); '{spec.name}' trains no adapter to merge")


class ProgressPrinter:
    """Training events as a terminal progress bar and the log lines of
    :func:`archzoo.runs.progress.describe_event` (the app's log reads the same).
    ``quiet``: only the result at the end."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.bar = None

    def __call__(self, event: Any) -> None:
        from archzoo.runs import events
        from archzoo.runs.progress import describe_event

        if isinstance(event, events.StepEnded):
            if self.bar is not None:
                self.bar.update(event.step - self.bar.n)  # steps are reported every log_every
                self.bar.set_postfix(
                    epoch=event.epoch + 1,
                    loss=f"{event.metrics.get('loss', float('nan')):.4f}",
                    ex_s=f"{event.examples_per_second:,.0f}",
                    refresh=False,
                )
            return
        if self.quiet and not isinstance(event, events.RunEnded):
            return
        if isinstance(event, events.RunEnded):
            self.close()
        line = describe_event(event)
        if line:
            self._write(line)
        if isinstance(event, events.RunStarted) and not self.quiet:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=event.total_steps, initial=event.resumed_from_step, unit="step", dynamic_ncols=True)

    def _write(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(text)
        else:
            print(text, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
