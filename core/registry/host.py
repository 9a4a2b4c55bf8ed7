"""The plugin host: finds plugins, collects what they register, dispatches hooks.

Discovery order: the data sets archzoo itself provides, the built-in
architecture plugins, then every entry point in the ``archzoo`` group of every
installed distribution.  ``registry.toml`` can turn any of them off.  A plugin
that fails to import or register is recorded as broken, with a warning, and
everything else keeps working.
"""

from __future__ import annotations

import functools
import importlib
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

import pluggy

from archzoo.errors import DuplicateNameError, PluginBrokenError, UnknownNameError
from archzoo.plugins import builtin as builtin_plugins
from archzoo.registry import hookspecs
from archzoo.registry.paths import PathPolicy
from archzoo.registry.settings import Settings, load_settings
from archzoo.registry.specs import CLASSIFICATION_TASKS, ArchSpec, DatasetSpec

ENTRY_POINT_GROUP = "archzoo"
CORE_PLUGINS = {"datasets": "archzoo.data.catalogue"}
#: The task defaults (they import torch): plugin name -> (module, the tasks it answers for).
#: Registered in this order; pluggy puts each ``trylast`` hook behind those already there, so
#: regression is asked before classification (the classification defaults answer for any
#: classifier, and the MLP on regression data must get the regression step instead).
TASK_DEFAULTS = {
    "archzoo-regression-defaults": ("archzoo.toolkit.regression", ("tabular-regression",)),
    "archzoo-sequence-defaults": ("archzoo.toolkit.sequences", ("sequence-to-sequence",)),
    "archzoo-defaults": ("archzoo.toolkit.classification", CLASSIFICATION_TASKS),
}


@dataclass(frozen=True)
class BrokenPlugin:
    """A plugin that could not be loaded, and why."""

    name: str
    distribution: str
    error: str


@dataclass(frozen=True)
class Preset:
    """A named recipe from ``registry.toml``: architecture, dataset, config and training settings."""

    name: str
    architecture: str
    dataset: str
    summary: str
    config: dict[str, Any]
    train: dict[str, Any]
    #: Where it is written: "registry.toml", or the plugin that ships it.
    source: str = "registry.toml"


class Registry:
    """What ``archzoo_register`` receives: the place a plugin declares what it provides."""

    def __init__(self, host: Host, plugin: str, distribution: str, version: str) -> None:
        self._host = host
        self._plugin = plugin
        self._distribution = distribution
        self._version = version

    def add_architecture(self, spec: ArchSpec) -> None:
        spec = replace(spec, plugin=self._plugin, distribution=self._distribution, version=self._version)
        existing = self._host.architectures.get(spec.name)
        if existing is not None:
            raise DuplicateNameError(
                f"architecture '{spec.name}' is registered twice: by plugin '{existing.plugin}' "
                f"({existing.distribution}) and by plugin '{spec.plugin}' ({spec.distribution}); "
                f"uninstall or disable one of them in registry.toml"
            )
        self._host.architectures[spec.name] = spec

    def add_dataset(self, spec: DatasetSpec) -> None:
        spec = replace(spec, plugin=self._plugin)
        existing = self._host.datasets.get(spec.name)
        if existing is not None:
            raise DuplicateNameError(
                f"dataset '{spec.name}' is registered twice: by plugin '{existing.plugin}' and by plugin "
                f"'{spec.plugin}'"
            )
        self._host.datasets[spec.name] = spec

    def add_presets(self, path: str | Path) -> None:
        """Ship presets: a TOML file of ``[presets.NAME]`` tables, written as in ``registry.toml``.
        The operator's ``registry.toml`` wins over a preset of the same name; two plugins
        shipping one name are a :class:`DuplicateNameError` naming both."""
        import tomllib

        with Path(path).open("rb") as file:
            tables = tomllib.load(file).get("presets", {})
        for name, entry in tables.items():
            if not isinstance(entry, dict) or not entry.get("architecture"):
                raise ValueError(f"{path}: preset '{name}' needs a table with an 'architecture'")
            shipped = self._host.shipped_presets.get(name)
            if shipped is not None:
                raise DuplicateNameError(
                    f"preset '{name}' is shipped twice: by plugin '{shipped[0]}' and by plugin '{self._plugin}'; "
                    "uninstall or disable one of them in registry.toml"
                )
            self._host.shipped_presets[name] = (self._plugin, entry)

    def add_studies(self, path: str | Path) -> None:
        """Ship studies: a TOML file of ``[studies.NAME]`` tables, written as archzoo's own
        ``studies/shipped.toml``; ``archzoo study list`` reads it (torch-free, read when listed)."""
        self._host.study_files.append((self._plugin, Path(path)))


