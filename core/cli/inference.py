"""Using a checkpoint: ``predict``, ``generate``, ``embed`` and ``sample``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from archzoo.cli.output import checkpoint_argument, json_flag, notes, text_arguments, text_lines
from archzoo.errors import ArchzooError


def top_k(text: str) -> int:
    """``--top-k`` of predict: archzoo's limit as argparse's usage error."""
    from archzoo.registry.limits import LimitError, check_top_k

    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    try:
        return check_top_k(number)
    except LimitError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def top_k_or_all(text: str) -> int:
    """``--top-k`` of generate: 0 (all tokens) or a count."""
    return 0 if text.strip() == "0" else top_k(text)


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "predict",
        help="top-k classes for image files, rows of numbers, texts or graph nodes; values of a regression; the output "
        "sequence of an input sequence (--text '3 1 4 1 5')",
    )
    checkpoint_argument(p)
    text_arguments(
        p,
        files="image files (or 'x,y' rows for tabular models); for text models, text files read one text per line "
        "('-': standard input); for graph models, node indices of the training graph (none: every test node)",
        verb="classify (text models)",
    )
    p.add_argument("--top-k", type=top_k, default=3, help="how many classes to show, 1-1000 (default: 3)")
    p.add_argument(
        "--calibrated",
        action="store_true",
        help="use the temperature stored by 'archzoo report' (calibrated probabilities)",
    )
    p.add_argument("--temperature", type=float, metavar="T", help="divide the logits by T before the softmax")
    p.add_argument(
        "--centre",
        action="store_true",
        help="image models: read each image as a drawing, cropped to its ink and centred as the training images "
        "are (a digit photographed or typed in a corner of a wide picture)",
    )
    p.add_argument(
        "--mc-dropout",
        type=int,
        default=0,
        metavar="N",
        help="classifiers with dropout: N passes with dropout left on; each class's mean probability and its spread "
        "(standard deviation) over them: how sure the model is (default 0: one plain pass)",
    )
    json_flag(p)
    p.set_defaults(handler=predict)

    p = commands.add_parser("generate", help="continue a prompt with a text-generation checkpoint")
    checkpoint_argument(p)
    p.add_argument("--prompt", default="", help="text to continue (default: start a new line)")
    p.add_argument("--temperature", type=float, default=1.0, help="below 1: safer, above 1: wilder (default 1.0)")
    p.add_argument(
        "--top-k", type=top_k_or_all, default=0, help="draw each token from the k most likely only; 0: all (default)"
    )
    p.add_argument("--length", type=int, default=200, help="tokens to generate (default 200)")
    p.add_argument("-n", "--num", type=int, default=1, help="how many continuations (default 1)")
    p.add_argument("--seed", type=int, help="make the draw repeatable")
    json_flag(p)
    p.set_defaults(handler=generate)

    p = commands.add_parser(
        "embed", help="feature vectors of texts from a feature-extraction checkpoint, as safetensors"
    )
    checkpoint_argument(p)
    text_arguments(p, files="text files, one text per line ('-': standard input)", verb="embed")
    p.add_argument(
        "--out",
        required=True,
        metavar="FILE.safetensors",
        help="where to write the features (N x D, tensor 'features')",
    )
    p.add_argument("--normalize", action="store_true", help="unit-length vectors (for cosine similarity)")
    p.add_argument("--batch-size", type=int, default=64, help="texts per encoder pass (default 64)")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    p.set_defaults(handler=embed)

    p = commands.add_parser(
        "sample", help="draw images from an image-generation checkpoint into a folder (grid.png + one PNG each)"
    )
    checkpoint_argument(p)
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
    p.add_argument(
        "--class",
        dest="wanted_class",
        metavar="NAME",
        help="class-conditional generators (cgan; ddpm trained with label dropout): draw this class of the "
        "checkpoint's data (its name, any case); default: every class in turn",
    )
    p.add_argument(
        "--guidance",
        type=float,
        metavar="W",
        help="ddpm trained with label dropout: classifier-free guidance weight w >= 0, eps = (1 + w) eps(class) - "
        "w eps(no class); default 0, the conditional model alone",
    )
    p.set_defaults(handler=sample)


def predict(args: argparse.Namespace) -> int:
    from archzoo.api import predict
    from archzoo.inference.sampling import checkpoint_task

    task = checkpoint_task(args.checkpoint)
    if args.mc_dropout and task == "node-classification":
        raise ArchzooError("--mc-dropout is for image, row and text classifiers; this checkpoint classifies nodes")
    if task == "node-classification":
        return _predict_nodes(args)
    if task == "tabular-regression":
        return _predict_values(args)
    if task == "sequence-to-sequence":
        return _predict_sequences(args)
    if task == "text-classification":
        inputs = [*args.texts, *text_lines(args.inputs)]
        if not inputs:
            raise ArchzooError("give texts to classify: --text TEXT, or files with one text per line")
    else:
        if args.texts:
            raise ArchzooError("--text is for text classifiers; this checkpoint takes image files or rows of numbers")
        if not args.inputs:
            raise ArchzooError("give at least one input FILE")
        inputs = args.inputs
    if args.centre and task != "image-classification":
        raise ArchzooError(f"--centre is for image classifiers; this checkpoint is a {task} model")
    if args.mc_dropout:
        return _predict_with_spread(args, inputs)
    results, changes = predict(
        args.checkpoint,
        inputs,
        top_k=args.top_k,
        calibrated=args.calibrated,
        temperature=args.temperature,
        centre=args.centre,
    )
    notes(changes)
    if args.json:
        ranked = [[{"label": label, "probability": p} for label, p in r] for r in results]
        print(json.dumps([{"input": i, "top_k": r} for i, r in zip(inputs, ranked)]))
        return 0
    for item, ranked in zip(inputs, results):
        shown = item if len(item) <= 60 else item[:57] + "..."
        print(f"{shown}: " + ", ".join(f"{label} {p:.3f}" for label, p in ranked))
    return 0


def _predict_with_spread(args: argparse.Namespace, inputs: list[str]) -> int:
    """MC-dropout: each class's mean probability over --mc-dropout passes, and its spread."""
    from archzoo.api import predict_with_spread

    if args.calibrated or args.temperature is not None:
        raise ArchzooError("--mc-dropout reads the model as it is; leave out --calibrated and --temperature")
    results, changes = predict_with_spread(
        args.checkpoint, inputs, passes=args.mc_dropout, top_k=args.top_k, centre=args.centre
    )
    notes(changes)
    if args.json:
        ranked = [[{"label": label, "probability": p, "spread": s} for label, p, s in r] for r in results]
        print(json.dumps([{"input": i, "top_k": r} for i, r in zip(inputs, ranked)]))
        return 0
    for item, ranked in zip(inputs, results):
        shown = item if len(item) <= 60 else item[:57] + "..."
        print(f"{shown}: " + ", ".join(f"{label} {p:.3f} ± {s:.3f}" for label, p, s in ranked))
    return 0


