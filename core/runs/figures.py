"""Runs' curves overlaid in one picture (matplotlib, headless): the training loss at
every recorded step, the validation loss, and every other validation metric per epoch."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def comparison_figure(comparison: Any, path: Path) -> Path:
    """Draw ``comparison`` (:class:`archzoo.runs.compare.Comparison`) to a PNG at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = sorted(
        {m for p in comparison.progress.values() for r in p.epoch_rows for m in r["validation"]} - {"loss"}
    )
    panels = ["training loss (each recorded step)", "validation loss (each epoch)"]
    panels += [f"validation {m} (each epoch)" for m in metrics[:2]]
    figure, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.8), squeeze=False)
    colours = plt.get_cmap("tab10").colors
    for number, (name, progress) in enumerate(comparison.progress.items()):
        colour = colours[number % len(colours)]
        steps = progress.step_losses
        if steps:
            axes[0][0].plot([x for x, _ in steps], [y for _, y in steps], color=colour, linewidth=1.2, label=name)
        for axis, metric in zip(axes[0][1:], ["loss", *metrics[:2]]):
            points = [(r["epoch"], r["validation"][metric]) for r in progress.epoch_rows if metric in r["validation"]]
            if points:
                axis.plot(*zip(*points), color=colour, marker="o", markersize=3, linewidth=1.4, label=name)
    for axis, title in zip(axes[0], panels):
        axis.set_title(title, fontsize=10)
        axis.set_xlabel("epoch")
        axis.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8, loc="upper right")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
