"""``archzoo eval`` and ``archzoo report``: a checkpoint's numbers, and the trust report."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from archzoo.cli.output import checkpoint_argument, data_arguments, json_flag, table
from archzoo.errors import ArchzooError


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("eval", help="evaluate a checkpoint")
    checkpoint_argument(p)
    data_arguments(p)
    json_flag(p)
    _trust_arguments(p, "--trust: ")
    p.add_argument(
        "--trust",
        action="store_true",
        help="classifiers: also accuracy interval, per-class F1, calibration, out-of-distribution, shift and (images) "
        "FGSM, and a verdict (docs/evaluation.md)",
    )
    p.set_defaults(handler=evaluate)

    p = commands.add_parser(
        "report",
        help="judge a classifier: calibration, out-of-distribution, shift, verdict; a regression: R2, MSE, MAE and "
        "residuals; one HTML page",
    )
    checkpoint_argument(p)
    p.add_argument(
        "--out", metavar="DIR", help="also write the page and figures here (other files in DIR are left alone)"
    )
    p.add_argument(
        "--no-save",
        dest="save",
        action="store_false",
        help="leave the checkpoint as it is (by default its temperature, card and evaluation/ folder are updated)",
    )
    data_arguments(p, splits=("validation", "test"))
    _trust_arguments(p)
    json_flag(p, "print report.json's summary and verdict")
    p.set_defaults(handler=report)


def evaluate(args: argparse.Namespace) -> int:
    if args.trust:
        from archzoo.evaluation.trust import assess

        assessment = assess(
            args.checkpoint, dataset=args.dataset, split=args.split, data_dir=args.data_dir, **_trust_options(args)
        )
        _print_assessment(assessment, as_json=args.json)
        return 0
    from archzoo.api import evaluate_checkpoint

    metrics = evaluate_checkpoint(args.checkpoint, dataset=args.dataset, split=args.split, data_dir=args.data_dir)
    if args.json:
        print(json.dumps(metrics))
    else:
        table(("METRIC", args.split.upper()), [(k, f"{v:.4f}") for k, v in metrics.items()])
    return 0


def report(args: argparse.Namespace) -> int:
    from archzoo.evaluation.report import write_report
    from archzoo.inference.sampling import checkpoint_task

    if checkpoint_task(args.checkpoint) == "tabular-regression":
        return _regression_report(args)

    written = write_report(
        args.checkpoint,
        out=args.out,
        save=args.save,
        dataset=args.dataset,
        split=args.split,
        data_dir=args.data_dir,
        **_trust_options(args),
    )
    if args.json:
        data = written.assessment.to_dict()
        page = {"page": str(written.page), "summary": data["summary"], "verdict": data["verdict"]}
        print(json.dumps({**page, "notes": written.notes}))
        return 0
    _print_assessment(written.assessment, as_json=False, notes=written.notes)
    if written.checkpoint_updated:
        print(
            "checkpoint updated (weights untouched): temperature, model card, evaluation/ in "
            f"{written.assessment.checkpoint}"
        )
    print(f"report: {written.page}")
    return 0


def _regression_report(args: argparse.Namespace) -> int:
    """A regression's report: its metrics and residuals (the trust options are for classifiers)."""
    from archzoo.evaluation.regression_report import write_regression_report

    written = write_regression_report(
        args.checkpoint, out=args.out, save=args.save, dataset=args.dataset, split=args.split, data_dir=args.data_dir
    )
    if args.json:
        print(json.dumps({"page": str(written.page), "metrics": written.metrics, "notes": written.notes}))
        return 0
    table(("METRIC", args.split.upper()), [(k, f"{v:.4f}") for k, v in written.metrics.items()])
    for note in written.notes:
        print(f"note: {note}", file=sys.stderr)
    if written.checkpoint_updated:
        print(f"checkpoint updated (weights untouched): model card, evaluation/ in {written.checkpoint}")
    print(f"report: {written.page}")
    return 0