def _predict_values(args: argparse.Namespace) -> int:
    """Predicted numbers of a regression checkpoint for rows of numbers ('0.5' or '1.2,3'; FILE arguments)."""
    from archzoo.inference.regression import predict_values

    if args.texts:
        raise ArchzooError("--text is for text classifiers; a regression checkpoint takes rows of numbers ('0.5')")
    if not args.inputs:
        raise ArchzooError("give at least one row of numbers to predict, such as 0.5 or '1.2,3'")
    for flag, given in (
        ("--calibrated", args.calibrated),
        ("--temperature", args.temperature),
        ("--centre", args.centre),
        ("--mc-dropout", args.mc_dropout),
    ):
        if given:
            raise ArchzooError(f"{flag} is for classifiers; a regression checkpoint predicts numbers")
    found = predict_values(args.checkpoint, args.inputs)
    if args.json:
        rows = [{"input": i, "values": dict(zip(found.names, v))} for i, v in zip(args.inputs, found.values)]
        print(json.dumps(rows))
        return 0
    for item, values in zip(args.inputs, found.values):
        print(f"{item}: " + ", ".join(f"{name} {value:.6g}" for name, value in zip(found.names, values)))
    return 0


def _predict_sequences(args: argparse.Namespace) -> int:
    """The output sequence of each input sequence ('3 1 4 1 5': --text, or files with one a line),
    with the attention matrix (output tokens x input tokens) in --json."""
    from archzoo.inference.sequences import translate

    for flag, given in (
        ("--calibrated", args.calibrated),
        ("--temperature", args.temperature is not None),
        ("--centre", args.centre),
        ("--mc-dropout", args.mc_dropout),
    ):
        if given:
            raise ArchzooError(f"{flag} is for classifiers; a sequence-to-sequence checkpoint writes sequences")
    texts = [*args.texts, *text_lines(args.inputs)]
    if not texts:
        raise ArchzooError("give input sequences: --text '3 1 4 1 5', or files with one sequence per line")
    found = translate(args.checkpoint, texts)
    if args.json:
        rows = [{"input": t.source, "output": t.tokens, "text": t.text, "attention": t.attention} for t in found]
        print(json.dumps(rows))
        return 0
    for item in found:
        print(f"{' '.join(item.source)} -> {item.text}")
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


def generate(args: argparse.Namespace) -> int:
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


def embed(args: argparse.Namespace) -> int:
    from archzoo.inference.features import embed_to_file

    texts = [*text_lines(args.inputs), *args.texts]
    if not texts:
        raise ArchzooError("give texts to embed: files with one text per line, or --text TEXT")
    result = embed_to_file(
        args.checkpoint, texts, args.out, normalize=args.normalize, batch_size=args.batch_size, overwrite=args.overwrite
    )
    notes(result.notes)
    print(f"wrote {result.count} x {result.dim} features to {result.path}")
    return 0


def sample(args: argparse.Namespace) -> int:
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
        wanted_class=args.wanted_class,
        guidance=args.guidance,
    )
    notes(result.outputs.get("notes", []))
    written = write_images(result, out)
    extra = (
        f", {result.outputs['sampler']} sampler, {result.outputs['steps']} steps" if "sampler" in result.outputs else ""
    )
    if "classes" in result.outputs:  # a class-conditional generator: which class, and the guidance weight
        drawn = sorted(set(result.outputs["classes"]))
        extra += f", class {drawn[0]}" if len(drawn) == 1 else ", every class in turn"
        extra += f", guidance {result.outputs['guidance']:g}" if "guidance" in result.outputs else ""
    print(f"{len(written) - 1} image(s), mode {result.outputs.get('mode', args.mode)}, seed {args.seed}{extra}")
    print(f"grid: {written[0]}")
    return 0
