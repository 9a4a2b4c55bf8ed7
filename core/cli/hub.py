"""``archzoo push`` and ``archzoo pull``: checkpoints on the Hugging Face Hub (torch-free)."""

from __future__ import annotations

import argparse
import json

from archzoo.cli.output import checkpoint_argument, notes


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("push", help="upload a checkpoint to the Hugging Face Hub (log in first: hf auth login)")
    checkpoint_argument(p)
    p.add_argument("repo_id", metavar="REPO_ID", help="NAMESPACE/NAME of the model repository (created if needed)")
    p.add_argument("--private", action="store_true", help="create the repository as private")
    p.add_argument("--branch", help="push to this branch (created from main if new)")
    p.add_argument("--message", help="commit message")
    p.add_argument(
        "--license",
        metavar="ID",
        help="the model's licence on its card: an SPDX or Hub licence id, e.g. apache-2.0, mit, cc-by-4.0 "
        "(default: keep the licence the repository's card declares)",
    )
    p.set_defaults(handler=push)

    p = commands.add_parser("pull", help="download a checkpoint from the Hugging Face Hub into the cache")
    p.add_argument(
        "reference", metavar="REPO_ID[@REVISION]", help="repository, optionally @branch, @tag or @commit-sha"
    )
    p.add_argument("--to", metavar="DIR", help="put the files in DIR instead of the Hugging Face cache")
    p.add_argument("--overwrite", action="store_true", help="replace the checkpoint already in --to")
    p.set_defaults(handler=pull)


def push(args: argparse.Namespace) -> int:
    from archzoo.checkpoints.hub import push_to_hub

    commit = push_to_hub(
        args.checkpoint,
        args.repo_id,
        private=args.private,
        branch=args.branch,
        message=args.message,
        license=args.license,
    )
    print(f"pushed to {args.repo_id}@{args.branch or 'main'}: commit {getattr(commit, 'oid', '') or commit}")
    print(f"use it with: archzoo pull {args.repo_id}, or hf://{args.repo_id} wherever a checkpoint is expected")
    print(str(commit))
    return 0


def pull(args: argparse.Namespace) -> int:
    from archzoo.checkpoints.hub import describe, installed_hint, parse_reference, pull
    from archzoo.checkpoints.layout import CONFIG

    folder = pull(args.reference, to=args.to, overwrite=args.overwrite)
    meta = json.loads((folder / CONFIG).read_text(encoding="utf-8"))
    print(f"{parse_reference(args.reference)}: {describe(meta)}")
    hint = installed_hint(meta)
    if hint:
        notes([hint])
    print(folder)
    return 0
