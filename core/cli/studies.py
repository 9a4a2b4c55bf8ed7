"""``archzoo study``: list, run, work and show studies (:mod:`archzoo.studies`)."""

from __future__ import annotations

import argparse
import json

from archzoo.cli.output import json_flag, table
from archzoo.errors import ArchzooError


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("study", help="studies: grids or searches of runs over settings and seeds, on Optuna")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    a = actions.add_parser("list", help="the shipped studies and the studies in the storage")
    _storage(a)
    json_flag(a)
    a.set_defaults(handler=list_studies)

    a = actions.add_parser(
        "run", help="run a shipped study, or an ad-hoc grid or search (--preset/--arch with --grid or --search)"
    )
    a.add_argument(
        "name", nargs="?", help="a shipped study (archzoo study list); with --grid or --search, the new study's name"
    )
    a.add_argument("--preset", "--arch", dest="target", help="architecture or preset of an ad-hoc study")
    a.add_argument("--dataset", help="dataset of an ad-hoc study (default: the target's)")
    a.add_argument(
        "--grid", action="append", default=[], metavar="KEY=V1,V2", help="a setting and its values (repeatable)"
    )
    a.add_argument("--search", action="append", default=[], metavar="KEY=SPEC",
                   help="a searched setting (repeatable): V1,V2 choices, LOW:HIGH floats, log:LOW:HIGH, "
                        "int:LOW:HIGH, logint:LOW:HIGH (docs/studies.md)")  # fmt: skip
    a.add_argument("--trials", type=int, help="a search's trials in all, over every worker")
    a.add_argument("--sampler", choices=("tpe", "random"), help="how a search samples (default tpe)")
    a.add_argument("--seed", type=int, help="the search's sampler seed (default 0)")
    a.add_argument(
        "--prune",
        action="store_true",
        help="stop trials whose validation metric lags the median so far (median pruning)",
    )
    a.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                   help="a setting every trial shares (repeatable)")  # fmt: skip
    a.add_argument("--seeds", type=int, help="runs per cell, seeds 0..N-1 (default 1, or the study's)")
    a.add_argument("--metric", help="what is judged, split.metric (default validation.accuracy)")
    a.add_argument("--name", dest="study_name", help="the ad-hoc study's name")
    a.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes working on it at once on this machine; 0 only creates it, for 'archzoo study work' elsewhere",
    )
    _storage(a)
    _data_dir(a)
    a.add_argument("--quiet", action="store_true", help="only the table at the end")
    a.set_defaults(handler=run)

    a = actions.add_parser("work", help="work on an existing study's waiting trials (one worker per GPU or machine)")
    a.add_argument("name")
    _storage(a)
    _data_dir(a)
    a.add_argument("--quiet", action="store_true", help="print nothing per trial")
    a.set_defaults(handler=work)

    a = actions.add_parser("show", help="a study's table: mean and spread over seeds per cell, the notes' numbers")
    a.add_argument("name")
    _storage(a)
    a.add_argument("--out", metavar="DIR", help="also write study.png and study.json here")
    json_flag(a)
    a.set_defaults(handler=show)


def _data_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", metavar="DIR", help="where this machine keeps the dataset's files (as train's)")


def _storage(p: argparse.ArgumentParser) -> None:
    p.add_argument("--storage", metavar="URL", help="an Optuna storage URL (default: sqlite in the checkpoint store)")


def list_studies(args: argparse.Namespace) -> int:
    from archzoo.studies.spec import shipped_studies

    shipped = shipped_studies()
    stored = _stored(args.storage)
    if args.json:
        print(json.dumps({"shipped": {n: s.about for n, s in shipped.items()}, "stored": stored}, indent=1))
        return 0
    rows = [(n, s.section or "-", _size(s), s.target, s.about[:70]) for n, s in shipped.items()]
    table(("shipped study", "notes", "cells x seeds or trials", "target", "about"), rows)
    if stored:
        print()
        table(("study in the storage", "trials done"), [(n, done) for n, done in stored.items()])
    return 0


def _size(spec) -> str:
    return f"{spec.search_trials} trials" if spec.is_search else f"{len(spec.cells)} x {spec.seeds}"


