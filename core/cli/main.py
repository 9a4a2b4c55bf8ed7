"""The ``archzoo`` command line.

Every subcommand is a thin shell over :mod:`archzoo.api`; heavy modules
(torch, accelerate) are imported inside the subcommands that need them, so
``archzoo --help`` and ``archzoo list`` answer at once.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import Any

from archzoo.errors import ArchzooError

EPILOG = """examples:
  archzoo list
  archzoo info mlp
  archzoo train mlp --dataset digits
  archzoo train mlp-fashion-deep --set epochs=3 --out my-mlp
  archzoo eval my-mlp
  archzoo predict my-mlp shoe.png
  archzoo report my-mlp --out my-mlp-report
  archzoo predict my-rnn reviews.txt --text "a gorgeous, witty film"
  archzoo train bert-features --data-dir ../shared/data/sst2 --out my-probe
  archzoo embed my-probe texts.txt --out feats.safetensors
  archzoo generate my-gpt --prompt "the movie" --temperature 0.8 --top-k 20 --length 200
  archzoo sample my-ddpm --n 16 --seed 0 --steps 50 --out samples
  archzoo check mlp
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="archzoo",
        description="Train, evaluate and use classic neural architectures, each a plugin.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = commands.add_parser("list", help="architectures, presets and datasets that are installed")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = commands.add_parser("info", help="an architecture's or preset's config fields, recipe and size")
    p.add_argument("name", help="architecture or preset name")

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
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--merge",
        action="store_true",
        help="LoRA runs: also write the encoder with the adapter merged in, as a plain transformers model, to "
        "RUN/merged",
    )

    p = commands.add_parser("eval", help="evaluate a checkpoint")
    p.add_argument("checkpoint", help="checkpoint folder, run folder or name in the store")
    p.add_argument("--dataset", help="another dataset of the same task and input shape")
    p.add_argument("--split", default="test", choices=["train", "validation", "test"])
    p.add_argument("--data-dir", help="folder that holds the dataset's files")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _trust_arguments(p, "--trust: ")
    p.add_argument(
        "--trust",
        action="store_true",
        help="classifiers: also accuracy interval, per-class F1, calibration, out-of-distribution and shift, and a "
        "verdict (docs/evaluation.md)",
    )

    p = commands.add_parser(
        "report", help="judge a classifier: calibration, out-of-distribution, shift, verdict; one HTML page"
    )
    p.add_argument("checkpoint", help="checkpoint folder, run folder or name in the store")
    p.add_argument(
        "--out", metavar="DIR", help="also write the page and figures here (other files in DIR are left alone)"
    )
    p.add_argument(
        "--no-save",
        dest="save",
        action="store_false",
        help="leave the checkpoint as it is (by default its temperature, card and evaluation/ folder are updated)",
    )
    p.add_argument("--dataset", help="another dataset of the same task and input shape")
    p.add_argument("--split", default="test", choices=["validation", "test"])
    p.add_argument("--data-dir", help="folder that holds the dataset's files")
    _trust_arguments(p)
    p.add_argument("--json", action="store_true", help="print report.json's summary and verdict")

    p = commands.add_parser("predict", help="top-k classes for image files, rows of numbers, texts or graph nodes")
    p.add_argument("checkpoint", help="checkpoint folder, run folder or name in the store")
    p.add_argument(
        "inputs",
        nargs="*",
        metavar="FILE",
        help="image files (or 'x,y' rows for tabular models); for text models, text files read one text per line "
        "('-': standard input); "
        "for graph models, node indices of the training graph (none: every test node)",
    )
    p.add_argument(
        "--text",
        dest="texts",
        action="append",
        default=[],
        metavar="TEXT",
        help="a text to classify (text models; repeatable)",
    )
    p.add_argument("--top-k", type=int, default=3)
    p.add_argument(
        "--calibrated",
        action="store_true",
        help="use the temperature stored by 'archzoo report' (calibrated probabilities)",
    )
    p.add_argument("--temperature", type=float, metavar="T", help="divide the logits by T before the softmax")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = commands.add_parser("generate", help="continue a prompt with a text-generation checkpoint")
    p.add_argument("checkpoint", help="checkpoint folder, run folder or name in the store")
    p.add_argument("--prompt", default="", help="text to continue (default: start a new line)")
    p.add_argument("--temperature", type=float, default=1.0, help="below 1: safer, above 1: wilder (default 1.0)")
    p.add_argument("--top-k", type=int, default=0, help="draw each token from the k most likely only; 0: all (default)")
    p.add_argument("--length", type=int, default=200, help="tokens to generate (default 200)")
    p.add_argument("-n", "--num", type=int, default=1, help="how many continuations (default 1)")
    p.add_argument("--seed", type=int, help="make the draw repeatable")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = commands.add_parser(
        "embed", help="feature vectors of texts from a feature-extraction checkpoint, as safetensors"
    )
    p.add_argument("checkpoint", help="checkpoint folder, run folder or name in the store")
    p.add_argument("inputs", nargs="*", metavar="FILE", help="text files, one text per line ('-': standard input)")
    p.add_argument(
        "--text", dest="texts", action="append", default=[], metavar="TEXT", help="a text to embed (repeatable)"
    )
    p.add_argument(
        "--out",
        required=True,
        metavar="FILE.safetensors",
        help="where to write the features (N x D, tensor 'features')",
    )
    p.add_argument("--normalize", action="store_true", help="unit-length vectors (for cosine similarity)")
    p.add_argument("--batch-size", type=int, default=64, help="texts per encoder pass (default 64)")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")

    p = commands.add_parser(
        "sample", help="draw images from an image-generation checkpoint into a folder (grid.png + one PNG each)"
    )
    p.add_argument("checkpoint", help="checkpoint folder, run folder or name in the store")
    p.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="new or empty folder for grid.png and 000.png, 001.png, ... (never overwritten)",
    )
    p.add_argument("-n", "--n", dest="n", type=int, default=16, help="how many images (default 16)")
    p.add_argument("--seed", type=int, default=0, help="the same seed gives the same images (default 0)")
    p.add_argument(
        "--steps",
        type=int,
        default=0,
        help="sampling steps of an iterative sampler (ddpm: DDIM steps, 1..T); 0: the model's default",
    )
    p.add_argument(
        "--mode",
        default="sample",
        help="sample (default), reconstruct, interpolate, traverse, grid or walk: what each model offers is in "
        "docs/generative.md",
    )
    p.add_argument(
        "--sampler",
        choices=["ddim", "ddpm"],
        help="ddpm checkpoints: DDIM (default) or the ancestral DDPM sampler (all T steps)",
    )
    p.add_argument(
        "--input",
        dest="inputs",
        action="append",
        default=[],
        metavar="FILE",
        help="reconstruct / interpolate: an image to start from (repeatable); default: test images picked by --seed",
    )

    p = commands.add_parser("ui", help="open the browser app (train, evaluate, predict, manage checkpoints)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: this machine only)")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--auth", metavar="USER:PASS", help="require this user name and password")
    p.add_argument("--share", action="store_true", help="also open a public Gradio share link")

    p = commands.add_parser("check", help="run the plugin contract suite on an architecture")
    p.add_argument("name", help="architecture name")
    p.add_argument("pytest_args", nargs=argparse.REMAINDER, help="extra arguments for pytest")

    p = commands.add_parser("push", help="upload a checkpoint to the Hugging Face Hub (log in first: hf auth login)")
    p.add_argument("checkpoint", help="checkpoint folder, run folder or name in the store")
    p.add_argument("repo_id", metavar="REPO_ID", help="NAMESPACE/NAME of the model repository (created if needed)")
    p.add_argument("--private", action="store_true", help="create the repository as private")
    p.add_argument("--branch", help="push to this branch (created from main if new)")
    p.add_argument("--message", help="commit message")

    p = commands.add_parser("pull", help="download a checkpoint from the Hugging Face Hub into the cache")
    p.add_argument(
        "reference", metavar="REPO_ID[@REVISION]", help="repository, optionally @branch, @tag or @commit-sha"
    )
    p.add_argument("--to", metavar="DIR", help="put the files in DIR instead of the Hugging Face cache")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from archzoo.registry.host import archzoo_version

        print(f"archzoo {archzoo_version()}")
        return 0
    if not args.command:
        parser.print_help()
        return 0
    handler = globals()[f"cmd_{args.command}"]
    try:
        return handler(args) or 0
    except ArchzooError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


