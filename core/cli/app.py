"""``archzoo ui`` (the browser app) and ``archzoo check`` (the plugin contract suite)."""

from __future__ import annotations

import argparse

from archzoo.errors import ArchzooError


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("ui", help="open the browser app (train, evaluate, predict, manage checkpoints)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: this machine only)")
    p.add_argument("--port", type=port_number, default=7860, help="port to listen on, 1-65535 (default: 7860)")
    p.add_argument("--auth", metavar="USER:PASS", help="require this user name and password")
    p.add_argument("--share", action="store_true", help="also open a public Gradio share link")
    p.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests for this host name (loopback names and --host always are); repeatable",
    )
    p.add_argument(
        "--lend-hub-token",
        action="store_true",
        help="let browser users with an empty token field push and pull with this machine's Hub login "
        "(HF_TOKEN or hf auth login); off by default: each user gives their own",
    )
    p.set_defaults(handler=ui)

    p = commands.add_parser("check", help="run the plugin contract suite on an architecture")
    p.add_argument("name", help="architecture name")
    p.add_argument("pytest_args", nargs=argparse.REMAINDER, help="extra arguments for pytest")
    p.set_defaults(handler=check)


def port_number(text: str) -> int:
    """A TCP port, 1-65535; anything else is argparse's usage error, not a traceback."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is out of range: give 1-65535")
    return port


def ui(args: argparse.Namespace) -> int:
    auth = None
    if args.auth:
        user, sep, password = args.auth.partition(":")
        if not sep or not user or not password:
            raise ArchzooError("--auth takes USER:PASS")
        auth = (user, password)
    from archzoo.ui.app import launch

    launch(
        host=args.host,
        port=args.port,
        auth=auth,
        share=args.share,
        allowed_hosts=tuple(args.allowed_host),
        lend_hub_token=args.lend_hub_token,
    )
    return 0


def check(args: argparse.Namespace) -> int:
    import importlib.util

    if importlib.util.find_spec("pytest") is None:  # installed with archzoo; missing only if removed since
        raise ArchzooError(
            "archzoo check runs the contract suite with pytest, which is not installed: pip install pytest"
        )
    from archzoo.testing import run_contract_suite

    return run_contract_suite(args.name, args.pytest_args)