def _stored(url: str | None) -> dict[str, str]:
    import optuna
    from optuna.trial import TrialState

    from archzoo.studies.spec import StudySpec
    from archzoo.studies.work import SPEC_ATTR, STORAGE_FILE, open_storage

    if url is None:
        from archzoo.registry.host import get_host

        if not (get_host().settings.checkpoint_dir / STORAGE_FILE).is_file():
            return {}
    storage = open_storage(url)
    found = {}
    for summary in optuna.get_all_study_summaries(storage, include_best_trial=False):
        study = optuna.load_study(study_name=summary.study_name, storage=storage)
        done = sum(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in study.get_trials(deepcopy=False))
        planned = StudySpec.from_json(study.user_attrs[SPEC_ATTR]).planned if SPEC_ATTR in study.user_attrs else 0
        found[summary.study_name] = f"{done}/{planned}"
    return found


def _spec(args: argparse.Namespace):
    from archzoo.registry.config import parse_assignments
    from archzoo.studies.space import parse_space
    from archzoo.studies.spec import StudySpec, grid_cells, shipped_study

    if args.grid and args.search:
        raise ArchzooError("give --grid or --search, not both")
    if args.grid or args.search:
        if not args.target:
            raise ArchzooError(
                f"an ad-hoc study needs --preset (or --arch) beside --{'grid' if args.grid else 'search'}"
            )
        name = args.study_name or args.name
        if not name:
            raise ArchzooError("an ad-hoc study needs a name: --name NAME")
        if args.search and args.trials is None:
            raise ArchzooError("a search needs --trials N: how many points to try, over every worker")
        spec = StudySpec(
            name=name,
            target=args.target,
            cells=grid_cells(args.grid) if args.grid else [],
            dataset=args.dataset,
            base={k: str(v) for k, v in parse_assignments(args.settings).items()},
            space=parse_space(args.search),
        )
    elif args.name:
        spec = shipped_study(args.name)
        if args.study_name:
            spec.name = args.study_name
        if args.settings:
            spec.base = {**spec.base, **{k: str(v) for k, v in parse_assignments(args.settings).items()}}
    else:
        raise ArchzooError("name a shipped study (archzoo study list), or give --preset and --grid or --search")
    if args.seeds is not None:
        spec.seeds = args.seeds
    if args.metric:
        spec.metric = args.metric
    if args.prune:
        spec.prune = True
    searched = {"--trials": args.trials, "--sampler": args.sampler, "--seed": args.seed}
    if not spec.is_search and any(v is not None for v in searched.values()):
        given = ", ".join(k for k, v in searched.items() if v is not None)
        raise ArchzooError(f"{given}: for a search only (--search KEY=SPEC); a grid runs each cell")
    if args.trials is not None:
        spec.search_trials = args.trials
    if args.sampler is not None:
        spec.sampler = args.sampler
    if args.seed is not None:
        spec.sampler_seed = args.seed
    return spec


def run(args: argparse.Namespace) -> int:
    from archzoo.studies import work as studies

    if args.workers < 0:
        raise ArchzooError(f"--workers must be 0 or more, not {args.workers}")
    spec = _spec(args)
    storage = studies.open_storage(args.storage)
    study = studies.create(spec, storage)
    shape = (
        f"{spec.search_trials} trial(s) of a {spec.sampler} search over {', '.join(spec.space)}"
        if spec.is_search
        else f"{len(spec.cells)} cell(s) x {spec.seeds} seed(s)"
    )
    pruned = ", median pruning" if spec.prune else ""
    print(f"study {spec.name}: {shape}{pruned}; runs in {spec.name}/ of the store")
    if args.workers == 0:
        print(
            f"created; work on it with: archzoo study work {spec.name}"
            + (f" --storage {args.storage}" * bool(args.storage))
        )
        return 0
    helpers = studies.start_workers(spec.name, args.storage, args.workers - 1, args.data_dir)
    try:
        studies.work(study, spec, on_trial=None if args.quiet else _print_trial, data_dir=args.data_dir)
    finally:
        for helper in helpers:
            helper.wait()
    return _show_table(study, spec)


def work(args: argparse.Namespace) -> int:
    from archzoo.studies import work as studies

    study, spec = studies.load(args.name, studies.open_storage(args.storage))
    studies.work(study, spec, on_trial=None if args.quiet else _print_trial, data_dir=args.data_dir)
    return 0


def show(args: argparse.Namespace) -> int:
    from archzoo.studies import work as studies

    study, spec = studies.load(args.name, studies.open_storage(args.storage))
    return _show_table(study, spec, out=args.out, as_json=args.json)


