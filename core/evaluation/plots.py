"""The trust report's figures, drawn with matplotlib, each saved twice: as a
PNG for people and as JSON (the numbers the figure shows) for scripts.

Figures are built with ``matplotlib.figure.Figure`` and its Agg canvas
directly, never through ``pyplot``: no global backend or figure registry is
touched, so drawing works headless (a server, CI) and from the browser app's
worker threads at the same time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: matplotlib's default colour cycle, named where a figure needs fixed colours.
BLUE, ORANGE, GREEN, RED = "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"


def _figure(width: float, height: float, columns: int = 1, rows: int = 1):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = [figure.add_subplot(rows, columns, i + 1) for i in range(rows * columns)]
    return figure, axes


def save(figure: Any, data: dict[str, Any], folder: Path, name: str) -> dict[str, str]:
    """Write ``name.png`` and ``name.json`` into ``folder``; returns their file names."""
    folder.mkdir(parents=True, exist_ok=True)
    figure.savefig(folder / f"{name}.png", format="png")
    (folder / f"{name}.json").write_text(json.dumps({"figure": name, **data}, indent=1) + "\n", encoding="utf-8")
    return {"png": f"{name}.png", "json": f"{name}.json"}


def reliability_diagram(
    before: dict[str, Any], after: dict[str, Any] | None = None, temperature: float | None = None, title: str = ""
):
    """Accuracy per confidence bin against the diagonal of perfect calibration,
    before (and after) temperature scaling, with the bins' counts beneath."""
    panels = [("before scaling (T = 1)", before, BLUE)]
    if after is not None:
        panels.append((f"after temperature scaling (T = {temperature:.3f})", after, GREEN))
    figure, axes = _figure(5.2 * len(panels), 4.6, len(panels))
    for axis, (label, data, colour) in zip(axes, panels):
        bins = data["bins"]
        centres = [(b["low"] + b["high"]) / 2 for b in bins]
        width = bins[0]["high"] - bins[0]["low"]
        accuracy = [b["accuracy"] or 0.0 for b in bins]
        confidence = [b["confidence"] if b["confidence"] is not None else c for b, c in zip(bins, centres)]
        axis.bar(
            centres, accuracy, width=width * 0.95, color=colour, alpha=0.8, edgecolor="white", label="accuracy in bin"
        )
        gaps = [c - a if b["count"] else 0.0 for a, c, b in zip(accuracy, confidence, bins)]
        axis.bar(
            centres,
            gaps,
            bottom=accuracy,
            width=width * 0.95,
            color=RED,
            alpha=0.25,
            hatch="//",
            edgecolor=RED,
            label="gap to mean confidence",
        )
        axis.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
        axis.set(
            xlim=(0, 1),
            ylim=(0, 1),
            xlabel="confidence (top-class probability)",
            ylabel="accuracy",
            title=f"{label}\nECE {data['ece']:.4f} on {data['examples']:,} examples",
        )
        for c, b in zip(centres, bins):
            if b["count"]:
                axis.text(c, 0.02, str(b["count"]), ha="center", va="bottom", fontsize=7, rotation=90, color="black")
        axis.legend(loc="upper left", fontsize=8)
    if title:
        figure.suptitle(title)
    return figure


