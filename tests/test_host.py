"""The plugin host (archzoo.registry.host.Host) with real pluggy plugins.

Most tests switch the built-in plugins off (an ``ARCHZOO_REGISTRY`` file, as a
team or a CI would) and hand the host small plugin objects through
``extra_plugins``, or real installed distributions made on the fly: a module
plus a ``*.dist-info`` folder with ``entry_points.txt`` on ``sys.path``, which
``importlib.metadata`` finds exactly as it finds a ``pip install``-ed package.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

from archzoo import (
    ArchSpec,
    ArchzooError,
    DatasetSpec,
    DuplicateNameError,
    UnknownNameError,
    hookimpl,
    param,
)
from archzoo.errors import PluginBrokenError, PluginMissingError
from archzoo.plugins import builtin
from archzoo.registry import catalog
from archzoo.registry.host import (
    CORE_PLUGINS,
    BrokenPlugin,
    Host,
    Preset,
    get_host,
    reset_host,
)
from archzoo.registry.settings import load_settings

BUILT_IN_PLUGINS = [*CORE_PLUGINS, *builtin()]


@dataclass
class ToyConfig:
    width: int = param(4, "a width", min=1)


def toy_spec(name: str, task: str = "image-generation", **extra) -> ArchSpec:
    # image-generation: a task archzoo has no default hooks for, so every answer
    # in these tests comes from the test's own plugins.
    return ArchSpec(name=name, task=task, summary=f"the {name} toy", config=ToyConfig, default_dataset="toy", **extra)


class ArchPlugin:
    """A plugin object that provides architectures (and, in subclasses, model hooks)."""

    def __init__(self, *names: str, implementation: str | None = None, label: str = "") -> None:
        self.names = names
        self.implementation = implementation
        self.label = label or (names[0] if names else "")
        self.calls: list[tuple[str, str]] = []

    @hookimpl
    def archzoo_register(self, registry):
        for name in self.names:
            registry.add_architecture(toy_spec(name, implementation=self.implementation))


class TrainingPlugin(ArchPlugin):
    """Implements train_step and build_model as plain functions: no torch needed."""

    @hookimpl
    def build_model(self, spec, config):
        self.calls.append(("build_model", spec.name))
        return {"model-of": self.label, "width": config.width}

    @hookimpl
    def train_step(self, spec, model, batch, ctx):
        self.calls.append(("train_step", spec.name))
        return {"loss": float(len(self.label)), "by": self.label, "batch": batch}


class Recorder:
    """A cross-cutting plugin: provides no architecture, wraps every train_step."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    @hookimpl(wrapper=True)
    def train_step(self, spec, model, batch, ctx):
        self.calls.append(("before", spec.name))
        result = yield
        self.calls.append(("after", spec.name, result["by"]))
        return {**result, "wrapped": True}


@pytest.fixture
def registry_file(tmp_path, monkeypatch):
    """Point ARCHZOO_REGISTRY at a file that turns the built-in plugins off.

    Returns a function that rewrites the file with more disabled names and
    extra TOML (presets).
    """
    path = tmp_path / "registry.toml"

    def write(disabled=(), extra: str = "") -> Path:
        names = [*BUILT_IN_PLUGINS, *disabled]
        path.write_text(f"[plugins]\ndisabled = {names!r}\n\n{extra}", encoding="utf-8")
        return path

    write()
    monkeypatch.setenv("ARCHZOO_REGISTRY", str(path))
    reset_host()
    yield write
    reset_host()


@pytest.fixture
def fresh_modules():
    """Unique module names for files written into tmp_path, forgotten afterwards."""
    made: list[str] = []

    def name(stem: str) -> str:
        module = f"{stem}_{uuid.uuid4().hex[:8]}"
        made.append(module)
        return module

    yield name
    for module in made:
        sys.modules.pop(module, None)


