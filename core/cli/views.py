"""``archzoo show``: what a model learned, as pictures (docs/views.md)."""

from __future__ import annotations

import argparse
import json

from archzoo.cli.output import checkpoint_argument, json_flag, notes, table


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "show",
        help="draw what a model learned: boundary, misclassified, filters, activations, saliency, latent, ... as PNG",
    )
    checkpoint_argument(p)
    p.add_argument("view", nargs="?", help="the view to draw; none: list the views this model offers")
    p.add_argument("--out", default=".", metavar="DIR", help="folder for VIEW.png and VIEW.json (default: here)")
    p.add_argument("--layer", metavar="NAME", help="activations, attention: the layer (a wrong name lists them)")
    p.add_argument("--index", type=int, default=0, metavar="N", help="which test example (default 0)")
    p.add_argument("--resolution", type=int, default=200, metavar="R", help="boundary: grid cells a side (8-500)")
    p.add_argument(
        "--count", type=int, metavar="N", help="how many images, samples, filters or tokens (each view says its bound)"
    )
    p.add_argument("--seed", type=int, default=0, help="samples, diffusion: the same seed draws the same (default 0)")
    p.add_argument(
        "--epoch",
        type=int,
        metavar="N",
        help="boundary, samples: the picture the run kept after epoch N while it trained (a run folder or name)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace VIEW.png / VIEW.json if DIR holds them")
    json_flag(p)
    p.set_defaults(handler=show)


def show(args: argparse.Namespace) -> int:
    from archzoo.api import available_views, draw_view, load
    from archzoo.inference.views import VIEWS, ViewRequest

    if args.epoch is not None:
        return show_kept(args)
    request = ViewRequest(
        layer=args.layer, index=args.index, resolution=args.resolution, count=args.count, seed=args.seed
    )
    loaded = load(args.checkpoint)
    if not args.view:
        offered = available_views(loaded)
        if args.json:
            print(json.dumps({"checkpoint": str(loaded.path), "views": offered}))
            return 0
        print(f"{loaded.spec.name} on {loaded.info.name} ({loaded.path}) offers:")
        table(("VIEW", "WHAT IT SHOWS"), [(name, VIEWS.get(name, "a view of its plugin")) for name in offered])
        return 0
    return write(draw_view(loaded, args.view, request), args)


def show_kept(args: argparse.Namespace) -> int:
    """A live view's epoch, from the run folder's views/ (no model is loaded)."""
    from archzoo.inference.views import live
    from archzoo.registry.host import get_host
    from archzoo.runs.listing import find_run

    folder = find_run(args.checkpoint, get_host().settings.checkpoint_dir).folder
    return write(live.draw(folder, args.view, args.epoch), args)


def write(view, args: argparse.Namespace) -> int:
    written = view.write(args.out, overwrite=args.overwrite)
    notes(view.notes)
    if args.json:
        print(json.dumps({"view": view.name, "files": [str(p) for p in written]}))
        return 0
    for path in written:
        print(f"wrote {path}")
    return 0
