"""``archzoo eval``: a checkpoint's own ``evaluate`` hook on a split of its data
(or of another dataset of the same task and input shape)."""

from __future__ import annotations

from pathlib import Path

from archzoo.checkpoints.io import load
from archzoo.inference.data import evaluation_loader
from archzoo.registry.host import Host, get_host
from archzoo.training.context import EvalContext


def evaluate_checkpoint(
    location: str | Path,
    *,
    dataset: str | None = None,
    split: str = "test",
    data_dir: str | Path | None = None,
    download: bool = False,
    batch_size: int = 512,
    host: Host | None = None,
) -> dict[str, float]:
    """Evaluate a checkpoint on a split of its own dataset, or of another of the same task and shape."""
    host = host or get_host()
    loaded = load(location, host=host)
    loader = evaluation_loader(
        loaded, batch_size=batch_size, dataset=dataset, split=split, data_dir=data_dir, download=download, host=host
    )
    ctx = EvalContext(device=next(loaded.model.parameters()).device, info=loaded.info, tokenizer=loaded.tokenizer)
    return host.hooks(loaded.spec).evaluate(loaded.model, loader, ctx)