def write_distribution(
    root: Path, dist: str, version: str, modules: dict[str, str], entry_points: dict[str, str]
) -> Path:
    """A minimal installed distribution: module files plus ``<name>-<version>.dist-info``."""
    for module, source in modules.items():
        (root / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n", encoding="utf-8")
    lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[archzoo]\n{lines}", encoding="utf-8")
    return info


def quiet_host(**kwargs) -> Host:
    """A Host that must not warn."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return Host(**kwargs)


# -- registering through extra_plugins ----------------------------------------------


def test_extra_plugin_architecture_is_registered(registry_file):
    plugin = ArchPlugin("toy-mlp", "toy-cnn")
    host = quiet_host(entry_points=False, extra_plugins={"toys": plugin})
    assert set(host.architectures) == {"toy-mlp", "toy-cnn"}
    spec = host.architecture("toy-mlp")
    assert spec.plugin == "toys"
    assert spec.distribution == "local"
    assert spec.version == ""
    assert spec.config is ToyConfig
    resolved, preset = host.resolve("toy-cnn")
    assert resolved is host.architectures["toy-cnn"] and preset is None
    assert host.broken == []
    assert host.pm.get_plugin("toys") is plugin


def test_distribution_attribute_is_recorded(registry_file):
    plugin = ArchPlugin("toy")
    plugin.__distribution__ = "my-dist"
    host = quiet_host(entry_points=False, extra_plugins={"toys": plugin})
    assert host.architecture("toy").distribution == "my-dist"


def test_disabled_built_ins_are_not_loaded(registry_file):
    host = quiet_host(entry_points=False)
    assert host.architectures == {} and host.datasets == {}
    for name in BUILT_IN_PLUGINS:
        assert not host.pm.has_plugin(name)
    assert set(host.settings.disabled_plugins) >= set(BUILT_IN_PLUGINS)


def test_unknown_name_suggests_close_names(registry_file):
    host = quiet_host(entry_points=False, extra_plugins={"toys": ArchPlugin("mlp", "cnn", "resnet")})
    with pytest.raises(UnknownNameError) as info:
        host.resolve("mpl")
    message = str(info.value)
    assert "unknown architecture or preset 'mpl'" in message
    assert "did you mean 'mlp'" in message
    assert "archzoo list" in message
    assert info.value.name == "mpl"
    assert isinstance(info.value, LookupError) and isinstance(info.value, ArchzooError)

    with pytest.raises(UnknownNameError, match="did you mean 'resnet'"):
        host.architecture("resnt")
    with pytest.raises(UnknownNameError) as info:
        host.hooks("cnnn")
    assert "'cnn'" in str(info.value)


def test_unknown_name_without_close_match_lists_everything(registry_file):
    host = quiet_host(entry_points=False, extra_plugins={"toys": ArchPlugin("mlp", "cnn")})
    with pytest.raises(UnknownNameError) as info:
        host.resolve("transformer")
    assert "known: cnn, mlp" in str(info.value)
    with pytest.raises(UnknownNameError, match="unknown dataset 'nope'.*image folder"):
        host.dataset("nope")


# -- duplicates ----------------------------------------------------------------------------


def test_duplicate_architecture_names_both_plugins(registry_file):
    with pytest.raises(DuplicateNameError) as info:
        Host(
            entry_points=False, extra_plugins={"first-plugin": ArchPlugin("twin"), "second-plugin": ArchPlugin("twin")}
        )
    message = str(info.value)
    assert "'twin'" in message
    assert "'first-plugin'" in message and "'second-plugin'" in message
    assert "registry.toml" in message  # says how to fix it
    assert isinstance(info.value, ArchzooError)


def test_duplicate_dataset_names_both_plugins(registry_file):
    class DataPlugin:
        @hookimpl
        def archzoo_register(self, registry):
            registry.add_dataset(DatasetSpec(name="pixels", task="image-classification", summary="", loader="x:y"))

    with pytest.raises(DuplicateNameError) as info:
        Host(entry_points=False, extra_plugins={"data-one": DataPlugin(), "data-two": DataPlugin()})
    assert "'pixels'" in str(info.value)
    assert "'data-one'" in str(info.value) and "'data-two'" in str(info.value)


def test_disabling_one_of_two_duplicates_resolves_the_clash(registry_file):
    registry_file(disabled=["second-plugin"])
    host = quiet_host(
        entry_points=False, extra_plugins={"first-plugin": ArchPlugin("twin"), "second-plugin": ArchPlugin("twin")}
    )
    assert host.architecture("twin").plugin == "first-plugin"


# -- broken plugins ------------------------------------------------------------------------


class ExplodingPlugin:
    @hookimpl
    def archzoo_register(self, registry):
        registry.add_architecture(toy_spec("half-registered"))
        raise RuntimeError("boom: the plugin's own bug")

    @hookimpl
    def train_step(self, spec, model, batch, ctx):  # pragma: no cover - must never be reached
        raise AssertionError("a broken plugin's hooks must not be called")


def test_plugin_whose_register_raises_is_recorded_as_broken(registry_file):
    before, after = TrainingPlugin("before"), TrainingPlugin("after")
    with pytest.warns(UserWarning, match=r"archzoo plugin 'exploding' \(local\) failed to load.*boom") as record:
        host = Host(
            entry_points=False, extra_plugins={"before": before, "exploding": ExplodingPlugin(), "after": after}
        )
    assert len([w for w in record if "exploding" in str(w.message)]) == 1
    assert host.broken == [BrokenPlugin("exploding", "local", "RuntimeError: boom: the plugin's own bug")]
    # the others load, and nothing the broken plugin half-registered is left behind
    assert set(host.architectures) == {"before", "after"}
    assert not host.pm.has_plugin("exploding")
    assert host.hooks("after").train_step(model=None, batch=1, ctx=None)["by"] == "after"


def test_plugin_failing_pluggy_validation_is_broken(registry_file):
    class WrongArguments:
        @hookimpl
        def build_model(self, spec, cfg):  # the spec says `config`
            return None

    with pytest.warns(UserWarning, match="'wrong-args'"):
        host = Host(entry_points=False, extra_plugins={"wrong-args": WrongArguments(), "fine": ArchPlugin("fine")})
    (broken,) = host.broken
    assert broken.name == "wrong-args"
    assert "PluginValidationError" in broken.error and "cfg" in broken.error
    assert "fine" in host.architectures


def test_broken_plugin_leaves_no_datasets_behind(registry_file):
    class LeakyPlugin:
        @hookimpl
        def archzoo_register(self, registry):
            registry.add_dataset(DatasetSpec(name="leaky-data", task="image-classification", summary="", loader="x:y"))
            raise RuntimeError("fails after adding a dataset")

    with pytest.warns(UserWarning, match="'leaky'"):
        host = Host(entry_points=False, extra_plugins={"leaky": LeakyPlugin()})
    assert host.broken[0].name == "leaky"
    assert "leaky-data" not in host.datasets


# -- entry-point discovery -----------------------------------------------------------------

GOOD_PLUGIN = """
from dataclasses import dataclass
from archzoo import ArchSpec, hookimpl, param

@dataclass
class ExampleConfig:
    width: int = param(8, "a width", min=1)

@hookimpl
def archzoo_register(registry):
    registry.add_architecture(ArchSpec(
        name="{arch}", task="image-classification", summary="from an entry point",
        config=ExampleConfig, default_dataset="digits", parameters=123,
    ))
"""

BROKEN_PLUGIN = """
import archzoo_dependency_that_is_not_installed_{tag}
"""


def test_entry_point_plugin_is_discovered(registry_file, tmp_path, monkeypatch, fresh_modules):
    module = fresh_modules("example_archzoo_plugin")
    arch = f"example-{module[-8:]}"
    write_distribution(
        tmp_path, "archzoo-example-dist", "0.1", {module: GOOD_PLUGIN.format(arch=arch)}, {"example": module}
    )
    monkeypatch.syspath_prepend(str(tmp_path))

    host = quiet_host()
    spec = host.architecture(arch)
    assert spec.plugin == "example"
    assert spec.distribution == "archzoo-example-dist"
    assert spec.version == "0.1"
    assert spec.parameters == 123
    assert host.pm.get_plugin("example") is sys.modules[module]
    assert host.broken == []


def test_entry_point_that_fails_to_import_is_broken(registry_file, tmp_path, monkeypatch, fresh_modules):
    good, bad = fresh_modules("example_archzoo_plugin"), fresh_modules("broken_archzoo_plugin")
    arch = f"example-{good[-8:]}"
    write_distribution(tmp_path, "archzoo-good-dist", "1.2.3", {good: GOOD_PLUGIN.format(arch=arch)}, {"good": good})
    write_distribution(
        tmp_path, "archzoo-broken-dist", "0.0.1", {bad: BROKEN_PLUGIN.format(tag=bad[-8:])}, {"broken": bad}
    )
    monkeypatch.syspath_prepend(str(tmp_path))

    with pytest.warns(
        UserWarning, match=r"archzoo plugin 'broken' \(archzoo-broken-dist\) failed to load.*ModuleNotFoundError"
    ):
        host = Host(extra_plugins={"local-toys": ArchPlugin("toy")})
    (broken,) = [b for b in host.broken if b.name == "broken"]
    assert broken.distribution == "archzoo-broken-dist"
    assert broken.error.startswith("ModuleNotFoundError:")
    assert "archzoo_dependency_that_is_not_installed" in broken.error
    assert not host.pm.has_plugin("broken")
    # everything else is fine
    assert host.architecture(arch).distribution == "archzoo-good-dist"
    assert host.architecture(arch).version == "1.2.3"
    assert "toy" in host.architectures
    assert host.resolve(arch)[0].plugin == "good"


def test_entry_points_can_be_switched_off(registry_file, tmp_path, monkeypatch, fresh_modules):
    module = fresh_modules("example_archzoo_plugin")
    write_distribution(
        tmp_path, "archzoo-example-dist", "0.1", {module: GOOD_PLUGIN.format(arch="ep-arch")}, {"example": module}
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    host = quiet_host(entry_points=False)
    assert "ep-arch" not in host.architectures
    assert module not in sys.modules


# -- registry.toml ---------------------------------------------------------------------


def test_registry_file_disables_an_extra_plugin(registry_file):
    path = registry_file(disabled=["toy-b"])
    assert load_settings().source == str(path)
    host = quiet_host(entry_points=False, extra_plugins={"toy-a": ArchPlugin("a"), "toy-b": ArchPlugin("b")})
    assert set(host.architectures) == {"a"}
    assert not host.pm.has_plugin("toy-b")
    with pytest.raises(UnknownNameError):
        host.resolve("b")


def test_registry_file_disables_an_entry_point_without_importing_it(
    registry_file, tmp_path, monkeypatch, fresh_modules
):
    module = fresh_modules("example_archzoo_plugin")
    write_distribution(
        tmp_path, "archzoo-example-dist", "0.1", {module: GOOD_PLUGIN.format(arch="ep-arch")}, {"example": module}
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    registry_file(disabled=["example"])
    host = quiet_host()
    assert "ep-arch" not in host.architectures
    assert module not in sys.modules  # a disabled plugin is never even imported


def test_registry_file_presets(registry_file):
    registry_file(
        extra=textwrap.dedent(
            """
            [presets.toy-wide]
            architecture = "toy"
            dataset = "digits"
            summary = "a wider toy"
            config = { width = 64 }
            train = { epochs = 2, lr = 0.01 }

            [presets.needs-missing-plugin]
            architecture = "not-installed"
            """
        )
    )
    host = quiet_host(entry_points=False, extra_plugins={"toys": ArchPlugin("toy")})
    spec, preset = host.resolve("toy-wide")
    assert spec.name == "toy"
    assert preset == Preset("toy-wide", "toy", "digits", "a wider toy", {"width": 64}, {"epochs": 2, "lr": 0.01})
    # a preset for an architecture that is not installed is not offered
    assert "needs-missing-plugin" not in host.presets
    with pytest.raises(UnknownNameError, match="did you mean 'toy-wide'"):
        host.resolve("toy-wid")


def test_unreadable_registry_file_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHZOO_REGISTRY", str(tmp_path / "missing.toml"))
    with pytest.raises(ArchzooError, match="cannot read registry file .*missing.toml"):
        Host(entry_points=False)
    bad = tmp_path / "bad.toml"
    bad.write_text("[plugins\n", encoding="utf-8")
    monkeypatch.setenv("ARCHZOO_REGISTRY", str(bad))
    with pytest.raises(ArchzooError, match="not valid TOML"):
        Host(entry_points=False)


def test_get_host_is_shared_until_reset(registry_file):
    first = get_host()
    assert get_host() is first
    reset_host()
    assert get_host() is not first


# -- dispatch ----------------------------------------------------------------------------


def test_hooks_reach_only_the_chosen_architecture_and_wrappers_see_all(registry_file):
    a, b, recorder = TrainingPlugin("a", label="plugin-a"), TrainingPlugin("b", label="plugin-b"), Recorder()
    host = quiet_host(entry_points=False, extra_plugins={"plugin-a": a, "plugin-b": b, "recorder": recorder})

    result_a = host.hooks("a").train_step(model="m", batch=[1, 2], ctx=None)
    assert result_a == {"loss": 8.0, "by": "plugin-a", "batch": [1, 2], "wrapped": True}
    assert a.calls == [("train_step", "a")] and b.calls == []

    result_b = host.hooks(host.architecture("b")).train_step(model="m", batch=[3], ctx=None)
    assert result_b == {"loss": 8.0, "by": "plugin-b", "batch": [3], "wrapped": True}
    assert b.calls == [("train_step", "b")] and a.calls == [("train_step", "a")]

    assert recorder.calls == [("before", "a"), ("after", "a", "plugin-a"), ("before", "b"), ("after", "b", "plugin-b")]

    # the wrapper does not own an architecture, and is not removed from any call
    assert host.hooks("a").build_model(ToyConfig(width=3)) == {"model-of": "plugin-a", "width": 3}
    assert host.hooks("b").build_model(ToyConfig()) == {"model-of": "plugin-b", "width": 4}


def test_the_training_loops_bound_caller_dispatches_like_the_hook(registry_file):
    """The trainer looks train_step up once per run: the same plugin answers, wrappers still run."""
    a, b, recorder = TrainingPlugin("a", label="plugin-a"), TrainingPlugin("b", label="plugin-b"), Recorder()
    host = quiet_host(entry_points=False, extra_plugins={"plugin-a": a, "plugin-b": b, "recorder": recorder})
    step = host.hooks("b").train_step_caller()
    assert (
        step("m", [5], None) == step("m", [5], None) == {"loss": 8.0, "by": "plugin-b", "batch": [5], "wrapped": True}
    )
    assert b.calls == [("train_step", "b")] * 2 and a.calls == []
    assert recorder.calls == [("before", "b"), ("after", "b", "plugin-b")] * 2
    bare = quiet_host(entry_points=False, extra_plugins={"bare": ArchPlugin("bare")})
    with pytest.raises(NotImplementedError, match="plugin 'bare' implements no 'train_step' for architecture 'bare'"):
        bare.hooks("bare").train_step_caller()("m", [1], None)


class ShortStepPlugin(ArchPlugin):
    """A train_step that declares only some of the hook's arguments, in its own order."""

    @hookimpl
    def train_step(self, batch, spec):
        return {"loss": float(sum(batch)), "by": spec.name}


def test_the_bound_caller_without_wrappers_calls_the_one_implementation_with_its_own_arguments(registry_file):
    """With one implementation and no wrapper the caller may skip pluggy's dispatch:
    same answers as the hook; one that declares fewer arguments still gets them by name."""
    a, short = TrainingPlugin("a", label="plugin-a"), ShortStepPlugin("short")
    host = quiet_host(entry_points=False, extra_plugins={"plugin-a": a, "short": short})
    assert host.hooks("a").train_step_caller()("m", [5], None) == host.hooks("a").train_step(
        model="m", batch=[5], ctx=None
    )
    assert a.calls == [("train_step", "a")] * 2
    assert host.hooks("short").train_step_caller()("m", [2, 3], None) == {"loss": 5.0, "by": "short"}


def test_plain_pluggy_call_would_reach_both(registry_file):
    """The reason for subset calls: pluggy's own hook caller asks every plugin (last registered first)."""
    a, b = TrainingPlugin("a"), TrainingPlugin("b")
    host = quiet_host(entry_points=False, extra_plugins={"plugin-a": a, "plugin-b": b})
    spec_a = host.architecture("a")
    assert host.pm.hook.train_step(spec=spec_a, model=None, batch=0, ctx=None)["by"] == "b"  # wrong plugin
    assert host.hooks("a").train_step(model=None, batch=0, ctx=None)["by"] == "a"


def test_first_result_wins_and_none_falls_through(registry_file):
    class Declines(ArchPlugin):
        @hookimpl(tryfirst=True)
        def train_step(self, spec, model, batch, ctx):
            self.calls.append(("train_step", spec.name))
            return None

    class Answers:
        """Provides no architecture of its own, so it takes part in every call."""

        @hookimpl
        def train_step(self, spec, model, batch, ctx):
            return {"loss": 0.5, "by": "answers"}

    declines = Declines("picky")
    host = quiet_host(entry_points=False, extra_plugins={"answers": Answers(), "picky": declines})
    assert host.hooks("picky").train_step(model=None, batch=0, ctx=None) == {"loss": 0.5, "by": "answers"}
    assert declines.calls == [("train_step", "picky")]


def test_missing_required_hook_is_a_clear_error(registry_file):
    host = quiet_host(entry_points=False, extra_plugins={"bare": ArchPlugin("bare")})
    hooks = host.hooks("bare")
    with pytest.raises(NotImplementedError, match="plugin 'bare' implements no 'build_model' for architecture 'bare'"):
        hooks.build_model(ToyConfig())
    with pytest.raises(NotImplementedError, match="'sample'.*image-generation"):
        hooks.sample(model=None, request={}, ctx=None)
    # configure_optimizers is optional: None means "use the default"
    assert hooks.configure_optimizers(model=None, train_config=None) is None


def test_defaults_are_registered_on_first_use(registry_file):
    host = quiet_host(entry_points=False, extra_plugins={"toys": TrainingPlugin("toy")})
    assert not host.pm.has_plugin("archzoo-defaults")
    host.hooks("toy")
    assert host.pm.has_plugin("archzoo-defaults")
    host.hooks("toy")  # registering twice would raise inside pluggy
    # the defaults never answer for a task they do not know
    assert host.hooks("toy").train_step(model=None, batch=0, ctx=None)["by"] == "toy"


# -- lazy implementation modules ----------------------------------------------------------

IMPLEMENTATION = """
from archzoo import hookimpl

CALLS = []

@hookimpl
def build_model(spec, config):
    CALLS.append(spec.name)
    return ("{label}", spec.name, config.width)
"""


def test_implementation_module_is_registered_on_first_use(registry_file, tmp_path, monkeypatch, fresh_modules):
    module = fresh_modules("toy_model_impl")
    (tmp_path / f"{module}.py").write_text(IMPLEMENTATION.format(label="impl"), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))

    host = quiet_host(entry_points=False, extra_plugins={"toys": ArchPlugin("lazy", implementation=module)})
    assert host.architecture("lazy").implementation == module
    assert module not in sys.modules  # listing never imports the model code

    hooks = host.hooks("lazy")
    implementation = sys.modules[module]
    assert host.pm.is_registered(implementation)
    assert host.pm.get_name(implementation) == f"toys:{module}"
    assert hooks.build_model(ToyConfig(width=7)) == ("impl", "lazy", 7)
    assert implementation.CALLS == ["lazy"]
    assert host.hooks("lazy").build_model(ToyConfig()) == ("impl", "lazy", 4)  # registered once, used again


