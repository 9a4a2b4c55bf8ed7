"""``archzoo runs`` (list, show, tag, note, rename, delete) and ``archzoo compare``.

All of it reads and edits run records only (:mod:`archzoo.runs`): no torch.
"""

from __future__ import annotations

import argparse
import json
import sys

from archzoo.cli.output import json_flag, table
from archzoo.errors import ArchzooError


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("runs", help="the runs in the checkpoint store: list, show, tag, note, rename, delete")
    _filters(p)
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    p.set_defaults(handler=list_runs)

    a = actions.add_parser("list", help="list the runs (the default)")
    _filters(a)
    a.set_defaults(handler=list_runs)

    a = actions.add_parser("show", help="one run: what, where, how it went, lineage, log")
    a.add_argument("run", help="run name in the store, run id, or run folder")
    json_flag(a, "print the whole record")
    a.set_defaults(handler=show)

    a = actions.add_parser("tag", help="add tags to a run (--remove takes them away)")
    a.add_argument("run")
    a.add_argument("tags", nargs="+", metavar="TAG")
    a.add_argument("--remove", action="store_true", help="remove these tags instead")
    a.set_defaults(handler=tag)

    a = actions.add_parser("note", help="set a run's note ('' clears it)")
    a.add_argument("run")
    a.add_argument("text")
    a.set_defaults(handler=note)

    a = actions.add_parser("rename", help="give a finished run a new name in the store")
    a.add_argument("run")
    a.add_argument("new_name", metavar="NEW")
    a.set_defaults(handler=rename)

    a = actions.add_parser("delete", help="delete runs and their checkpoints from the store (asks first)")
    a.add_argument("runs", nargs="+", metavar="RUN")
    a.add_argument("--yes", action="store_true", help="do not ask")
    a.set_defaults(handler=delete)

    p = commands.add_parser("compare", help="runs side by side: differing settings, best metrics, curves overlaid")
    p.add_argument("runs", nargs="+", metavar="RUN")
    p.add_argument("--out", metavar="DIR", help="also write compare.png (the curves) and compare.json here")
    json_flag(p)
    p.set_defaults(handler=compare)


def _filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--arch", dest="architecture", help="only runs of this architecture")
    p.add_argument("--dataset", help="only runs on this dataset")
    p.add_argument("--preset", help="only runs of this preset")
    p.add_argument("--status", help="only runs in this state (running, finished, interrupted, ...)")
    p.add_argument("--tag", help="only runs with this tag")
    p.add_argument("--sort", metavar="METRIC", help="best first by this metric (accuracy, validation.loss, test.f1)")
    p.add_argument("--limit", type=int, default=0, help="show at most this many (0: all)")
    json_flag(p)


def list_runs(args: argparse.Namespace) -> int:
    from archzoo.runs.listing import filtered, list_runs, sorted_by

    runs = filtered(
        list_runs(),
        architecture=args.architecture,
        dataset=args.dataset,
        preset=args.preset,
        status=args.status,
        tag=args.tag,
    )
    if args.sort:
        runs = sorted_by(runs, args.sort)
    if args.limit < 0:
        raise ArchzooError(f"--limit must be 0 (all) or more, not {args.limit}")
    runs = runs[: args.limit or None]
    if args.json:
        print(json.dumps([{"name": r.name, "folder": str(r.folder), "error": r.error, **r.record} for r in runs]))
        return 0
    if not runs:
        print(
            "no runs"
            + (
                " match"
                if any([args.architecture, args.dataset, args.preset, args.status, args.tag])
                else " yet: archzoo train NAME starts one"
            )
        )
        return 0
    table(("RUN", "STATUS", "ARCHITECTURE", "DATASET", "EPOCH", "BEST", "TAGS", "CREATED"), [_row(r) for r in runs])
    return 0


