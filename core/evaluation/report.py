"""``archzoo report``: one HTML page that judges a classifier checkpoint, and
the same figures and verdict added to its model card.

The page (``report.html``) shows the verdict and its reasons, the thresholds
they come from, accuracy with its interval, per-class precision / recall /
F1 / AUROC (scikit-learn's) with the classes' ROC curves, the confusion
matrix, the reliability diagrams before and after temperature scaling, the
out-of-distribution score histograms and ROC curves, the shift curves
(rotation, noise, translation) and, for images, the FGSM attack's curve and
examples.
Every figure is a PNG beside the page and the same numbers as JSON
(``NAME.json``); ``report.json`` holds everything.

Where it goes:

- into the checkpoint's ``evaluation/`` folder, with the fitted temperature
  and a summary in ``config.json`` and the model card
  (:func:`archzoo.checkpoints.amend.amend_checkpoint`: atomic, weights untouched), unless
  ``save=False``;
- into ``out`` too, when given.  A folder that already holds other files keeps
  them: only the report's own file names are written, and if one of them is
  there but not from an earlier archzoo report, nothing is written and the
  error names it.
"""

from __future__ import annotations

import html
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archzoo.checkpoints.card import trust_rows
from archzoo.checkpoints.layout import EVALUATION_DIR
from archzoo.errors import ArchzooError
from archzoo.evaluation import plots
from archzoo.evaluation.trust import Assessment, assess, calibration_entry
from archzoo.evaluation.verdict import RULES
from archzoo.files import staged_file
from archzoo.registry.host import Host, get_host

REPORT_FORMAT = "archzoo-report"
PAGE = "report.html"
DATA = "report.json"


class ReportOutputError(ArchzooError):
    """The report's output folder holds files the report would overwrite."""


@dataclass
class Report:
    """What :func:`write_report` made."""

    assessment: Assessment
    page: Path  # report.html (in the checkpoint's evaluation/ folder, or in out)
    files: list[str]
    checkpoint_updated: bool
    notes: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> dict[str, Any]:
        return self.assessment.verdict()


def report_destination(
    location: str | Path, save: bool, out: str | Path | None, host: Host
) -> tuple[bool, Path | None, list[str]]:
    """Where a report goes, decided before the work: (into the checkpoint?, the folder ``out``
    or None, notes). A checkpoint that cannot be amended (on the Hub, read-only) is left as it
    is when ``out`` is given, else refused; the output folder is checked at once."""
    from archzoo.checkpoints.amend import NotAmendableError, local_folder

    notes: list[str] = []
    if save:
        try:
            local_folder(location, host=host)
        except NotAmendableError as exc:
            if out is None:
                raise NotAmendableError(f"{exc}; or write the report elsewhere only: --out DIR --no-save") from None
            notes.append(f"the checkpoint was left as it is: {exc}")
            save = False
    if not save and out is None:
        raise ArchzooError("with --no-save, say where the report goes: --out DIR")
    out_dir = Path(out).expanduser() if out is not None else None
    if out_dir is not None:
        _check_output(out_dir)  # fail before the work, not after
    return save, out_dir, notes


def write_report(
    location: str | Path,
    *,
    out: str | Path | None = None,
    save: bool = True,
    host: Host | None = None,
    **assess_options: Any,
) -> Report:
    """Assess ``location`` (:func:`archzoo.evaluation.trust.assess` takes ``assess_options``),
    draw the figures, write the page; store it all in the checkpoint (``save``)
    and/or in ``out``."""
    host = host or get_host()
    save, out_dir, notes = report_destination(location, save, out, host)

    assessment = assess(location, host=host, **assess_options)
    staging = Path(tempfile.mkdtemp(prefix="archzoo-report-"))
    try:
        figures = render_figures(assessment, staging)
        data = assessment.to_dict()
        data["figures"] = figures
        (staging / DATA).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        (staging / PAGE).write_text(render_html(assessment, figures), encoding="utf-8")
        files = sorted(p.name for p in staging.iterdir())
        updates: dict[str, Any] = {"trust": card_summary(assessment, figures)}
        if assessment.temperature is not None:
            updates["calibration"] = calibration_entry(assessment.calibration["fit"])
        page, updated = deliver(staging, files, assessment.checkpoint, updates if save else None, out_dir, host)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Report(
        assessment=assessment, page=page, files=files, checkpoint_updated=updated, notes=notes + assessment.notes
    )