class Host:
    """All installed plugins, their architectures, data sets and presets."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        entry_points: bool = True,
        extra_plugins: dict[str, object] | None = None,
    ) -> None:
        self.settings = settings or load_settings()
        #: Where paths from outside may point (:mod:`archzoo.registry.paths`): the app sets its
        #: policy here; None (the command line) lets the user name any path.
        self.paths: PathPolicy | None = None
        #: The token an ``hf://`` location is pulled with: None lets huggingface_hub find the
        #: operator's; the app sets False (none) unless the operator lends theirs.
        self.hub_token: str | bool | None = None
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.architectures: dict[str, ArchSpec] = {}
        self.datasets: dict[str, DatasetSpec] = {}
        #: (plugin, path) of each studies file a plugin ships (:meth:`Registry.add_studies`).
        self.study_files: list[tuple[str, Path]] = []
        #: preset name -> (plugin, its table) for each preset a plugin ships (:meth:`Registry.add_presets`).
        self.shipped_presets: dict[str, tuple[str, dict[str, Any]]] = {}
        self.broken: list[BrokenPlugin] = []
        self._providers: dict[str, set[object]] = {}  # architecture -> plugin objects that implement it
        self._runtime_ready = False
        self._defaults: dict[object, tuple[str, ...]] = {}  # registered task-default module -> its tasks
        self._lock = threading.Lock()  # the UI loads architectures from several threads
        self._callers: dict[tuple[str, str], tuple[frozenset, Any]] = {}
        self._problems: dict[str, str | None] = {}  # architecture -> why its model module cannot import
        self._load(entry_points, extra_plugins or {})

    # -- discovery -----------------------------------------------------------------

    def _load(self, entry_points: bool, extra_plugins: dict[str, object]) -> None:
        version = archzoo_version()
        candidates: list[tuple[str, str, str, Any]] = []
        for name, module in {**CORE_PLUGINS, **builtin_plugins()}.items():
            candidates.append((name, "archzoo", version, module))
        if entry_points:
            for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
                dist = ep.dist.name if ep.dist else "unknown"
                dist_version = ep.dist.version if ep.dist else ""
                candidates.append((ep.name, dist, dist_version, ep))
        for name, plugin in extra_plugins.items():
            candidates.append((name, getattr(plugin, "__distribution__", "local"), "", plugin))

        for name, dist, dist_version, target in candidates:
            if name in self.settings.disabled_plugins:
                continue
            plugin = None
            try:
                plugin = _import_plugin(target)
                if self.pm.is_registered(plugin):
                    continue  # the same module reached twice (an editable install seen as an entry point, say)
                if self.pm.has_plugin(name):
                    raise ValueError(f"another plugin is already registered under the name '{name}'")
                self.pm.register(plugin, name=name)
                self.pm.check_pending()  # a misspelt hook name is an error, not a silent no-op
            except Exception as exc:  # any failure in third-party code must not stop the host
                if plugin is not None and self.pm.is_registered(plugin):
                    self.pm.unregister(plugin)
                self._mark_broken(name, dist, exc)
                continue
            self._register_plugin(name, dist, dist_version, plugin)

    def _register_plugin(self, name: str, dist: str, dist_version: str, plugin: object) -> None:
        before, before_data, before_studies = set(self.architectures), set(self.datasets), len(self.study_files)
        registry = Registry(self, name, dist, dist_version)
        impls = [i for i in self.pm.hook.archzoo_register.get_hookimpls() if i.plugin is plugin]
        try:
            for impl in impls:
                impl.function(registry=registry)
        except DuplicateNameError:
            raise
        except Exception as exc:
            for arch in set(self.architectures) - before:
                del self.architectures[arch]
            for data in set(self.datasets) - before_data:
                del self.datasets[data]
            del self.study_files[before_studies:]
            for preset in [p for p, (owner, _) in self.shipped_presets.items() if owner == name]:
                del self.shipped_presets[preset]
            self.pm.unregister(plugin)
            self._mark_broken(name, dist, exc)
            return
        for arch in set(self.architectures) - before:
            self._providers[arch] = {plugin}

    def _mark_broken(self, name: str, dist: str, exc: BaseException) -> None:
        error = one_line(exc)
        self.broken.append(BrokenPlugin(name, dist, error))
        warnings.warn(f"archzoo plugin '{name}' ({dist}) failed to load and is skipped: {error}", stacklevel=2)

    # -- lookup --------------------------------------------------------------------

    def architecture(self, name: str) -> ArchSpec:
        try:
            return self.architectures[name]
        except KeyError:
            self._refuse_if_broken(name)
            known = list(self.architectures) + list(self.presets)
            raise UnknownNameError("architecture", name, known, hint=self._unknown_hint()) from None

    def _refuse_if_broken(self, name: str) -> None:
        """A name that is a broken plugin's own (or its distribution's, less the
        ``archzoo-`` prefix) is that plugin's architecture: say it failed, not that it is unknown."""
        wanted = name.lower().replace("_", "-")
        for broken in self.broken:
            names = {broken.name.lower(), broken.distribution.lower().removeprefix("archzoo-")}
            if wanted in {n.replace("_", "-") for n in names}:
                raise PluginBrokenError(
                    f"architecture '{name}' is not available: its plugin '{broken.name}' ({broken.distribution}) "
                    f"failed to load: {broken.error}"
                )

    def _unknown_hint(self) -> str:
        """What to say after an unknown architecture name: where to look, and the plugins that
        failed to load, since the name may be one of theirs."""
        if not self.broken:
            return "run 'archzoo list' to see what is installed"
        failed = "; ".join(f"'{b.name}' ({b.distribution}): {b.error}" for b in self.broken)
        return f"it may belong to a plugin that failed to load: {failed}"

    def dataset(self, name: str) -> DatasetSpec:
        try:
            return self.datasets[name]
        except KeyError:
            raise UnknownNameError(
                "dataset", name, list(self.datasets), hint="or give the path of an image folder"
            ) from None

    @cached_property
    def presets(self) -> dict[str, Preset]:
        """Presets from plugins and from ``registry.toml`` (which wins on a name both use), for
        architectures that are installed."""
        written = {name: (plugin, entry) for name, (plugin, entry) in self.shipped_presets.items()}
        written.update({name: ("registry.toml", entry) for name, entry in self.settings.presets.items()})
        return {
            name: Preset(
                name=name,
                architecture=entry["architecture"],
                dataset=entry.get("dataset", ""),
                summary=entry.get("summary", ""),
                config=dict(entry.get("config", {})),
                train=dict(entry.get("train", {})),
                source=source,
            )
            for name, (source, entry) in written.items()
            if entry.get("architecture") in self.architectures
        }

    def resolve(self, name: str) -> tuple[ArchSpec, Preset | None]:
        """An architecture or preset name -> (architecture spec, preset or None)."""
        if name in self.architectures:
            return self.architectures[name], None
        if name in self.presets:
            preset = self.presets[name]
            return self.architectures[preset.architecture], preset
        self._refuse_if_broken(name)
        known = list(self.architectures) + list(self.presets)
        raise UnknownNameError("architecture or preset", name, known, hint=self._unknown_hint())

    # -- dispatch ------------------------------------------------------------------

    def hooks(self, spec: ArchSpec | str) -> ArchHooks:
        """The model hooks for one architecture, with other architectures' plugins left out."""
        if isinstance(spec, str):
            spec = self.architecture(spec)
        with self._lock:
            self._ensure_runtime()
            providers = self._providers.setdefault(spec.name, set())
            if spec.implementation:
                module = self._implementation(spec)
                if not self.pm.is_registered(module):
                    self.pm.register(module, name=f"{spec.plugin}:{spec.implementation}")
                providers.add(module)
        return ArchHooks(spec, self)

    def _implementation(self, spec: ArchSpec) -> Any:
        """The architecture's model module, imported; a module that fails to import (a syntax
        error, a missing dependency) marks its plugin broken and is a one-line error."""
        try:
            return importlib.import_module(spec.implementation)
        except Exception as exc:  # third-party code: any failure, reported, never a traceback
            error = one_line(exc)
            if not any(b.name == spec.plugin and error in b.error for b in self.broken):
                self.broken.append(BrokenPlugin(spec.plugin, spec.distribution, f"{spec.implementation}: {error}"))
            raise PluginBrokenError(
                f"architecture '{spec.name}' cannot be used: its model module {spec.implementation} (plugin "
                f"'{spec.plugin}', {spec.distribution} {spec.version}".rstrip()
                + f") fails to import: {error}"
            ) from None

    def implementation_problem(self, spec: ArchSpec) -> str | None:
        """Why the architecture's model module would not import, found without importing it
        (so without torch): a module that is not there, or a syntax error; None otherwise.
        Looked at once per host: its source is read and compiled."""
        if spec.name not in self._problems:
            self._problems[spec.name] = _static_problem(spec)
        return self._problems[spec.name]

    def subset_caller(self, spec: ArchSpec, hook: str) -> Any:
        """A caller for ``hook`` that leaves out every plugin providing another
        architecture.  Remade whenever the set of registered plugins changes,
        so implementation modules registered later (another architecture used
        in between) stay out; cached otherwise, since it runs on every step."""
        key = (spec.name, hook)
        generation = frozenset(map(id, self.pm.get_plugins()))
        cached = self._callers.get(key)
        if cached is not None and cached[0] == generation:
            return cached[1]
        providers = self._providers.get(spec.name, set())
        others = set().union(*(p for arch, p in self._providers.items() if arch != spec.name)) - providers
        # A default that cannot answer for any of its tasks would only answer None: leaving it out
        # keeps one implementation in the call, which train_step_caller then calls directly.
        others |= {module for module, tasks in self._defaults.items() if not set(tasks) & set(spec.tasks)}
        caller = self.pm.subset_hook_caller(hook, remove_plugins=others)
        self._callers[key] = (generation, caller)
        return caller

    def _ensure_runtime(self) -> None:
        """Register the task defaults (they import torch) the first time a model hook is needed."""
        if not self._runtime_ready:
            for name, (module_name, tasks) in TASK_DEFAULTS.items():
                module = importlib.import_module(module_name)
                self.pm.register(module, name=name)
                self._defaults[module] = tasks
            self._runtime_ready = True