def two_lazy_architectures(tmp_path, monkeypatch, fresh_modules):
    module_a, module_b = fresh_modules("impl_a"), fresh_modules("impl_b")
    (tmp_path / f"{module_a}.py").write_text(IMPLEMENTATION.format(label="A"), encoding="utf-8")
    (tmp_path / f"{module_b}.py").write_text(IMPLEMENTATION.format(label="B"), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return quiet_host(
        entry_points=False,
        extra_plugins={
            "plugin-a": ArchPlugin("a", implementation=module_a),
            "plugin-b": ArchPlugin("b", implementation=module_b),
        },
    )


def test_implementation_modules_are_kept_apart(registry_file, tmp_path, monkeypatch, fresh_modules):
    host = two_lazy_architectures(tmp_path, monkeypatch, fresh_modules)
    assert host.hooks("a").build_model(ToyConfig()) == ("A", "a", 4)
    assert host.hooks("b").build_model(ToyConfig()) == ("B", "b", 4)
    assert host.hooks("a").build_model(ToyConfig()) == ("A", "a", 4)


def test_hooks_object_stays_correct_after_another_architecture_is_loaded(
    registry_file, tmp_path, monkeypatch, fresh_modules
):
    host = two_lazy_architectures(tmp_path, monkeypatch, fresh_modules)
    hooks_a = host.hooks("a")  # e.g. a training run holds this for its whole length
    host.hooks("b")  # meanwhile another architecture is used for the first time (the UI)
    assert hooks_a.build_model(ToyConfig()) == ("A", "a", 4)


# -- staying light ---------------------------------------------------------------------------


def run_python(code: str, **env_changes: str | None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    for key, value in env_changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)


def test_import_and_listing_do_not_import_torch():
    """`import archzoo` and building the host with the shipped plugins stay torch-free."""
    code = (
        "import sys, archzoo, archzoo.registry.host\n"
        "host = archzoo.registry.host.get_host()\n"
        "print('architectures:', sorted(host.architectures), 'broken:', host.broken)\n"
        "loaded = sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.'))\n"
        "assert not loaded, loaded[:5]\n"
    )
    result = run_python(code, ARCHZOO_REGISTRY=None)
    assert result.returncode == 0, result.stdout + result.stderr


def test_using_a_model_hook_is_what_imports_torch(tmp_path):
    registry = tmp_path / "registry.toml"
    registry.write_text(f"[plugins]\ndisabled = {BUILT_IN_PLUGINS!r}\n", encoding="utf-8")
    code = (
        "import sys, archzoo.registry.host\n"
        "from archzoo import ArchSpec, hookimpl\n"
        "from dataclasses import dataclass\n"
        "@dataclass\n"
        "class C: pass\n"
        "class P:\n"
        "    @hookimpl\n"
        "    def archzoo_register(self, registry):\n"
        "        registry.add_architecture(ArchSpec('t', 'image-classification', 's', C, 'digits'))\n"
        "host = archzoo.registry.host.Host(entry_points=False, extra_plugins={'p': P()})\n"
        "assert 'torch' not in sys.modules\n"
        "host.hooks('t')\n"
        "assert 'torch' in sys.modules\n"
    )
    result = run_python(code, ARCHZOO_REGISTRY=str(registry))
    assert result.returncode == 0, result.stdout + result.stderr


# -- the example third-party plugin (tests/example_plugin) ------------------------------

EXAMPLE = Path(__file__).resolve().parent / "example_plugin"
EXAMPLE_FILES = {
    "pyproject.toml": "toml",
    "archzoo_softmax_regression/__init__.py": "python",
    "archzoo_softmax_regression/model.py": "python",
    "archzoo_softmax_regression/studies.toml": "toml",
    "archzoo_softmax_regression/presets.toml": "toml",
    "tests/test_contract.py": "python",
}


def test_example_plugin_is_found_through_its_entry_point_without_torch(tmp_path):
    """The example as pip would install it: its entry point from pyproject.toml, its source on the path."""
    import tomllib

    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] == "archzoo-example-plugin"
    entry_points = project["entry-points"]["archzoo"]
    assert entry_points == {"softmax-regression": "archzoo_softmax_regression"}
    write_distribution(tmp_path, project["name"], project["version"], {}, entry_points)
    registry = tmp_path / "registry.toml"
    registry.write_text(f"[plugins]\ndisabled = {BUILT_IN_PLUGINS!r}\n", encoding="utf-8")
    code = (
        "import sys, archzoo.registry.host\n"
        "host = archzoo.registry.host.Host()\n"
        "spec = host.architecture('softmax-regression')\n"
        f"assert (spec.plugin, spec.distribution, spec.version) == ('softmax-regression', {project['name']!r}, "
        f"{project['version']!r}), spec\n"
        "assert (spec.task, spec.default_dataset, spec.parameters) == ('image-classification', 'digits', 650), spec\n"
        "assert 'torch' not in sys.modules, 'the catalogue module must not import torch'\n"
        "assert 'archzoo_softmax_regression.model' not in sys.modules\n"
        "from archzoo.config import build_config, fields\n"
        "assert {f.name: f.from_data for f in fields(spec.config) if f.from_data} == "
        "{'input_shape': 'input_shape', 'num_classes': 'num_classes'}\n"
        "model = host.hooks(spec).build_model(build_config(spec.config))\n"
        "assert sum(p.numel() for p in model.parameters()) == 650\n"
        "print('ok')\n"
    )
    result = run_python(
        code,
        ARCHZOO_REGISTRY=str(registry),
        PYTHONPATH=os.pathsep.join([str(tmp_path), str(EXAMPLE), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    )
    assert result.returncode == 0 and "ok" in result.stdout, result.stdout + result.stderr


def test_plugin_guide_quotes_the_example_plugin_verbatim():
    guide = (Path(__file__).resolve().parents[1] / "docs" / "plugins-reference.md").read_text(encoding="utf-8")
    for relative, language in EXAMPLE_FILES.items():
        source = (EXAMPLE / relative).read_text(encoding="utf-8")
        assert f"`{relative}`:\n\n```{language}\n{source}```" in guide, (
            f"docs/plugins-reference.md no longer quotes tests/example_plugin/{relative} exactly; paste the file into "
            "the guide again"
        )


# -- plugins broken in their lazily imported model module (the plugin-ecosystem issue, item 4) --

CARD = """
from dataclasses import dataclass
from archzoo import ArchSpec, hookimpl, param

@dataclass
class FlowConfig:
    width: int = param(8, "a width", min=1)

@hookimpl
def archzoo_register(registry):
    registry.add_architecture(ArchSpec(
        name="{arch}", task="image-classification", summary="a flow", config=FlowConfig,
        default_dataset="digits", implementation="{model}",
    ))
"""

SYNTAX_ERROR = """
import torch

def build_model(spec, config)   # the colon is missing
    return torch.nn.Linear(2, 2)
"""

MISSING_DEPENDENCY = """
import archzoo_flow_dependency_not_installed
"""


def flow_distribution(tmp_path, monkeypatch, fresh_modules, model_source: str) -> tuple[str, str]:
    card, model = fresh_modules("flow_card"), fresh_modules("flow_model")
    arch = f"flow-{card[-8:]}"
    write_distribution(
        tmp_path,
        "archzoo-flow",
        "0.3",
        {card: CARD.format(arch=arch, model=model), model: model_source},
        {"flow": card},
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return arch, model


def test_a_syntax_error_in_the_model_module_is_listed_as_broken_without_importing_it(
    registry_file, tmp_path, monkeypatch, fresh_modules
):
    arch, model = flow_distribution(tmp_path, monkeypatch, fresh_modules, SYNTAX_ERROR)
    host = quiet_host()
    found = catalog.installed(host)
    (entry,) = [a for a in found["architectures"] if a["name"] == arch]
    assert entry["broken"].startswith("SyntaxError: expected ':'") and "line 4" in entry["broken"]
    (broken,) = [b for b in found["broken"] if b["name"] == "flow"]
    assert broken["distribution"] == "archzoo-flow" and broken["error"].startswith(f"{model}: SyntaxError")
    assert model not in sys.modules  # found by compiling its source, not by running it

    with pytest.raises(PluginBrokenError) as raised:
        host.hooks(arch)
    message = str(raised.value)
    assert "\n" not in message and f"architecture '{arch}' cannot be used" in message
    assert "plugin 'flow', archzoo-flow 0.3" in message and "SyntaxError: expected ':'" in message


def test_a_missing_dependency_of_the_model_module_breaks_its_plugin_when_it_is_used(
    registry_file, tmp_path, monkeypatch, fresh_modules
):
    arch, model = flow_distribution(tmp_path, monkeypatch, fresh_modules, MISSING_DEPENDENCY)
    host = quiet_host()
    assert catalog.installed(host)["broken"] == []  # the source compiles: only importing it can tell
    with pytest.raises(PluginBrokenError, match="ModuleNotFoundError: No module named 'archzoo_flow_dependency"):
        host.hooks(arch)
    (broken,) = host.broken
    assert broken.name == "flow" and broken.error.startswith(f"{model}: ModuleNotFoundError")
    assert [b["name"] for b in catalog.installed(host)["broken"]] == ["flow"]  # listed from then on


def test_an_unknown_name_points_at_the_plugins_that_failed_to_load(registry_file, tmp_path, monkeypatch, fresh_modules):
    bad = fresh_modules("broken_archzoo_plugin")
    write_distribution(tmp_path, "archzoo-realnvp", "0.1", {bad: BROKEN_PLUGIN.format(tag=bad[-8:])}, {"realnvp": bad})
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.warns(UserWarning, match="'realnvp'"):
        host = Host()
    with pytest.raises(PluginBrokenError) as raised:  # its own name: never "unknown"
        host.resolve("realnvp")
    assert "architecture 'realnvp' is not available: its plugin 'realnvp' (archzoo-realnvp) failed to load: " in str(
        raised.value
    ) and "ModuleNotFoundError" in str(raised.value)
    with pytest.raises(UnknownNameError) as raised:  # another name: unknown, and the failed plugins named
        host.resolve("glow")
    assert "may belong to a plugin that failed to load: 'realnvp' (archzoo-realnvp): ModuleNotFoundError" in str(
        raised.value
    )


def test_an_installed_distribution_is_not_told_to_install_itself():
    installed = PluginMissingError.for_checkpoint({"architecture": "flow", "plugin": {"distribution": "archzoo"}})
    assert "pip install" not in str(installed) and "though archzoo is installed" in str(installed)
    missing = PluginMissingError.for_checkpoint(
        {"architecture": "flow", "plugin": {"distribution": "archzoo-not-installed-anywhere"}}
    )
    assert "pip install archzoo-not-installed-anywhere" in str(missing)


# -- presets shipped by plugins (the plugin-ecosystem issue, item 5) -------------------------

SHIPPING = """
from pathlib import Path
from dataclasses import dataclass
from archzoo import ArchSpec, hookimpl, param

@dataclass
class ShipConfig:
    width: int = param(8, "a width", min=1)

@hookimpl
def archzoo_register(registry):
    registry.add_architecture(ArchSpec(
        name="{arch}", task="image-classification", summary="ships presets", config=ShipConfig,
        default_dataset="digits", parameters=1,
    ))
    registry.add_presets(Path(__file__).with_name("{presets}"))
"""


def shipping_plugin(tmp_path, fresh_modules, dist, presets_toml, arch=None):
    module = fresh_modules("shipping_plugin")
    arch = arch or f"ship-{module[-8:]}"
    (tmp_path / f"{module}.toml").write_text(presets_toml.format(arch=arch), encoding="utf-8")
    write_distribution(
        tmp_path, dist, "1.0", {module: SHIPPING.format(arch=arch, presets=f"{module}.toml")}, {dist: module}
    )
    return arch


def test_a_plugin_ships_presets_and_registry_toml_wins_on_a_shared_name(
    registry_file, tmp_path, monkeypatch, fresh_modules
):
    toml = (
        '[presets.{arch}-wide]\narchitecture = "{arch}"\ndataset = "digits"\nsummary = "wide"\n'
        "[presets.{arch}-wide.config]\nwidth = 64\n"
    )
    arch = shipping_plugin(tmp_path, fresh_modules, "archzoo-ship", toml)
    monkeypatch.syspath_prepend(str(tmp_path))
    host = quiet_host()
    preset = host.presets[f"{arch}-wide"]
    assert (preset.architecture, preset.config, preset.source) == (arch, {"width": 64}, "archzoo-ship")
    assert host.resolve(f"{arch}-wide")[1] == preset
    listed = {p["name"]: p for p in catalog.installed(host)["presets"]}
    assert listed[f"{arch}-wide"]["source"] == "archzoo-ship"

    registry_file(extra=f'[presets.{arch}-wide]\narchitecture = "{arch}"\nsummary = "the operator\'s"\n')
    operator = quiet_host().presets[f"{arch}-wide"]
    assert (operator.summary, operator.config, operator.source) == ("the operator's", {}, "registry.toml")


def test_a_preset_file_without_an_architecture_breaks_its_plugin(registry_file, tmp_path, monkeypatch, fresh_modules):
    arch = shipping_plugin(tmp_path, fresh_modules, "archzoo-bad-presets", '[presets.{arch}-x]\ndataset = "digits"\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.warns(UserWarning, match="needs a table with an 'architecture'"):
        host = Host()
    assert arch not in host.architectures and f"{arch}-x" not in host.presets
    assert [b.name for b in host.broken] == ["archzoo-bad-presets"]
