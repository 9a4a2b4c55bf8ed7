"""LoRA on SST-2 with the offline all-MiniLM-L6-v2, and LoRA against full fine-tuning (issue #5).

Measures, in one run:

1. Quality: the ``lora-sst2`` preset (r = 8 on query and value, one epoch on
   SST-2's training set less 10% validation, batch 32, AdamW 1e-3) through
   ``archzoo.train``; dev accuracy on the 872 dev sentences (the test split).
   Target: >= 0.87.  ``--skip-train`` leaves it out.
2. LoRA against full fine-tuning of the same encoder and head: trainable
   parameters, median step time over ``--steps`` optimisation steps on the
   same SST-2 batches (batch 32), peak resident memory of a process that
   builds the model and takes those steps (each variant in its own process),
   and the checkpoint's size (LoRA: archzoo's checkpoint with the adapter;
   full: every weight as safetensors).  Target: the adapter file under 2% of
   the full checkpoint.

    python benchmarks/lora.py [--data-dir ../shared/data/sst2] [--steps 30] [--skip-train]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "sst2"


def train_preset(data_dir: Path, store: Path) -> dict:
    from archzoo.api import train

    started = time.perf_counter()
    result = train("lora-sst2", data_dir=str(data_dir), out=str(store / "lora-sst2"))
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "val": result.val_metrics.get("accuracy"),
        "test": result.test_metrics.get("accuracy"),
        "steps": sum(1 for _ in result.step_losses),
        "best": str(result.best_dir),
    }


def variant(kind: str, data_dir: Path, steps: int, out: Path) -> dict:
    """One variant, measured in this (fresh) process: build, train ``steps`` steps, save."""
    import resource

    import torch
    import torch.nn.functional as F
    from safetensors.torch import save_file

    from archzoo.checkpoints.io import write_checkpoint
    from archzoo.checkpoints.meta import build_meta
    from archzoo.data import DataInfo
    from archzoo.data.text import pad_ids, read_table
    from archzoo.registry.config import TrainConfig, build_config
    from archzoo.registry.host import get_host
    from archzoo.toolkit.encoders import (
        load_tokenizer,
        pool,
        resolve_encoder,
        with_special_tokens,
    )

    torch.manual_seed(0)
    spec = get_host().architecture("lora")
    config = build_config(spec.config, {})
    model = get_host().hooks(spec).build_model(config)
    if kind == "full":
        # The same encoder and head, every weight trained: undo LoRA, unfreeze everything.
        encoder = model.encoder.unload()
        encoder.requires_grad_(True)

        class Full(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.encoder, self.head, self.tokenizer, self.pooling = (
                    encoder,
                    model.head,
                    model.tokenizer,
                    model.pooling,
                )

            def forward(self, ids):
                framed, mask = with_special_tokens(
                    ids, self.tokenizer.cls_id, self.tokenizer.sep_id, self.tokenizer.max_tokens
                )
                return self.head(
                    pool(self.encoder(input_ids=framed, attention_mask=mask).last_hidden_state, mask, self.pooling)
                )

        model = Full()
    model.train()
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=1e-4 if kind == "full" else 1e-3
    )
    tokenizer = load_tokenizer(resolve_encoder(config.encoder))
    table = read_table(data_dir / "train.tsv")
    times = []
    for step in range(steps):
        rows = range(step * 32, step * 32 + 32)
        ids = pad_ids([tokenizer.encode(table.texts[i])[: tokenizer.max_tokens] or [100] for i in rows])
        labels = torch.tensor([int(table.labels[i]) for i in rows])
        started = time.perf_counter()
        loss = F.cross_entropy(model(ids), labels)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - started)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.mkdir(parents=True, exist_ok=True)
    if kind == "full":
        path = out / "model.safetensors"
        save_file({k: v.detach().contiguous() for k, v in model.state_dict().items()}, path)
        sizes = {"checkpoint": path.stat().st_size, "adapter": None}
    else:
        info = DataInfo("sst2", "text-classification", (), 2, ("negative", "positive"))
        meta = build_meta(
            spec=spec,
            config=config,
            train_config=TrainConfig(),
            info=info,
            dataset="sst2",
            metrics={},
            parameters=total,
        )
        folder = write_checkpoint(out / "lora", model, meta)
        sizes = {
            "checkpoint": sum(p.stat().st_size for p in folder.iterdir()),
            "adapter": (folder / "adapter_model.safetensors").stat().st_size,
        }
    return {
        "kind": kind,
        "trainable": trainable,
        "total": total,
        "step_ms": 1000 * statistics.median(times[2:] or times),
        "peak_mb": peak_mb,
        **sizes,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--skip-train", action="store_true")
    parser.add_argument(
        "--variant", choices=["lora", "full"], help=argparse.SUPPRESS
    )  # one measurement, in a child process
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        print(json.dumps(variant(args.variant, args.data_dir, args.steps, args.out)))
        return 0
    import torch

    print(
        f"# lora benchmark: {platform.machine()}, {os.cpu_count()} CPUs (no GPU), torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads\n"
    )
    with tempfile.TemporaryDirectory(prefix="archzoo-bench-lora-") as folder:
        rows = []
        for kind in ("lora", "full"):
            done = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--variant",
                    kind,
                    "--steps",
                    str(args.steps),
                    "--data-dir",
                    str(args.data_dir),
                    "--out",
                    str(Path(folder) / kind),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(f"{kind}: {rows[-1]}", flush=True)
        lora, full = rows
        print(
            "\n| all-MiniLM-L6-v2 + head, batch 32 | trainable parameters | step time (ms, median, CPU) | peak memory "
            "(MB RSS) | checkpoint size |"
        )
        print("|---|---|---|---|---|")
        for row in rows:
            size = f"{row['checkpoint'] / 2**20:.2f} MB" + (
                f" (adapter file {row['adapter'] / 2**10:.0f} KB)" if row["adapter"] else ""
            )
            name = "LoRA r=8 (query, value)" if row["kind"] == "lora" else "full fine-tuning"
            print(
                f"| {name} | {row['trainable']:,} of {row['total']:,} ({100 * row['trainable'] / row['total']:.2f}%) | "
                f"{row['step_ms']:.0f} | {row['peak_mb']:.0f} | {size} |"
            )
        print(
            f"\nadapter file / full checkpoint: {100 * lora['adapter'] / full['checkpoint']:.2f}% (target < 2%); "
            f"step time LoRA / full: {lora['step_ms'] / full['step_ms']:.2f}\n"
        )
        if not args.skip_train:
            print("training lora-sst2 (one epoch on the full training set, CPU) ...", flush=True)
            result = train_preset(args.data_dir, Path(folder) / "runs")
            print("\n| preset | steps | wall time (CPU) | validation accuracy | dev accuracy (872) |")
            print("|---|---|---|---|---|")
            print(
                f"| lora-sst2 | {result['steps']:,} | {result['seconds'] / 60:.1f} min | {result['val']:.4f} | "
                f"{result['test']:.4f} |"
            )
            print("\ntarget: dev accuracy >= 0.87")
    return 0


if __name__ == "__main__":
    sys.exit(main())