class ArchHooks:
    """The model hooks (and ``configure_optimizers``, ``text_tokenizer``, ``archzoo_views``) of one architecture."""

    def __init__(self, spec: ArchSpec, host: Host) -> None:
        self.spec = spec
        self._host = host

    def _call(self, hook: str, required: bool, **kwargs: Any) -> Any:
        result = self._host.subset_caller(self.spec, hook)(spec=self.spec, **kwargs)
        if result is None and required:
            raise self._missing(hook)
        return result

    def _missing(self, hook: str) -> NotImplementedError:
        return NotImplementedError(
            f"plugin '{self.spec.plugin}' implements no '{hook}' for architecture '{self.spec.name}' "
            f"(task {self.spec.task}) and archzoo has no default for that task"
        )

    def train_step_caller(self) -> Callable[[Any, Any, Any], dict[str, float]]:
        """``train_step`` looked up once, for a training loop.

        ``train_step`` below checks on every call whether plugins were added
        since the caller was made; within one run they are not, and a loop of
        short steps should not pay for the check thousands of times.

        When no plugin wraps the step and every implementation takes the hook's
        four arguments (the usual case: one plugin's step, or the task defaults
        of a classifier that also regresses, the MLP), they are called directly
        in pluggy's order, the first answer winning, as pluggy's ``firstresult``
        dispatch would: skipping it saves about 10 us a step, half a percent of a
        small MLP's.  Otherwise every call goes through pluggy."""
        caller, spec = self._host.subset_caller(self.spec, "train_step"), self.spec
        impls = caller.get_hookimpls()
        direct = bool(impls) and all(
            not (impl.hookwrapper or impl.wrapper) and impl.argnames == ("spec", "model", "batch", "ctx")
            for impl in impls
        )
        functions = [impl.function for impl in reversed(impls)]  # pluggy calls the list from its end
        if direct and len(functions) == 1:
            call = functions[0]
        elif direct:

            def call(spec: Any, model: Any, batch: Any, ctx: Any) -> Any:
                for function in functions:
                    result = function(spec, model, batch, ctx)
                    if result is not None:
                        return result
                return None

        else:

            def call(spec: Any, model: Any, batch: Any, ctx: Any) -> Any:
                return caller(spec=spec, model=model, batch=batch, ctx=ctx)

        def train_step(model: Any, batch: Any, ctx: Any) -> dict[str, float]:
            result = call(spec, model, batch, ctx)
            if result is None:
                raise self._missing("train_step")
            return result

        return train_step

    def build_model(self, config: Any) -> Any:
        return self._call("build_model", True, config=config)

    def configure_optimizers(self, model: Any, train_config: Any) -> Any:
        return self._call("configure_optimizers", False, model=model, train_config=train_config)

    def train_step(self, model: Any, batch: Any, ctx: Any) -> dict[str, float]:
        return self._call("train_step", True, model=model, batch=batch, ctx=ctx)

    def evaluate(self, model: Any, loader: Any, ctx: Any) -> dict[str, float]:
        return self._call("evaluate", True, model=model, loader=loader, ctx=ctx)

    def sample(self, model: Any, request: dict, ctx: Any) -> Any:
        return self._call("sample", True, model=model, request=request, ctx=ctx)

    def views(self, model: Any, ctx: Any) -> list[Any]:
        """Every plugin's answer to ``archzoo_views`` for this architecture (a list; none: empty)."""
        return list(self._host.subset_caller(self.spec, "archzoo_views")(spec=self.spec, model=model, ctx=ctx) or [])

    def text_tokenizer(self, config: Any, download: bool = False) -> Any:
        """The tokenizer this architecture reads text with (a pretrained encoder's), or None."""
        return self._call("text_tokenizer", False, config=config, download=download)