def _trust_arguments(p: argparse.ArgumentParser, prefix: str = "") -> None:
    p.add_argument(
        "--ood",
        metavar="DATASET",
        help=f"{prefix}out-of-distribution dataset (name or folder; default: mnist for fashion-mnist and back; "
        "'none': skip)",
    )
    p.add_argument(
        "--ood-data-dir", metavar="DIR", help=f"{prefix}folder that holds the out-of-distribution dataset's files"
    )
    p.add_argument(
        "--no-shift",
        dest="shift",
        action="store_false",
        help=f"{prefix}skip the rotation, noise and translation curves",
    )
    p.add_argument(
        "--max-shift",
        type=int,
        metavar="N",
        help=f"{prefix}images: translation curve from 0 to N pixels (default: a fifth of the image side, 6 on 28x28)",
    )
    p.add_argument("--no-fgsm", dest="fgsm", action="store_false", help=f"{prefix}skip the FGSM adversarial attack")
    p.add_argument(
        "--epsilons",
        metavar="E,E,...",
        help=f"{prefix}images: FGSM step sizes in pixel units, from 0 to 1 (default 0,0.05,0.1,0.2,0.3)",
    )
    p.add_argument(
        "--shift-examples",
        type=int,
        default=2000,
        metavar="N",
        help=f"{prefix}test examples for the shift and FGSM curves (a fixed-seed sample; 0: all; default 2000)",
    )
    p.add_argument(
        "--min-accuracy", type=float, metavar="A", help=f"{prefix}accuracy bar for the verdict (default 0.85)"
    )


def _trust_options(args: argparse.Namespace) -> dict[str, Any]:
    from archzoo.evaluation.verdict import Thresholds

    if args.shift_examples < 0:
        raise ArchzooError(f"--shift-examples must be 0 (all) or more, not {args.shift_examples}")
    if args.min_accuracy is not None and not 0.0 <= args.min_accuracy <= 1.0:
        raise ArchzooError(f"--min-accuracy must be between 0 and 1, not {args.min_accuracy}")
    if args.max_shift is not None and args.max_shift < 1:
        raise ArchzooError(f"--max-shift must be 1 pixel or more, not {args.max_shift}")
    thresholds = Thresholds(min_accuracy=args.min_accuracy) if args.min_accuracy is not None else Thresholds()
    options = {
        "ood": False if args.ood == "none" else args.ood,
        "ood_data_dir": args.ood_data_dir,
        "shift": args.shift,
        "max_shift": args.max_shift,
        "fgsm": args.fgsm,
        "shift_examples": args.shift_examples or None,
        "thresholds": thresholds,
    }
    if args.epsilons is not None:
        options["epsilons"] = _epsilons(args.epsilons)
    return options


def _epsilons(text: str) -> tuple[float, ...]:
    """``--epsilons 0,0.05,0.1``: step sizes in pixel units, each from 0 to 1."""
    values = []
    for part in text.split(","):
        try:
            value = float(part)
        except ValueError:
            raise ArchzooError(
                f"--epsilons takes numbers separated by commas (e.g. 0,0.05,0.1), and {part.strip()!r} is not one"
            ) from None
        if not 0.0 <= value <= 1.0:
            raise ArchzooError(
                f"--epsilons must each be from 0 to 1 (pixel units, pixels in [0, 1]), not {part.strip()}"
            )
        values.append(value)
    return tuple(values)


def _print_assessment(assessment: Any, *, as_json: bool, notes: list[str] | None = None) -> None:
    """An assessment as tables (or JSON): the numbers, per class (with each class's AUROC against
    the rest), then the verdict and its reasons."""
    from archzoo.checkpoints.card import trust_rows

    data = assessment.to_dict()
    if as_json:
        print(json.dumps(data))
        return
    table(("MEASURE", "VALUE"), trust_rows(data["summary"]))
    print()
    table(
        ("CLASS", "SUPPORT", "PRECISION", "RECALL", "F1", "AUROC"),
        [
            (r["class"], r["support"], *(_share(r.get(k)) for k in ("precision", "recall", "f1", "auroc")))
            for r in data["classes"]["per_class"]
        ],
    )
    verdict = data["verdict"]
    print(f"\nverdict: {verdict['verdict']}")
    for reason in verdict["reasons"]:
        print(f"  - {reason}")
    for note in notes if notes is not None else data["notes"]:
        print(f"note: {note}", file=sys.stderr)


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