# -- subcommands ---------------------------------------------------------------------


def cmd_list(args: argparse.Namespace) -> int:
    from archzoo.registry.host import get_host

    host = get_host()
    archs = sorted(host.architectures.values(), key=lambda s: s.name)
    if args.json:
        print(
            json.dumps(
                {
                    "architectures": [
                        {
                            "name": s.name,
                            "task": s.task,
                            "parameters": s.parameters,
                            "plugin": s.plugin,
                            "distribution": s.distribution,
                            "version": s.version,
                            "summary": s.summary,
                        }
                        for s in archs
                    ],
                    "presets": [
                        {"name": p.name, "architecture": p.architecture, "dataset": p.dataset, "summary": p.summary}
                        for p in host.presets.values()
                    ],
                    "datasets": [
                        {"name": d.name, "task": d.task, "summary": d.summary} for d in host.datasets.values()
                    ],
                    "broken": [{"name": b.name, "distribution": b.distribution, "error": b.error} for b in host.broken],
                },
                indent=2,
            )
        )
        return 0
    rows = [(s.name, s.task, _count(s.parameters), f"{s.distribution} {s.version}".strip(), s.summary) for s in archs]
    _table(("ARCHITECTURE", "TASK", "PARAMS", "PLUGIN", "SUMMARY"), rows)
    if host.presets:
        print()
        _table(
            ("PRESET", "ARCHITECTURE", "DATASET", "SUMMARY"),
            [
                (p.name, p.architecture, p.dataset, p.summary)
                for p in sorted(host.presets.values(), key=lambda p: p.name)
            ],
        )
    print()
    _table(
        ("DATASET", "TASK", "SUMMARY"),
        [(d.name, d.task, d.summary) for d in sorted(host.datasets.values(), key=lambda d: d.name)],
    )
    if host.broken:
        print()
        _table(("BROKEN PLUGIN", "DISTRIBUTION", "ERROR"), [(b.name, b.distribution, b.error) for b in host.broken])
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from archzoo.api import plan_run, planned_parameters
    from archzoo.registry import config as config_module
    from archzoo.registry.host import get_host

    host = get_host()
    plan = plan_run(args.name, host=host)
    spec = plan.spec
    print(f"{spec.name}: {spec.summary}")
    print(f"  task:     {', '.join(spec.tasks)}")
    print(f"  plugin:   {spec.plugin} ({spec.distribution} {spec.version})")
    if spec.citation:
        print(f"  recipe:   {spec.citation}")
    if plan.preset:
        print(f"  preset:   {plan.preset.name}: {plan.preset.summary}")
    print(f"  dataset:  {plan.dataset}")
    print(f"  parameters: {_count(planned_parameters(args.name, host))} (on {plan.dataset})")
    print("\nmodel settings (--set KEY=VALUE):")
    _fields_table(config_module.fields(spec.config), config_module.to_dict(plan.config))
    print("\ntraining settings (--set KEY=VALUE):")
    _fields_table(config_module.fields(config_module.TrainConfig), config_module.to_dict(plan.train_config))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from archzoo.registry.config import parse_assignments
    from archzoo.training.launch import train

    overrides = parse_assignments(args.settings)
    if args.merge and not args.resume:
        _check_mergeable(args.name)
    progress = None if args.quiet else ProgressPrinter()
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
    if progress:
        progress.close()
    if not result.is_main_process:
        return 0 if result.status in ("finished", "stopped-early") else 1
    print(f"{result.status} in {result.seconds:.1f}s")
    if result.val_metrics:
        print("validation: " + _metrics_text(result.val_metrics))
    if result.test_metrics:
        print("test:       " + _metrics_text(result.test_metrics))
    print(f"best checkpoint: {result.best_dir}")
    print(f"last checkpoint: {result.last_dir}")
    if args.merge and result.best_dir is not None:
        from archzoo.checkpoints.merge import merge_adapter

        print(f"merged model:    {merge_adapter(result.best_dir, result.out_dir / 'merged')}")
    return 0 if result.status in ("finished", "stopped-early") else 1


