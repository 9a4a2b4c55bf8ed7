"""``archzoo ui`` (the browser app) and ``archzoo check`` (the plugin contract suite)."""

from __future__ import annotations

import argparse

from archzoo.errors import ArchzooError


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("ui", help="open the browser app (train, evaluate, predict, manage checkpoints)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: this machine only)")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--auth", metavar="USER:PASS", help="require this user name and password")
    p.add_argument("--share", action="store_true", help="also open a public Gradio share link")
    p.set_defaults(handler=ui)

    p = commands.add_parser("check", help="run the plugin contract suite on an architecture")
    p.add_argument("name", help="architecture name")
    p.add_argument("pytest_args", nargs=argparse.REMAINDER, help="extra arguments for pytest")
    p.set_defaults(handler=check)


def ui(args: argparse.Namespace) -> int:
    auth = None
    if args.auth:
        user, sep, password = args.auth.partition(":")
        if not sep or not user or not password:
            raise ArchzooError("--auth takes USER:PASS")
        auth = (user, password)
    from archzoo.ui.app import launch

    launch(host=args.host, port=args.port, auth=auth, share=args.share)
    return 0


def check(args: argparse.Namespace) -> int:
    from archzoo.testing import run_contract_suite

    return run_contract_suite(args.name, args.pytest_args)
