"""The ``archzoo`` command: build the parser from the command groups, run the chosen
command, and turn a user's mistake into one line on stderr.

Each group module registers its commands with ``register(commands)`` and names
each command's handler with ``set_defaults(handler=...)``: dispatch is
explicit.  The groups import nothing heavy at module level, so ``archzoo
--help`` and ``archzoo list`` answer without importing torch.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys

from archzoo.cli import app, evaluation, export, hub, inference, models, runs, scaffold, studies, training, views
from archzoo.errors import ArchzooError

#: The command groups, in the order ``archzoo --help`` lists their commands.
GROUPS = (models, training, runs, studies, evaluation, inference, views, export, hub, app, scaffold)

EPILOG = """examples:
  archzoo list
  archzoo info mlp
  archzoo train mlp --dataset digits
  archzoo train mlp-fashion-deep --set epochs=3 --out my-mlp
  archzoo eval my-mlp
  archzoo predict my-mlp shoe.png
  archzoo report my-mlp --out my-mlp-report
  archzoo show my-mlp misclassified --out views
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
    for group in GROUPS:
        group.register(commands)
    return parser


#: Errors of the filesystem about a path the user gave: a message, not a traceback.
_PATH_ERRORS = {errno.ENAMETOOLONG, errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EROFS, errno.ENOTDIR, errno.EISDIR}


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
    try:
        return args.handler(args) or 0
    except ArchzooError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (archzoo list | head): stop quietly, as other command-line tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as exc:
        if exc.errno not in _PATH_ERRORS:
            raise
        # A path the user gave that the filesystem refuses (a name too long, no permission, a full disk).
        where = f": {str(exc.filename)[:120]}{'...' if len(str(exc.filename)) > 120 else ''}" if exc.filename else ""
        print(f"error: {exc.strerror}{where}", file=sys.stderr)
        return 2