# -- figures --------------------------------------------------------------------------------


def render_figures(assessment: Assessment, folder: Path) -> dict[str, dict[str, str]]:
    """Draw every figure into ``folder`` (PNG + JSON each); returns name -> file names."""
    label = f"{assessment.architecture} on {assessment.dataset} ({assessment.split})"
    figures: dict[str, dict[str, str]] = {}
    matrix = assessment.classes["confusion_matrix"]
    figures["confusion"] = plots.save(
        plots.confusion_figure(matrix["class_names"], matrix["counts"], f"confusion matrix: {label}"),
        {
            "class_names": matrix["class_names"],
            "counts": matrix["counts"],
            "rows": "true class",
            "columns": "predicted class",
        },
        folder,
        "confusion",
    )
    roc = assessment.classes.get("roc")
    if roc and roc["curves"]:
        figures["roc"] = plots.save(
            plots.roc_figure(roc, f"ROC: {label}"), {**roc, "measured_on": assessment.split}, folder, "roc"
        )
    cal = assessment.calibration
    figures["reliability"] = plots.save(
        plots.reliability_diagram(
            cal["test_before"], cal.get("test_after"), cal.get("temperature"), f"reliability: {label}"
        ),
        {
            "before": cal["test_before"],
            "after": cal.get("test_after"),
            "temperature": cal.get("temperature"),
            "bin_width": 0.1,
            "fitted_on": "validation split",
            "measured_on": assessment.split,
        },
        folder,
        "reliability",
    )
    if assessment.ood:
        ood = assessment.ood
        figures["ood"] = plots.save(
            plots.ood_figure(
                ood["in_dataset"],
                ood["dataset"],
                ood["scores"],
                f"out-of-distribution: {ood['in_dataset']} (in) vs {ood['dataset']} (out)",
            ),
            ood,
            folder,
            "ood",
        )
    adversarial = assessment.adversarial
    if assessment.shift:  # with the attack's curve as one more panel, so one picture compares them all
        curves = {**assessment.shift, **({"fgsm": adversarial["fgsm"]} if adversarial else {})}
        figures["shift"] = plots.save(
            plots.shift_figure({assessment.architecture: curves}, title=f"accuracy under shift: {label}"),
            {"models": {assessment.architecture: curves}},
            folder,
            "shift",
        )
    if adversarial:
        figures["fgsm"] = plots.save(
            plots.fgsm_figure(adversarial, title=f"adversarial examples (FGSM): {label}"), adversarial, folder, "fgsm"
        )
    return figures


def card_summary(assessment: Assessment, figures: dict[str, dict[str, str]]) -> dict[str, Any]:
    """What ``config.json`` keeps under ``trust`` for the model card: headline numbers, verdict, figure paths."""
    verdict = assessment.verdict()
    return {
        **assessment.summary(),
        "created": assessment.created,
        "verdict": verdict["verdict"],
        "reasons": verdict["reasons"],
        "thresholds": verdict["thresholds"],
        "figures": {name: f"{EVALUATION_DIR}/{files['png']}" for name, files in figures.items()},
        "report": f"{EVALUATION_DIR}/{PAGE}",
        "notes": assessment.notes,
    }


