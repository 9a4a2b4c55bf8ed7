"""``archzoo report`` on a regression: R^2, MSE and MAE on a split, and the residuals, as one page.

A regression has no classes to be calibrated or confused, so its report is the metrics
of its ``evaluate`` hook and the ``residuals`` view (the fit over x, or predicted against
true, and each residual), written as ``report.html`` beside ``residuals.png``,
``residuals.json`` and ``report.json``.  It goes where a classifier's report goes
(:mod:`archzoo.evaluation.report`): the checkpoint's ``evaluation/`` folder, with a
summary under ``regression`` in ``config.json`` (weights untouched), and/or ``out``.
"""

from __future__ import annotations

import html
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archzoo.checkpoints.io import load
from archzoo.checkpoints.layout import EVALUATION_DIR
from archzoo.evaluation.evaluate import evaluate_checkpoint
from archzoo.evaluation.report import DATA, PAGE, REPORT_FORMAT, deliver, report_destination
from archzoo.inference.regression import loaded_regression, residuals
from archzoo.inference.views.residuals import draw_residuals
from archzoo.registry.host import Host, get_host


@dataclass
class RegressionReport:
    """What :func:`write_regression_report` made."""

    checkpoint: Path
    metrics: dict[str, float]
    page: Path | None
    files: list[str]
    checkpoint_updated: bool
    notes: list[str] = field(default_factory=list)


def write_regression_report(
    location: str | Path,
    *,
    out: str | Path | None = None,
    save: bool = True,
    dataset: str | None = None,
    split: str = "test",
    data_dir: str | Path | None = None,
    host: Host | None = None,
) -> RegressionReport:
    """Evaluate a regression checkpoint on ``split``, draw its residuals, write the page; store it in the
    checkpoint (``save``) and/or in ``out``."""
    host = host or get_host()
    save, out_dir, notes = report_destination(location, save, out, host)

    loaded = loaded_regression(load(location, host=host), host)
    metrics = evaluate_checkpoint(loaded.path, dataset=dataset, split=split, data_dir=data_dir, host=host)
    found = residuals(loaded, dataset=dataset, split=split, host=host)
    title = f"{loaded.spec.name} on {found.dataset}"
    data = {
        "format": REPORT_FORMAT,
        "task": "tabular-regression",
        "checkpoint": str(loaded.path),
        "architecture": loaded.spec.name,
        "dataset": found.dataset,
        "split": split,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "metrics": metrics,
        "figures": {"residuals": {"png": "residuals.png", "json": "residuals.json"}},
    }
    figure_data = {"names": found.names, "true": found.true.tolist(), "predicted": found.predicted.tolist()}
    staging = Path(tempfile.mkdtemp(prefix="archzoo-report-"))
    try:
        (staging / "residuals.png").write_bytes(draw_residuals(found, title))
        (staging / "residuals.json").write_text(json.dumps(figure_data) + "\n", encoding="utf-8")
        (staging / DATA).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        (staging / PAGE).write_text(render_html(data, title), encoding="utf-8")
        files = sorted(p.name for p in staging.iterdir())
        summary = {
            **{k: metrics[k] for k in ("r2", "mse", "mae") if k in metrics},
            "split": split,
            "created": data["created"],
            "figures": {"residuals": f"{EVALUATION_DIR}/residuals.png"},
            "report": f"{EVALUATION_DIR}/{PAGE}",
        }
        page, updated = deliver(staging, files, loaded.path, {"regression": summary} if save else None, out_dir, host)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return RegressionReport(loaded.path, metrics, page, files, updated, notes)


def render_html(data: dict[str, Any], title: str) -> str:
    """The page: the metrics' table and the residuals figure."""
    e = html.escape
    rows = "".join(f"<tr><td>{e(k)}</td><td>{v:.4f}</td></tr>" for k, v in data["metrics"].items())
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)}</title></head><body>"
        f"<h1>{e(title)}</h1><p>{e(data['split'])} split of {e(data['dataset'])}, {e(data['created'])}.</p>"
        f"<table><thead><tr><th>metric</th><th>value</th></tr></thead><tbody>{rows}</tbody></table>"
        "<p>R\u00b2 = 1 - SS_res / SS_tot (1: every variation of the target explained; 0: no better than "
        "predicting its mean); MSE and MAE in the target's own units.</p>"
        "<figure><img src='residuals.png' alt='residuals'><figcaption>The fit and each residual (true - "
        "predicted). Data: <a href='residuals.json'>residuals.json</a>.</figcaption></figure></body></html>\n"
    )
