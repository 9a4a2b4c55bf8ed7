"""``archzoo new-plugin NAME``: write a pip-installable package for a new architecture plugin.

The package has the shape docs/plugins.md teaches: ``pyproject.toml`` with the
``archzoo`` entry point, a torch-free card module (the typed config and the
``ArchSpec``), a model module with the hooks, a README, and a test running
archzoo's contract suite.  Untouched, it passes ``archzoo check NAME`` once
installed and its own ``pytest``.  The files are the templates in
``scaffold-templates/`` (``common/`` for every task, one folder per task for
the card and the model), filled in with :class:`string.Template`.

Nothing is ever overwritten: the package is written into a new folder beside
the destination and renamed into place, which the filesystem refuses when the
destination holds anything.
"""

from __future__ import annotations

import argparse
import keyword
import os
import re
import secrets
import shutil
import string
from dataclasses import dataclass
from importlib import metadata, resources, util
from pathlib import Path
from typing import TYPE_CHECKING

from archzoo.errors import ArchzooError

if TYPE_CHECKING:
    from archzoo.registry.host import Host


@dataclass(frozen=True)
class Starter:
    """What the scaffold writes for one task."""

    about: str  # one sentence for the README: what the generated model is
    dataset: str  # the default dataset its card names (the contract suite trains on it)


#: The tasks the scaffold writes, and what it writes for each.
STARTERS: dict[str, Starter] = {
    "image-classification": Starter(
        "a small convolutional network (3x3 convolutions, ReLU and 2x2 max pooling, then one Linear to the "
        "class scores), trained, evaluated and sampled by archzoo's classification defaults",
        "digits",
    ),
    "tabular-classification": Starter(
        "a small MLP (Linear layers with a chosen activation, then one Linear to the class scores) on rows of "
        "numbers, trained, evaluated and sampled by archzoo's classification defaults",
        "moons",
    ),
    "image-generation": Starter(
        "a tiny variational autoencoder (an MLP encoder to a Gaussian code, an MLP decoder to pixels in [0, 1]) "
        "with its own train_step, evaluate and sample (modes: sample, reconstruct)",
        "digits",
    ),
}

DEFAULT_TASK = "image-classification"

#: A plugin name: a valid distribution name that also gives a valid Python module name.
NAME_PATTERN = re.compile(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*")
MAX_NAME = 32

#: Template -> where it goes in the package (``$module``: the package's import name).
FILES = {
    "common/pyproject.toml.tmpl": "pyproject.toml",
    "common/README.md.tmpl": "README.md",
    "TASK/card.py.tmpl": "$module/__init__.py",
    "TASK/model.py.tmpl": "$module/model.py",
    "common/test_contract.py.tmpl": "tests/test_contract.py",
}


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "new-plugin",
        help="write a pip-installable package for a new architecture plugin, ready for archzoo check",
        description="Write a new architecture plugin's package: pyproject.toml with the archzoo entry point, the "
        "card (typed config and ArchSpec), the model and its hooks, a README and a contract-suite test. As "
        "written it passes 'archzoo check NAME' after 'pip install -e DIR', and its own pytest.",
    )
    p.add_argument(
        "name", metavar="NAME", help="the architecture's and the plugin's name: lowercase letters, digits, - or _"
    )
    p.add_argument(
        "--task",
        default=DEFAULT_TASK,
        metavar="TASK",
        help=f"what it does: {', '.join(STARTERS)} (default: {DEFAULT_TASK})",
    )
    p.add_argument("--out", metavar="DIR", help="the folder to write, new or empty (default: ./archzoo-NAME)")
    p.set_defaults(handler=new_plugin)


def new_plugin(args: argparse.Namespace) -> int:
    folder = scaffold(args.name, task=args.task, out=args.out)
    print(f"wrote {folder}: the '{args.name}' plugin ({args.task})")
    print("next:")
    print(f"  pip install -e {folder}")
    print(f"  archzoo check {args.name}")
    print(f"  archzoo train {args.name} --set epochs=3")
    return 0


def scaffold(
    name: str, *, task: str = DEFAULT_TASK, out: str | os.PathLike | None = None, host: Host | None = None
) -> Path:
    """Write the package for plugin ``name`` and return its folder.  Refuses, naming what is
    wrong and writing nothing, a bad name, a name an installed plugin or architecture has, an
    unknown task, and a destination that exists and is not an empty folder."""
    check_name(name)
    starter = STARTERS.get(task)
    if starter is None:
        raise ArchzooError(f"new-plugin writes these tasks: {', '.join(STARTERS)}; not {task!r}")
    names = package_names(name)
    check_not_installed(name, names, host)
    dest = (Path(out) if out is not None else Path.cwd() / names["distribution"]).resolve()
    check_free(dest)
    values = {**names, "task": task, "dataset": starter.dataset, "about": starter.about, **requirements()}
    rendered = {
        string.Template(target).substitute(values): render(template.replace("TASK", task), values)
        for template, target in FILES.items()
    }
    write_new_folder(dest, rendered)
    return dest


def check_name(name: str) -> None:
    if len(name) > MAX_NAME or not NAME_PATTERN.fullmatch(name):
        raise ArchzooError(
            f"{name!r} is not a valid plugin name: use lowercase letters, digits and single - or _ between them, "
            f"starting with a letter, at most {MAX_NAME} characters (e.g. 'my-net'); it names the architecture, "
            "the entry point, the distribution archzoo-NAME and the Python package archzoo_NAME"
        )