# -- the page -------------------------------------------------------------------------------

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; padding-bottom: .2em; }
table { border-collapse: collapse; margin: .6em 0; }
td, th { border: 1px solid #ccc; padding: .25em .6em; text-align: right; }
th { background: #f4f4f4; } td:first-child, th:first-child { text-align: left; }
.verdict { padding: .8em 1.2em; border-radius: 6px; font-size: 1.1em; margin: 1em 0; }
.ship { background: #e6f4ea; border: 1px solid #2ca02c; } .collect { background: #fff4e0; border: 1px solid #ff7f0e; }
.redesign { background: #fde8e8; border: 1px solid #d62728; }
img { max-width: 100%; border: 1px solid #eee; } .note { color: #555; font-size: .92em; }
"""


def render_html(assessment: Assessment, figures: dict[str, dict[str, str]]) -> str:
    """The report page; figures are referenced by file name (they sit beside it)."""
    e = html.escape
    s = assessment.summary()
    v = assessment.verdict()
    css = {"ship": "ship", "collect more data": "collect", "redesign": "redesign"}[v["verdict"]]
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>archzoo report: {e(assessment.architecture)} on {e(assessment.dataset)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Should this model ship? {e(assessment.architecture)} on {e(assessment.dataset)}</h1>",
        f'<p class="note">Checkpoint <code>{e(assessment.checkpoint)}</code>, measured on the {e(assessment.split)} '
        "split "
        f"({s['test_examples']:,} examples), {e(assessment.created)}.</p>",
        f'<div class="verdict {css}"><strong>Verdict: {e(v["verdict"])}</strong><ul>'
        + "".join(f"<li>{e(r)}</li>" for r in v["reasons"])
        + "</ul></div>",
    ]
    if v["verdict"] != "ship" and v["passed"]:
        parts.append("<p>What it does pass:</p><ul>" + "".join(f"<li>{e(r)}</li>" for r in v["passed"]) + "</ul>")

    parts += ["<h2>Numbers</h2>", _table(("measure", "value"), trust_rows(s))]

    # classes
    classes = assessment.classes
    with_auroc = classes.get("roc") is not None
    per_class = [
        (
            r["class"],
            str(r["support"]),
            _f(r["precision"]),
            _f(r["recall"]),
            _f(r["f1"]),
            *((_f(r.get("auroc")),) if with_auroc else ()),
            r.get("note", ""),
        )
        for r in classes["per_class"]
    ]
    averages = [
        (kind, _f(classes.get(f"{kind}_precision")), _f(classes.get(f"{kind}_recall")), _f(classes.get(f"{kind}_f1")))
        for kind in ("macro", "weighted")
    ]
    header = ("class", "support", "precision", "recall", "F1", *(("AUROC",) if with_auroc else ()), "note")
    parts += [
        "<h2>Per class</h2>",
        "<p>Precision, recall, F1 and their averages are scikit-learn's (<code>precision_recall_fscore_support</code>"
        f"), over every class in the split or the predictions ({len(classes.get('averaged_over', []))} here); "
        f"a ratio with nothing to divide by counts as {classes.get('zero_division', 0):g}, so a class the model "
        "never predicts pulls the macro F1 down. AUROC: each class against the rest (<code>roc_auc_score</code>"
        "), from the predicted probabilities.</p>",
        _table(header, per_class),
        _table(("average", "precision", "recall", "F1"), averages),
    ]
    roc = classes.get("roc")
    if roc:
        macro = "n/a" if roc["macro_auroc"] is None else f"{roc['macro_auroc']:.4f}"
        what = (
            f"AUROC ({e(str(roc['positive_class']))} the positive class)"
            if roc["method"] == "binary"
            else "macro AUROC (one-vs-rest, the mean over the classes with a curve)"
        )
        parts.append(f"<p>{what}: <strong>{macro}</strong>.</p>")
        if roc["undefined"]:
            parts.append(
                '<p class="note">No ROC curve for: '
                + "; ".join(f"{e(name)}: {e(why)}" for name, why in roc["undefined"].items())
                + ".</p>"
            )
        parts.append(
            _figure(figures, "roc", "ROC curves: true-positive against false-positive rate as the threshold falls.")
        )
    parts.append(
        _figure(
            figures,
            "confusion",
            "Confusion matrix: rows are true classes, columns predictions; colour is the share of the true class.",
        )
    )

    # calibration
    parts.append("<h2>Calibration</h2>")
    parts.append(
        "<p>Confidences fall into bins of width 0.1; ECE is the sum over bins of |B|/N × |accuracy − confidence|. "
        "The temperature is one scalar dividing the logits, fitted by negative log-likelihood on the validation split "
        "(no retraining, predictions unchanged); ECE and NLL are then measured on the test split.</p>"
    )
    if assessment.calibration.get("error"):
        parts.append(f'<p class="note">No temperature: {e(assessment.calibration["error"])}</p>')
    parts.append(
        _figure(
            figures,
            "reliability",
            "Reliability diagrams: bars are the accuracy in each confidence bin, hatched the gap to its mean "
            "confidence; the dashed diagonal is perfect calibration.",
        )
    )

    # OOD
    parts.append("<h2>Out-of-distribution inputs</h2>")
    if assessment.ood:
        o = assessment.ood
        parts.append(
            f"<p>In-distribution: the {e(o['in_dataset'])} {e(assessment.split)} split ({o['in_examples']:,}); "
            f"out-of-distribution: {e(o['dataset'])} ({o['examples']:,}). Scores: maximum softmax probability (MSP) "
            "and negative energy (log-sum-exp of the logits); higher means more in-distribution. "
            "AUROC: chance an in-distribution input outscores a foreign one. FPR at 95% TPR: the share of foreign "
            "inputs accepted at the threshold that keeps 95% of in-distribution ones.</p>"
        )
        parts.append(
            _table(
                ("score", "AUROC", "FPR at 95% TPR", "threshold"),
                [
                    (k, f"{r['auroc']:.4f}", f"{r['fpr_at_95_tpr']:.4f}", f"{r['threshold']:.4f}")
                    for k, r in o["scores"].items()
                ],
            )
        )
        parts.append(_figure(figures, "ood", "Score histograms (dotted: the 95% TPR threshold) and ROC curves."))
    else:
        parts.append('<p class="note">Not measured: no out-of-distribution set was given.</p>')

    # shift
    parts.append("<h2>Distribution shift</h2>")
    if assessment.shift:
        for kind, curve in assessment.shift.items():
            if kind == "translation":
                parts.append(
                    "<h3>Translation</h3><p>The image moved by whole pixels, the strip that comes in filled with the "
                    "background; at each distance the mean accuracy over the four directions (right, left, down, up). "
                    "Convolution commutes with translation, so a CNN with pooling keeps its accuracy longer than an "
                    "MLP, which sees each pixel position as a different input.</p>"
                )
            parts.append(f"<p>{e(kind)} ({e(curve['unit'])}), {curve['examples']:,} examples:</p>")
            parts.append(
                _table(
                    (kind, "accuracy"), [(f"{x:g}", f"{a:.4f}") for x, a in zip(curve["strengths"], curve["accuracy"])]
                )
            )
        parts.append(
            _figure(
                figures,
                "shift",
                "Accuracy against rotation angle, additive Gaussian noise, translation and (last) the FGSM step.",
            )
        )
    else:
        parts.append('<p class="note">Not measured for this model.</p>')

    # adversarial examples
    parts.append("<h2>Adversarial examples (FGSM)</h2>")
    if assessment.adversarial:
        curve = assessment.adversarial["fgsm"]
        parts.append(
            "<p>The fast gradient sign method moves every pixel by ε in the direction that raises the loss of the "
            "true class: x + ε·sign(∇<sub>x</sub> loss), clipped to [0, 1]. ε is in pixel units (pixels in [0, 1]) "
            "and the step is taken before the model's normalisation. Accuracy that falls at a small ε, a change "
            "hardly visible, means the decision boundaries pass close to the data: the model agrees with the "
            f"labels on natural images but not around them. {curve['examples']:,} examples:</p>"
        )
        parts.append(
            _table(("ε", "accuracy"), [(f"{x:g}", f"{a:.4f}") for x, a in zip(curve["strengths"], curve["accuracy"])])
        )
        parts.append(
            _figure(
                figures,
                "fgsm",
                "Accuracy against ε; examples the model reads right, each at the smallest ε that changes its answer "
                "(the largest if none does): the original, the perturbation (red: brighter, blue: darker) and the "
                "adversarial image with the model's answers and confidences.",
            )
        )
    else:
        parts.append('<p class="note">Not measured for this model (see the notes).</p>')

    # thresholds and rules
    t = v["thresholds"]
    parts += [
        "<h2>How the verdict is decided</h2>",
        "<p>Rules are checked in this order; the first group with a hit decides (redesign before collect more data "
        "before ship). "
        "The thresholds are archzoo's defaults for a demo or course model (see docs/evaluation.md); stricter uses "
        "need stricter ones.</p>",
        _table(("verdict", "rule"), [tuple(rule) for rule in RULES]),
        _table(("threshold", "value"), [(k, f"{val:g}") for k, val in t.items()]),
    ]
    if assessment.notes:
        parts += [
            "<h2>Notes</h2>",
            "<ul>" + "".join(f'<li class="note">{e(n)}</li>' for n in assessment.notes) + "</ul>",
        ]
    parts.append(
        '<p class="note">Every figure\'s numbers are in the JSON file of the same name; all numbers in report.json.</p>'
    )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _table(header: tuple[str, ...], rows: list[tuple]) -> str:
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figure(figures: dict[str, dict[str, str]], name: str, caption: str) -> str:
    if name not in figures:
        return ""
    png, data = figures[name]["png"], figures[name]["json"]
    return (
        f'<figure><img src="{html.escape(png)}" alt="{html.escape(caption)}">'
        f'<figcaption class="note">{html.escape(caption)} Data: <a '
        f'href="{html.escape(data)}">{html.escape(data)}</a>.</figcaption></figure>'
    )


def _f(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


# -- output folder ----------------------------------------------------------------------------

#: Every file name a report may write (figures that a model lacks are simply absent).
REPORT_FILES = (
    PAGE,
    DATA,
    *(
        f"{n}.{x}"
        for n in ("confusion", "roc", "reliability", "ood", "shift", "fgsm", "residuals")
        for x in ("png", "json")
    ),
)


def _is_earlier_report(folder: Path) -> bool:
    try:
        return json.loads((folder / DATA).read_text(encoding="utf-8")).get("format") == REPORT_FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def _check_output(folder: Path) -> None:
    """Refuse a folder holding files the report would overwrite, unless an earlier archzoo report wrote them."""
    if folder.exists() and not folder.is_dir():
        raise ReportOutputError(f"--out {folder} is a file, not a folder")
    if not folder.is_dir() or _is_earlier_report(folder):
        return
    taken = [name for name in REPORT_FILES if (folder / name).exists()]
    if taken:
        raise ReportOutputError(
            f"{folder} already holds {', '.join(taken)}, not from an archzoo report; nothing was written. "
            "Choose another --out folder (other files in a folder are left alone)"
        )


def deliver(
    staging: Path,
    files: list[str],
    checkpoint: Path,
    meta_updates: dict[str, Any] | None,
    out_dir: Path | None,
    host: Host,
) -> tuple[Path | None, bool]:
    """Store a staged report's ``files`` in the checkpoint with ``meta_updates`` (None: leave it
    as it is) and/or in ``out_dir``; (the page to open, whether the checkpoint was updated)."""
    from archzoo.checkpoints.amend import amend_checkpoint

    page, updated = None, False
    if meta_updates is not None:
        folder = amend_checkpoint(
            checkpoint,
            meta_updates=meta_updates,
            evaluation_files={name: (staging / name).read_bytes() for name in files},
            host=host,
        )
        page, updated = folder / EVALUATION_DIR / PAGE, True
    if out_dir is not None:
        _place(staging, out_dir, files)
        page = out_dir / PAGE
    return page, updated


def _place(staging: Path, folder: Path, files: list[str]) -> None:
    """Move the report's files into ``folder``, each by an atomic rename; other files stay.
    A figure an earlier report had but this one lacks is removed, so the folder never mixes two reports."""
    _check_output(folder)
    folder.mkdir(parents=True, exist_ok=True)
    earlier = _is_earlier_report(folder)
    for name in files:
        with staged_file(folder / name) as temporary:
            shutil.copyfile(staging / name, temporary)
    if earlier:
        for name in set(REPORT_FILES) - set(files):
            (folder / name).unlink(missing_ok=True)