def _check_mergeable(name: str | None) -> None:
    """--merge is for architectures that train a PEFT adapter: say so before training, not after."""
    from archzoo.registry.host import get_host

    host = get_host()
    spec, _ = host.resolve(name or host.settings.default_architecture)
    fields = {f.name for f in dataclasses.fields(spec.config)}
    if not {"r", "target_modules"} <= fields:
        raise ArchzooError(f"--merge is for LoRA runs (architecture 'lora'); '{spec.name}' trains no adapter to merge")


def cmd_eval(args: argparse.Namespace) -> int:
    from archzoo.evaluation.evaluate import evaluate_checkpoint

    if args.trust:
        from archzoo.evaluation.trust import assess

        assessment = assess(
            args.checkpoint, dataset=args.dataset, split=args.split, data_dir=args.data_dir, **_trust_options(args)
        )
        _print_trust(assessment, as_json=args.json)
        return 0
    metrics = evaluate_checkpoint(args.checkpoint, dataset=args.dataset, split=args.split, data_dir=args.data_dir)
    if args.json:
        print(json.dumps(metrics))
    else:
        _table(("METRIC", args.split.upper()), [(k, f"{v:.4f}") for k, v in metrics.items()])
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from archzoo.evaluation.report import write_report

    report = write_report(
        args.checkpoint,
        out=args.out,
        save=args.save,
        dataset=args.dataset,
        split=args.split,
        data_dir=args.data_dir,
        **_trust_options(args),
    )
    if args.json:
        data = report.assessment.to_dict()
        print(
            json.dumps(
                {
                    "page": str(report.page),
                    "summary": data["summary"],
                    "verdict": data["verdict"],
                    "notes": report.notes,
                }
            )
        )
        return 0
    _print_trust(report.assessment, as_json=False, notes=report.notes)
    if report.checkpoint_updated:
        print(
            "checkpoint updated (weights untouched): temperature, model card, evaluation/ in "
            f"{report.assessment.checkpoint}"
        )
    print(f"report: {report.page}")
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
    p.add_argument("--no-shift", dest="shift", action="store_false", help=f"{prefix}skip the rotation and noise curves")
    p.add_argument(
        "--shift-examples",
        type=int,
        default=2000,
        metavar="N",
        help=f"{prefix}test examples for the shift curves (a fixed-seed sample; 0: all; default 2000)",
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
    thresholds = Thresholds(min_accuracy=args.min_accuracy) if args.min_accuracy is not None else Thresholds()
    return {
        "ood": False if args.ood == "none" else args.ood,
        "ood_data_dir": args.ood_data_dir,
        "shift": args.shift,
        "shift_examples": args.shift_examples or None,
        "thresholds": thresholds,
    }


def _print_trust(assessment: Any, *, as_json: bool, notes: list[str] | None = None) -> None:
    """An assessment as tables (or JSON): the numbers, then the verdict and its reasons."""
    data = assessment.to_dict()
    if as_json:
        print(json.dumps(data))
        return
    s, verdict = data["summary"], data["verdict"]
    low, high = s["accuracy_ci95"]
    rows = [
        ("accuracy", f"{s['accuracy']:.4f}  (95% CI {low:.4f}-{high:.4f}, {s['test_examples']:,} examples)"),
        ("macro F1", f"{s['macro_f1']:.4f}" if s["macro_f1"] is not None else "n/a"),
    ]
    if s["train_accuracy"] is not None:
        rows.append(("train accuracy (sample)", f"{s['train_accuracy']:.4f}"))
    cal = s["calibration"]
    if cal.get("temperature") is not None:
        rows += [
            (
                "temperature",
                f"{cal['temperature']:.4f}  (fitted on {cal['validation_examples']:,} validation examples)",
            ),
            ("ECE before -> after", f"{cal['ece_before']:.4f} -> {cal['ece_after']:.4f}"),
            ("NLL before -> after", f"{cal['nll_before']:.4f} -> {cal['nll_after']:.4f}"),
        ]
    elif "ece_before" in cal:
        rows.append(("ECE", f"{cal['ece_before']:.4f}  (no temperature fitted)"))
    if s["ood"]:
        for score in ("msp", "energy"):
            if f"{score}_auroc" in s["ood"]:
                rows.append(
                    (
                        f"{score} vs {s['ood']['dataset']}",
                        f"AUROC {s['ood'][f'{score}_auroc']:.4f}, FPR@95%TPR {s['ood'][f'{score}_fpr95']:.4f}",
                    )
                )
    for key in ("rotation", "noise"):
        if s[key]:
            rows.append(
                (f"{key} accuracy", " ".join(f"{x:g}:{a:.3f}" for x, a in zip(s[key]["strengths"], s[key]["accuracy"])))
            )
    _table(("MEASURE", "VALUE"), rows)
    print()
    _table(
        ("CLASS", "SUPPORT", "PRECISION", "RECALL", "F1"),
        [
            (
                r["class"],
                r["support"],
                *(f"{r[k]:.3f}" if r[k] is not None else "n/a" for k in ("precision", "recall", "f1")),
            )
            for r in data["classes"]["per_class"]
        ],
    )
    print(f"\nverdict: {verdict['verdict']}")
    for reason in verdict["reasons"]:
        print(f"  - {reason}")
    for note in notes if notes is not None else data["notes"]:
        print(f"note: {note}", file=sys.stderr)


def cmd_predict(args: argparse.Namespace) -> int:
    from archzoo.inference.classify import predict
    from archzoo.inference.sampling import checkpoint_task

    task = checkpoint_task(args.checkpoint)
    if task == "node-classification":
        return _predict_nodes(args)
    if task == "text-classification":
        inputs = [*args.texts, *_text_lines(args.inputs)]
        if not inputs:
            raise ArchzooError("give texts to classify: --text TEXT, or files with one text per line")
    else:
        if args.texts:
            raise ArchzooError("--text is for text classifiers; this checkpoint takes image files or rows of numbers")
        if not args.inputs:
            raise ArchzooError("give at least one input FILE")
        inputs = args.inputs
    results, notes = predict(
        args.checkpoint, inputs, top_k=args.top_k, calibrated=args.calibrated, temperature=args.temperature
    )
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    if args.json:
        print(
            json.dumps(
                [{"input": i, "top_k": [{"label": l, "probability": p} for l, p in r]} for i, r in zip(inputs, results)]
            )
        )
        return 0
    for item, ranked in zip(inputs, results):
        shown = item if len(item) <= 60 else item[:57] + "..."
        print(f"{shown}: " + ", ".join(f"{label} {p:.3f}" for label, p in ranked))
    return 0


def _predict_nodes(args: argparse.Namespace) -> int:
    """Classes of nodes of a graph checkpoint's own graph (FILE arguments are node indices)."""
    from archzoo.inference.classify import classify_nodes

    if args.texts:
        raise ArchzooError("--text is for text classifiers; a node-classification checkpoint takes node indices")
    found = classify_nodes(args.checkpoint, args.inputs)
    rows = list(zip(found.nodes, found.splits, found.true_classes, found.predicted, found.probabilities))
    if args.json:
        print(json.dumps([{"node": n, "split": s, "true": t, "label": p, "probability": q} for n, s, t, p, q in rows]))
        return 0
    for node, split, true, predicted, probability in rows:
        print(f"node {node} ({split}): {predicted} {probability:.3f}, true {true}")
    which = f"{len(rows)} node(s)" if args.inputs else f"every test node ({len(rows)})"
    print(f"{which}: accuracy {found.accuracy:.4f}")
    return 0


def _text_lines(files: list[str]) -> list[str]:
    """The non-blank lines of each file ('-' is standard input), one text each."""
    from pathlib import Path

    texts = []
    for name in files:
        if name == "-":
            lines = sys.stdin.read().splitlines()
        else:
            path = Path(name)
            if not path.is_file():
                raise ArchzooError(f"{path}: no such file")
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except UnicodeDecodeError:
                raise ArchzooError(f"{path} is not UTF-8 text: give a text file, one text per line") from None
        found = [line.strip() for line in lines if line.strip()]
        if not found:
            raise ArchzooError(f"{name} holds no text: write one text per line")
        texts += found
    return texts


def cmd_generate(args: argparse.Namespace) -> int:
    from archzoo.inference.generation import generate_text

    texts = generate_text(
        args.checkpoint,
        args.prompt,
        temperature=args.temperature,
        max_length=args.length,
        n=args.num,
        top_k=args.top_k,
        seed=args.seed,
    )
    if args.json:
        print(json.dumps({"prompt": args.prompt, "texts": texts}))
        return 0
    for number, text in enumerate(texts, start=1):
        if len(texts) > 1:
            print(f"--- {number} ---")
        print(text)
    return 0


def cmd_embed(args: argparse.Namespace) -> int:
    from archzoo.inference.features import embed_to_file

    texts = [*_text_lines(args.inputs), *args.texts]
    if not texts:
        raise ArchzooError("give texts to embed: files with one text per line, or --text TEXT")
    result = embed_to_file(
        args.checkpoint, texts, args.out, normalize=args.normalize, batch_size=args.batch_size, overwrite=args.overwrite
    )
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"wrote {result.count} x {result.dim} features to {result.path}")
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    from pathlib import Path

    from archzoo.inference.generation import sample_checkpoint_images, write_images
    from archzoo.toolkit.generative import SampleError

    out = Path(args.out).expanduser()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise SampleError(f"--out {out} already holds files; give a new or empty folder (nothing was overwritten)")
    result = sample_checkpoint_images(
        args.checkpoint,
        n=args.n,
        seed=args.seed,
        steps=args.steps,
        mode=args.mode,
        sampler=args.sampler,
        inputs=args.inputs,
    )
    for note in result.outputs.get("notes", []):
        print(f"note: {note}", file=sys.stderr)
    written = write_images(result, out)
    extra = (
        f", {result.outputs['sampler']} sampler, {result.outputs['steps']} steps" if "sampler" in result.outputs else ""
    )
    print(f"{len(written) - 1} image(s), mode {result.outputs.get('mode', args.mode)}, seed {args.seed}{extra}")
    print(f"grid: {written[0]}")
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    auth = None
    if args.auth:
        user, sep, password = args.auth.partition(":")
        if not sep or not user or not password:
            raise ArchzooError("--auth takes USER:PASS")
        auth = (user, password)
    from archzoo.ui.app import launch

    launch(host=args.host, port=args.port, auth=auth, share=args.share)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from archzoo.testing import run_contract_suite

    return run_contract_suite(args.name, args.pytest_args)