def show(args: argparse.Namespace) -> int:
    from archzoo.runs.listing import find_run
    from archzoo.runs.progress import metrics_text
    from archzoo.runs.record import read_events

    entry = find_run(args.run)
    if entry.error:
        raise ArchzooError(f"{entry.name}: {entry.error}")
    record = entry.record
    if args.json:
        print(json.dumps({"name": entry.name, "folder": str(entry.folder), **record}, indent=1))
        return 0
    env, progress = record.get("environment") or {}, record["progress"]
    print(
        f"{entry.name}  ({record['id']})  {record['status']}" + (f": {record['error']}" if record.get("error") else "")
    )
    what = record["architecture"] + (f" (preset {record['preset']})" if record.get("preset") else "")
    print(f"  what:      {what} on {record['dataset']}")
    print(
        f"  where:     {entry.folder}; {env.get('device') or '?'}, {env.get('processes') or '?'} process(es); "
        f"archzoo {env.get('archzoo', '?')}, torch {env.get('torch', '?')}"
    )
    print(
        f"  progress:  epoch {progress.get('epoch', 0)} of {progress.get('epochs', 0)}, "
        f"step {progress.get('step', 0):,} of {progress.get('total_steps', 0):,}; "
        f"{float(record.get('seconds') or 0):.1f}s"
    )
    print(f"  created:   {record.get('created')}; ended {record.get('ended') or '-'}")
    best = record["metrics"].get("best") or {}
    for split in ("validation", "test"):
        if best.get(split):
            print(
                f"  best {split}: {metrics_text(best[split])}"
                + (f" (epoch {best['epoch']})" if "epoch" in best else "")
            )
    if record.get("overrides"):
        print("  settings:  " + " ".join(f"{k}={v}" for k, v in record["overrides"].items()))
    for line in entry.lineage:
        print(f"  lineage:   {line}")
    if entry.resumable:
        print(f"  resumable: archzoo train --out {entry.folder} --resume")
    if record.get("tags"):
        print(f"  tags:      {', '.join(record['tags'])}")
    if record.get("note"):
        print(f"  note:      {record['note']}")
    checkpoints = [name for name in ("best", "last") if (entry.folder / name / "config.json").is_file()]
    print(f"  checkpoints: {', '.join(checkpoints) or 'none'}")
    from archzoo.runs.progress import RunProgress

    log = RunProgress.of(read_events(entry.folder)).log
    if log:
        print("\nlog (last lines):")
        for line in log[-12:]:
            print(f"  {line}")
    return 0


def tag(args: argparse.Namespace) -> int:
    from archzoo.runs.manage import tag

    entry = tag(args.run, args.tags, remove=args.remove)
    print(f"{entry.name}: tags {', '.join(entry.get('tags') or []) or '(none)'}")
    return 0


def note(args: argparse.Namespace) -> int:
    from archzoo.runs.manage import note

    entry = note(args.run, args.text)
    print(f"{entry.name}: note {'cleared' if not args.text else 'saved'}")
    return 0


def rename(args: argparse.Namespace) -> int:
    from archzoo.runs.manage import rename

    entry = rename(args.run, args.new_name)
    print(f"renamed to {entry.name}")
    return 0


def delete(args: argparse.Namespace) -> int:
    from archzoo.runs.listing import find_run
    from archzoo.runs.manage import delete

    entries = [find_run(run) for run in args.runs]
    if not args.yes:
        if not sys.stdin.isatty():
            raise ArchzooError("delete asks before it deletes; pass --yes to delete without asking")
        listed = ", ".join(e.name for e in entries)
        answer = input(f"delete {listed} and their checkpoints? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            print("nothing deleted")
            return 1
    for entry in entries:
        print(f"deleted {delete(entry.folder)}")
    return 0


def compare(args: argparse.Namespace) -> int:
    from archzoo.runs.compare import compare, write_comparison

    comparison = compare(args.runs)
    if args.out:
        written = write_comparison(comparison, args.out)
    if args.json:
        print(json.dumps(comparison.to_json(), default=str))
        return 0
    names = comparison.names
    if comparison.differing:
        table(("SETTING", *names), [(k, *(_shown(v) for v in values)) for k, values in comparison.differing])
    else:
        print("the runs' settings are all the same")
    print()
    rows = []
    for metric, values, direction in comparison.best:
        known = [v for v in values if v is not None]
        top = (min(known) if direction == "lower" else max(known)) if known else None
        rows.append(
            (
                metric,
                *("-" if v is None else f"{v:.4f}" + (" *" if v == top and len(known) > 1 else "") for v in values),
            )
        )
    table(("BEST (* = best of these)", *names), rows)
    if args.out:
        print(f"\ncurves: {written[0]}\nnumbers: {written[1]}")
    return 0


def _row(entry) -> tuple:
    if entry.error:
        return (entry.name, "unreadable", "", "", "", entry.error[:60], "", "")
    record = entry.record
    progress = record.get("progress") or {}
    return (
        entry.name,
        record["status"],
        record["architecture"] + (f" ({record['preset']})" if record.get("preset") else ""),
        record["dataset"],
        f"{progress.get('epoch', 0)}/{progress.get('epochs', 0)}",
        entry.headline or "-",
        ",".join(record.get("tags") or []),
        str(record.get("created") or "")[:16].replace("T", " "),
    )


def _shown(value) -> str:
    text = json.dumps(value) if not isinstance(value, str) else value
    return text if len(text) <= 40 else text[:37] + "..."
