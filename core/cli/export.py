"""``archzoo export``: a checkpoint's network as an ONNX file or a PyTorch exported program (docs/export.md)."""

from __future__ import annotations

import argparse
import json

from archzoo.cli.output import checkpoint_argument, json_flag

FORMATS = ("onnx", "exported-program")


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "export",
        help="write a classifier, or a generator's decoder, as ONNX or a torch.export program, checked against "
        "PyTorch, with its input contract beside it",
    )
    checkpoint_argument(p)
    p.add_argument("--format", required=True, choices=FORMATS, help="onnx (runs in onnxruntime) or exported-program")
    p.add_argument(
        "--out", metavar="FILE", help="where to write it (default: RUN.onnx or RUN.pt2 here); FILE.json: its contract"
    )
    p.add_argument("--overwrite", action="store_true", help="replace FILE and its contract if they exist")
    json_flag(p)
    p.set_defaults(handler=export)


def export(args: argparse.Namespace) -> int:
    from archzoo.inference.export import TOLERANCE, export_checkpoint

    done = export_checkpoint(args.checkpoint, args.format, args.out, overwrite=args.overwrite)
    if args.json:
        print(
            json.dumps(
                {
                    "file": str(done.path),
                    "contract": str(done.contract),
                    "format": done.format,
                    "exported": done.what,
                    "examples": done.examples,
                    "max_abs_difference": done.max_abs_difference,
                    "tolerance": TOLERANCE,
                    "files": [str(p) for p in done.files],
                }
            )
        )
        return 0
    print(
        f"wrote {done.path} ({done.what}); checked on {done.examples} inputs against PyTorch: "
        f"max abs difference {done.max_abs_difference:.2g} (tolerance {TOLERANCE:g})"
    )
    for path in done.files[1:]:
        print(f"wrote {path}")
    return 0