def ood_figure(in_name: str, out_name: str, results: dict[str, dict[str, Any]], title: str = ""):
    """For each score: the histograms of in- and out-of-distribution scores; then both ROC curves."""
    names = list(results)
    figure, axes = _figure(4.4 * (len(names) + 1), 4.0, len(names) + 1)
    for axis, name in zip(axes, names):
        hist = results[name]["histogram"]
        edges = hist["edges"]
        centres = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:])]
        width = edges[1] - edges[0]
        # Shares, not counts: the two sets may differ in size by orders of magnitude.
        for key, colour, label in (
            ("in_distribution", BLUE, f"{in_name} (in)"),
            ("out_of_distribution", ORANGE, f"{out_name} (out)"),
        ):
            total = max(sum(hist[key]), 1)
            axis.bar(centres, [c / total for c in hist[key]], width=width, alpha=0.55, color=colour, label=label)
        axis.axvline(results[name]["threshold"], color="black", linestyle=":", label="95% TPR threshold")
        axis.set(
            xlabel=f"{name} score (higher: more in-distribution)",
            ylabel="share of the set",
            title=f"{name}: AUROC {results[name]['auroc']:.3f}, FPR@95 {results[name]['fpr_at_95_tpr']:.3f}",
        )
        axis.legend(fontsize=8)
    roc = axes[-1]
    for name, colour in zip(names, (BLUE, GREEN, RED, ORANGE)):
        roc.plot(
            results[name]["roc"]["fpr"],
            results[name]["roc"]["tpr"],
            color=colour,
            label=f"{name} (AUROC {results[name]['auroc']:.3f})",
        )
    roc.plot([0, 1], [0, 1], "--", color="grey", label="chance")
    roc.axhline(0.95, color="black", linestyle=":", linewidth=0.8)
    roc.set(
        xlim=(0, 1),
        ylim=(0, 1.01),
        xlabel=f"false-positive rate ({out_name} accepted)",
        ylabel=f"true-positive rate ({in_name} accepted)",
        title="ROC",
    )
    roc.legend(fontsize=8, loc="lower right")
    if title:
        figure.suptitle(title)
    return figure


#: The shift figure's panels, and how each names its axis and title.
SHIFT_KINDS = ("rotation", "noise", "translation", "fgsm")
_SHIFT_WORDS = {
    "translation": ("translation (pixels; mean of right, left, down, up)", "accuracy under translation"),
    "fgsm": ("FGSM step ε (pixels in [0, 1])", "accuracy under the FGSM attack"),
}


def shift_figure(curves: dict[str, dict[str, dict[str, Any]]], kinds: tuple[str, ...] = SHIFT_KINDS, title: str = ""):
    """Accuracy against shift strength, one line per model, one panel per shift kind (two
    panels a row when there are more than two).

    ``curves``: model label -> shift kind -> a :class:`archzoo.evaluation.shift.Curve` as a dict
    (the FGSM attack's curve is drawn as one more kind, ``"fgsm"``)."""
    present = [k for k in kinds if any(k in per for per in curves.values())] or list(kinds[:1])
    columns = len(present) if len(present) <= 2 else 2
    rows = -(-len(present) // columns)
    figure, axes = _figure(5.0 * columns, 4.2 * rows, columns, rows)
    for spare in axes[len(present) :]:
        spare.set_visible(False)
    markers = "osD^v<>"
    for axis, kind in zip(axes, present):
        unit = ""
        for i, (label, per) in enumerate(curves.items()):
            if kind not in per:
                continue
            curve = per[kind]
            unit = curve["unit"]
            axis.plot(curve["strengths"], curve["accuracy"], marker=markers[i % len(markers)], label=label)
        xlabel, heading = _SHIFT_WORDS.get(kind, (f"{kind} ({unit})" if unit else kind, f"accuracy under {kind}"))
        axis.set(xlabel=xlabel, ylabel="test accuracy", ylim=(0, 1.02), title=heading)
        if kind == "rotation":
            axis.set_xticks([0, 15, 30, 45, 60, 75, 90])
        if kind == "translation":
            axis.xaxis.get_major_locator().set_params(integer=True)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    if title:
        figure.suptitle(title)
    return figure


def confusion_figure(class_names: list[str], counts: list[list[int]], title: str = ""):
    """The confusion matrix as a heat map of each true class's share, with counts in the cells."""
    size = len(class_names)
    figure, (axis,) = _figure(max(4.5, 0.55 * size + 2.5), max(4.0, 0.5 * size + 2.0))
    shares = [[c / max(sum(row), 1) for c in row] for row in counts]
    image = axis.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for t in range(size):
        for p in range(size):
            if counts[t][p]:
                axis.text(
                    p,
                    t,
                    str(counts[t][p]),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if shares[t][p] > 0.5 else "black",
                )
    short = [n if len(n) <= 12 else n[:11] + "…" for n in class_names]
    axis.set_xticks(range(size), short, rotation=60, ha="right", fontsize=8)
    axis.set_yticks(range(size), short, fontsize=8)
    axis.set(xlabel="predicted class", ylabel="true class", title=title or "confusion matrix")
    figure.colorbar(image, ax=axis, label="share of the true class")
    return figure


def roc_figure(roc: dict[str, Any], title: str = ""):
    """ROC curves of a classifier's classes (:func:`archzoo.evaluation.metrics.roc_scores`):
    the single curve of a binary classifier, or each class against the rest, with their AUROC."""
    from matplotlib import colormaps

    curves = roc["curves"]
    figure, (axis,) = _figure(6.4 if len(curves) > 2 else 5.0, 5.0)
    colours = colormaps["tab10" if len(curves) <= 10 else "tab20"]
    for i, (name, curve) in enumerate(curves.items()):
        label = f"{name} (AUROC {roc['per_class'][name]:.3f})"
        if roc["method"] == "binary":
            label = f"positive class {label}"
        axis.plot(curve["fpr"], curve["tpr"], color=colours(i % colours.N), linewidth=1.2, label=label)
    axis.plot([0, 1], [0, 1], "--", color="grey", label="chance")
    macro = roc["macro_auroc"]
    summary = "no class has a ROC curve here" if macro is None else f"AUROC {macro:.3f}"
    if roc["method"] != "binary" and macro is not None:
        summary = f"macro AUROC {macro:.3f} (one-vs-rest)"
    axis.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="false-positive rate", ylabel="true-positive rate", title=summary)
    if title:
        figure.suptitle(title)
    axis.legend(fontsize=7, loc="lower right", ncol=2 if len(curves) > 10 else 1)
    return figure