def cmd_push(args: argparse.Namespace) -> int:
    from archzoo.checkpoints.hub import push_to_hub

    commit = push_to_hub(args.checkpoint, args.repo_id, private=args.private, branch=args.branch, message=args.message)
    print(f"pushed to {args.repo_id}@{args.branch or 'main'}: commit {getattr(commit, 'oid', '') or commit}")
    print(f"use it with: archzoo pull {args.repo_id}, or hf://{args.repo_id} wherever a checkpoint is expected")
    print(str(commit))
    return 0


def cmd_pull(args: argparse.Namespace) -> int:
    from archzoo.checkpoints.hub import describe, installed_hint, parse_reference, pull

    folder = pull(args.reference, to=args.to)
    meta = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    print(f"{parse_reference(args.reference)}: {describe(meta)}")
    hint = installed_hint(meta)
    if hint:
        print(f"note: {hint}", file=sys.stderr)
    print(folder)
    return 0


# -- output helpers ------------------------------------------------------------------


class ProgressPrinter:
    """Turns training events into a terminal progress bar and one line per epoch."""

    def __init__(self) -> None:
        self.bar = None

    def __call__(self, event: Any) -> None:
        from tqdm.auto import tqdm

        from archzoo.runs import events

        if isinstance(event, events.RunStarted):
            print(
                f"training {event.architecture} on {event.dataset}: {event.parameters:,} parameters "
                f"({event.trainable_parameters:,} trainable{_share(event)}), {event.epochs} epochs x "
                f"{event.steps_per_epoch} steps, "
                f"{event.device}, {event.num_processes} process(es)"
            )
            print(f"writing to {event.out_dir}")
            self.bar = tqdm(total=event.total_steps, initial=event.resumed_from_step, unit="step", dynamic_ncols=True)
        elif isinstance(event, events.StepEnded) and self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(
                epoch=event.epoch + 1,
                loss=f"{event.metrics.get('loss', float('nan')):.4f}",
                ex_s=f"{event.examples_per_second:,.0f}",
                refresh=False,
            )
        elif isinstance(event, events.EpochEnded):
            line = f"epoch {event.epoch}: train {_metrics_text(event.train_metrics)}"
            if event.val_metrics:
                line += f" | validation {_metrics_text(event.val_metrics)}"
            line += f" | {event.seconds:.1f}s" + (" *best*" if event.is_best else "")
            self._write(line)
        elif isinstance(event, events.Message):
            self._write(event.text)

    def _write(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(text)
        else:
            print(text)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _share(event: Any) -> str:
    """ ", 0.33%" when only part of the model trains (a frozen encoder, LoRA)."""
    if event.trainable_parameters >= event.parameters or not event.parameters:
        return ""
    return f", {100.0 * event.trainable_parameters / event.parameters:.2f}%"


def _count(n: int | None) -> str:
    return "?" if n is None else f"{n:,}"


def _metrics_text(metrics: dict[str, float]) -> str:
    return " ".join(f"{k} {v:.4f}" for k, v in metrics.items())


def _fields_table(described: list, current: dict[str, Any]) -> None:
    rows = []
    for f in described:
        value = current.get(f.name)
        shown = "from dataset" if f.from_data else json.dumps(value)
        rows.append((f.name, f.type_name, shown, f.allowed, f.help))
    _table(("  NAME", "TYPE", "VALUE", "ALLOWED", "HELP"), [("  " + r[0], *r[1:]) for r in rows])


def _table(header: tuple[str, ...], rows: list[tuple]) -> None:
    rows = [tuple("" if c is None else str(c) for c in r) for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    for row in (header, *rows):
        cells = [c.ljust(w) for c, w in zip(row[:-1], widths[:-1])] + [row[-1]]
        print("  ".join(cells).rstrip())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