def package_names(name: str) -> dict[str, str]:
    """The names derived from the plugin's: ``my-net`` gives the distribution ``archzoo-my-net``,
    the package ``archzoo_my_net`` and the classes ``MyNet``, ``MyNetConfig``, ``TestMyNet``."""
    words = re.split(r"[-_]", name)
    if words[0] == "archzoo":  # archzoo-foo is archzoo-foo, not archzoo-archzoo-foo
        words = words[1:]
    stem = "_".join(words)
    module = f"archzoo_{stem}" if stem else "archzoo"
    class_name = "".join(w.capitalize() for w in re.split(r"[-_]", name))
    assert module.isidentifier() and not keyword.iskeyword(module) and class_name.isidentifier()
    return {"name": name, "distribution": module.replace("_", "-"), "module": module, "class_name": class_name}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def check_not_installed(name: str, names: dict[str, str], host: Host | None = None) -> None:
    """Refuse a name that would clash with what is installed: an architecture, a preset or a
    plugin of that name (or the same but for - and _), its distribution, or its Python package."""
    from archzoo.plugins import builtin
    from archzoo.registry.host import CORE_PLUGINS, get_host

    if host is None:
        host = get_host()
    wanted = _canonical(name)
    for arch, spec in host.architectures.items():
        if _canonical(arch) == wanted:
            raise ArchzooError(
                f"an architecture named '{arch}' is installed (plugin '{spec.plugin}', {spec.distribution}); "
                "choose another name"
            )
    plugins = {n for n, _ in host.pm.list_name_plugin()} | {b.name for b in host.broken}
    plugins |= {ep.name for ep in metadata.entry_points(group="archzoo")}  # disabled ones too
    plugins |= set(CORE_PLUGINS) | set(builtin()) | set(host.settings.disabled_plugins)
    for plugin in sorted(plugins):
        if _canonical(plugin) == wanted:
            raise ArchzooError(f"a plugin named '{plugin}' is installed; choose another name")
    for preset in host.presets:
        if _canonical(preset) == wanted:
            raise ArchzooError(f"'{preset}' is the name of a preset (archzoo info {preset}); choose another name")
    try:
        dist = metadata.distribution(names["distribution"])
    except metadata.PackageNotFoundError:
        pass
    else:
        raise ArchzooError(f"a distribution named '{dist.name}' is installed; choose another name")
    if util.find_spec(names["module"]) is not None:
        raise ArchzooError(f"a Python package named '{names['module']}' can already be imported; choose another name")


def check_free(dest: Path) -> None:
    if dest.is_dir() and any(dest.iterdir()):
        raise ArchzooError(f"{dest} already exists and is not empty; give --out a new or empty folder")
    if dest.exists() and not dest.is_dir():
        raise ArchzooError(f"{dest} already exists and is not a folder; give --out a new or empty folder")


def requirements() -> dict[str, str]:
    """The generated package's requirements: this archzoo or newer, and torch as archzoo asks for it."""
    from archzoo.registry.host import archzoo_version

    version = archzoo_version()
    try:
        required = metadata.requires("archzoo") or []
    except metadata.PackageNotFoundError:
        required = []
    torch = next((r for r in required if re.fullmatch(r"torch\s*(?:[<>=!~][^;]*)?", r.strip())), "torch")
    archzoo = f"archzoo>={version}" if "unknown" not in version else "archzoo"
    return {"archzoo_requirement": archzoo, "torch_requirement": torch.replace(" ", "")}


def render(template: str, values: dict[str, str]) -> str:
    text = (resources.files("archzoo.cli") / "scaffold-templates" / template).read_text(encoding="utf-8")
    return string.Template(text).substitute(values)


def write_new_folder(dest: Path, files: dict[str, str]) -> None:
    """Write ``files`` (relative path -> text) as the folder ``dest``, which must be new or
    empty.  What is there already, or appears there meanwhile, is never replaced."""
    if not dest.is_dir():
        _build_beside(dest, files)
    elif any(dest.iterdir()):
        raise ArchzooError(f"{dest} is not empty; nothing was written")
    else:
        _fill_in_place(dest, files)


def _build_beside(dest: Path, files: dict[str, str]) -> None:
    """A new folder is built beside ``dest`` and renamed into place: it appears whole or not at all."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}.tmp")
    staging.mkdir()  # not mkdtemp: the folder gets the user's usual permissions, not 0700
    try:
        for relative, text in files.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        try:
            os.rename(staging, dest)  # refused if dest has appeared meanwhile, unless as an empty folder
        except OSError as exc:
            raise ArchzooError(f"{dest} could not be created ({exc.strerror}); nothing was written") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _fill_in_place(dest: Path, files: dict[str, str]) -> None:
    """An existing empty folder (``--out .`` inside it, say) is filled where it is, each file and
    folder created only where nothing has its name; on a clash what was written is removed."""
    written: list[Path] = []
    try:
        for relative, text in files.items():
            path = dest / relative
            for folder in reversed(path.relative_to(dest).parents[:-1]):  # the folders above it, outermost first
                if not (dest / folder).is_dir():
                    (dest / folder).mkdir()
                    written.append(dest / folder)
            with path.open("x", encoding="utf-8") as handle:  # "x": fails rather than open an existing file
                written.append(path)
                handle.write(text)
    except FileExistsError as exc:
        for path in reversed(written):
            path.rmdir() if path.is_dir() else path.unlink()
        raise ArchzooError(f"{exc.filename} appeared while writing; nothing was written") from None