def fgsm_figure(attack: dict[str, Any], title: str = ""):
    """The FGSM attack (:meth:`archzoo.evaluation.adversarial.Attack.to_dict`): accuracy against ε,
    and for each example shown its original, the perturbation (red brighter, blue darker) and the
    adversarial image, each with the model's answer."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    shown = attack["shown"]
    figure = Figure(figsize=(11.0, max(4.2, 1.9 * len(shown) + 0.8)), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    left, right = figure.subfigures(1, 2, width_ratios=(1.0, 1.25))
    curve = attack["fgsm"]
    axis = left.add_subplot(1, 1, 1)
    axis.plot(curve["strengths"], curve["accuracy"], marker="o", color=RED)
    axis.set(
        xlabel="FGSM step ε (pixels in [0, 1])",
        ylabel="accuracy on attacked images",
        ylim=(0, 1.02),
        title=f"accuracy under FGSM, {curve['examples']:,} examples",
    )
    axis.grid(alpha=0.3)
    if shown:
        grid = right.subplots(len(shown), 3, squeeze=False)
        for row, example in zip(grid, shown):
            epsilon = example["epsilon"]
            original, adversarial = _image(example["original"]), _image(example["adversarial"])
            change = adversarial - original
            change = change.mean(axis=2) if change.ndim == 3 else change
            row[0].imshow(original, cmap="gray", vmin=0, vmax=1)
            row[0].set_title(
                f"{example['label']}: read {example['clean_prediction']} ({example['clean_probability']:.2f})",
                fontsize=8,
            )
            row[1].imshow(change, cmap="RdBu_r", vmin=-max(epsilon, 1e-6), vmax=max(epsilon, 1e-6))
            row[1].set_title(f"+ perturbation, ε = {epsilon:g}", fontsize=8)
            row[2].imshow(adversarial, cmap="gray", vmin=0, vmax=1)
            row[2].set_title(
                f"= read {example['adversarial_prediction']} ({example['adversarial_probability']:.2f})",
                fontsize=8,
                color=RED if example["fooled"] else "black",
            )
            for cell in row:
                cell.set_xticks([])
                cell.set_yticks([])
    if title:
        figure.suptitle(title)
    return figure


def _image(pixels: list):
    """C x H x W nested lists -> an array imshow takes (H x W for one channel, H x W x 3 for colour)."""
    import numpy as np

    array = np.asarray(pixels, dtype=float)
    return array[0] if array.shape[0] == 1 else array.transpose(1, 2, 0).clip(0, 1)