def _print_trial(done) -> None:
    shown = f"{done.value:.4f}" if done.value is not None and done.state == "complete" else done.state
    error = f": {done.error}" if done.error else ""
    seed = "" if done.settings else f", seed {done.seed}"
    print(f"  trial {done.index:03d} {done.label}{seed}: {shown}{error}", flush=True)


def _show_table(study, spec, *, out: str | None = None, as_json: bool = False) -> int:
    from pathlib import Path

    from archzoo.studies.results import plot, progress, results

    if spec.is_search:
        return _show_search(study, spec, out=out, as_json=as_json)
    rows = results(study, spec)
    summary = {
        "study": spec.name,
        "section": spec.section,
        "metric": spec.metric,
        "progress": progress(rows, spec),
        "cells": [
            {"label": r.label, "settings": r.settings, "values": r.values, "mean": r.mean, "std": r.std,
             "printed": r.printed, "failed": r.failed, "pruned": r.pruned}
            for r in rows
        ],
    }  # fmt: skip
    if out:
        folder = Path(out)
        plot(rows, spec, folder / "study.png")
        (folder / "study.json").write_text(json.dumps(summary, indent=1))
    if as_json:
        print(json.dumps(summary, indent=1))
        return 0
    where = f" (notes {spec.section})" if spec.section else ""
    print(f"\n{spec.name}{where}: {spec.metric}, {progress(rows, spec)}")
    said = {r.label: " ".join(f"{k}={v}" for k, v in r.settings.items()) for r in rows}
    named = any(said[r.label] != r.label for r in rows)  # a grid's cells are named by their settings
    header = ("cell",) + (("settings",) if named else ()) + (spec.metric,) + (("notes",) if spec.printed else ())
    table_rows = []
    for r in rows:
        row = (r.label,) + ((said[r.label],) if named else ()) + (r.shown(),)
        table_rows.append(row + ((f"{r.printed:.4f}" if r.printed is not None else "-",) if spec.printed else ()))
    table(header, table_rows)
    for r in rows:
        for error in r.failed[:1]:
            print(f"  {r.label} failed: {error[:200]}")
    if spec.about:
        print(f"\n{spec.about}")
    if out:
        print(f"wrote {Path(out) / 'study.png'} and study.json")
    return 0


def _show_search(study, spec, *, out: str | None, as_json: bool) -> int:
    from pathlib import Path

    from archzoo.studies.search_results import scatter, search_progress, search_results
    from archzoo.studies.space import shown

    rows = search_results(study, spec)
    summary = {
        "study": spec.name,
        "metric": spec.metric,
        "sampler": spec.sampler,
        "space": spec.space,
        "progress": search_progress(rows, spec),
        "trials": [
            {"index": r.index, "settings": r.settings, "state": r.state, "value": r.value, "pruned_at": r.pruned_at,
             "error": r.error}
            for r in rows
        ],
    }  # fmt: skip
    if out:
        folder = Path(out)
        scatter(rows, spec, folder / "study.png")
        (folder / "study.json").write_text(json.dumps(summary, indent=1))
    if as_json:
        print(json.dumps(summary, indent=1))
        return 0
    space = " ".join(f"{k}={v}" for k, v in spec.space.items())
    print(f"\n{spec.name}: {spec.metric}, {search_progress(rows, spec)}; {spec.sampler} search over {space}")
    keys = list(spec.space)
    table(("trial", *keys, spec.metric), [(f"{r.index:03d}", *(shown(r.settings.get(k, "")) for k in keys), r.shown())
                                          for r in rows])  # fmt: skip
    for r in rows:
        if r.error:
            print(f"  trial {r.index:03d} failed: {r.error[:200]}")
    best = next((r for r in rows if r.state == "complete"), None)
    if best is not None:
        settings = " ".join(f"--set {k}={v}" for k, v in {**spec.base, **best.settings}.items() if k != "seed")
        dataset = f" --dataset {spec.dataset}" if spec.dataset else ""
        print(
            f"\nbest: trial {best.index:03d}. Its spread over seeds: archzoo study run --preset {spec.target}{dataset} "
            f"{settings} --grid seed=0,1,2 --name {spec.name}-best"
        )
    if out:
        print(f"wrote {Path(out) / 'study.png'} and study.json")
    return 0
