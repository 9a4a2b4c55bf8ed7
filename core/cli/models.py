"""``archzoo list`` and ``archzoo info``: what is installed, and what one architecture or preset is.

Both stay torch-free except ``info``'s parameter count of a model that must be built.
"""

from __future__ import annotations

import argparse
import json

from archzoo.cli.output import json_flag, table


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("list", help="architectures, presets and datasets that are installed")
    json_flag(p)
    p.set_defaults(handler=list_installed)

    p = commands.add_parser("info", help="an architecture's or preset's config fields, recipe and size")
    p.add_argument("name", help="architecture or preset name")
    p.set_defaults(handler=info)


def list_installed(args: argparse.Namespace) -> int:
    from archzoo.registry.catalog import count_text, installed

    found = installed()
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    table(
        ("ARCHITECTURE", "TASK", "PARAMS", "PLUGIN", "SUMMARY"),
        [
            (
                a["name"],
                a["task"],
                count_text(a["parameters"]),
                f"{a['distribution']} {a['version']}".strip(),
                f"BROKEN (see below): {a['summary']}" if a["broken"] else a["summary"],
            )
            for a in found["architectures"]
        ],
    )
    if found["presets"]:
        print()
        table(
            ("PRESET", "ARCHITECTURE", "DATASET", "SUMMARY"),
            [(p["name"], p["architecture"], p["dataset"], p["summary"]) for p in found["presets"]],
        )
    print()
    table(("DATASET", "TASK", "SUMMARY"), [(d["name"], d["task"], d["summary"]) for d in found["datasets"]])
    if found["broken"]:
        print()
        table(
            ("BROKEN PLUGIN", "DISTRIBUTION", "ERROR"),
            [(b["name"], b["distribution"], b["error"]) for b in found["broken"]],
        )
    return 0


def info(args: argparse.Namespace) -> int:
    from archzoo.api import plan_run, planned_parameters
    from archzoo.registry import config as config_module
    from archzoo.registry.catalog import count_text
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
    print(f"  parameters: {count_text(planned_parameters(args.name, host))} (on {plan.dataset})")
    print("\nmodel settings (--set KEY=VALUE):")
    _fields(config_module.fields(spec.config), config_module.to_dict(plan.config))
    print("\ntraining settings (--set KEY=VALUE):")
    _fields(config_module.fields(config_module.TrainConfig), config_module.to_dict(plan.train_config))
    return 0


def _fields(described: list, current: dict) -> None:
    rows = []
    for f in described:
        shown = "from dataset" if f.from_data else json.dumps(current.get(f.name))
        rows.append(("  " + f.name, f.type_name, shown, f.allowed, f.help))
    table(("  NAME", "TYPE", "VALUE", "ALLOWED", "HELP"), rows)