def _import_plugin(target: Any) -> object:
    if isinstance(target, str):
        return importlib.import_module(target)
    if isinstance(target, metadata.EntryPoint):
        return target.load()
    return target


@functools.cache
def archzoo_version() -> str:
    """The installed archzoo's version (looked up once: reading distribution metadata is slow)."""
    try:
        return metadata.version("archzoo")
    except metadata.PackageNotFoundError:
        return "0+unknown"


_HOST: Host | None = None


def get_host() -> Host:
    """The process-wide host, built on first use."""
    global _HOST
    if _HOST is None:
        _HOST = Host()
    return _HOST


def reset_host() -> None:
    """Forget the process-wide host (tests that install or disable plugins use this)."""
    global _HOST
    _HOST = None


def one_line(exc: BaseException) -> str:
    """An exception as one line: its type and message, and for a syntax error the file and line."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"SyntaxError: {exc.msg} ({exc.filename}, line {exc.lineno})"
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


def _static_problem(spec: ArchSpec) -> str | None:
    """:meth:`Host.implementation_problem`, looked at afresh."""
    if not spec.implementation:
        return None
    import importlib.util

    try:
        found = importlib.util.find_spec(spec.implementation)
    except (ImportError, ValueError) as exc:
        return one_line(exc)
    if found is None:
        return f"ModuleNotFoundError: no module named '{spec.implementation}'"
    if not found.origin or not found.origin.endswith(".py"):
        return None
    try:
        compile(Path(found.origin).read_bytes(), found.origin, "exec")
    except (SyntaxError, ValueError) as exc:
        return one_line(exc)
    except OSError:
        return None
    return None
