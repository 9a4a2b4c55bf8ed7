"""archzoo new-plugin: the package it writes installs, passes the contract suite and its own
pytest as written, and the command refuses what it must (bad or taken names, unknown tasks,
folders that hold anything).

The contract suite runs in this process on packages made to look installed (their folders on
``sys.path`` with a ``.dist-info``, as ``pip install -e`` leaves them); ``archzoo check`` runs on
one that pip built and installed into a folder of the test's own (``pip install --target``).
Nothing is installed into the running environment.
"""

from __future__ import annotations

import fnmatch
import importlib
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from archzoo.cli import scaffold
from archzoo.cli.main import main
from archzoo.registry.host import reset_host

REPO = Path(__file__).resolve().parents[1]
TASKS = tuple(scaffold.STARTERS)
NAMES = {task: f"scaffolded-{task.split('-')[0]}-{task.split('-')[1][:5]}" for task in TASKS}


def scaffolded_module(task: str) -> str:
    return scaffold.package_names(NAMES[task])["module"]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """One package per task, written by ``archzoo new-plugin`` and made to look installed the
    way ``pip install -e`` does: its folder on ``sys.path`` and a ``.dist-info`` with the entry
    point its pyproject.toml declares.  {task: the package's folder}."""
    root = tmp_path_factory.mktemp("scaffolded")
    site = root / "site"
    site.mkdir()
    folders = {}
    for task in TASKS:
        assert main(["new-plugin", NAMES[task], "--task", task, "--out", str(root / task)]) == 0
        folders[task] = root / task
        project = tomllib.loads((root / task / "pyproject.toml").read_text(encoding="utf-8"))["project"]
        info = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n", encoding="utf-8"
        )
        lines = "".join(f"{name} = {target}\n" for name, target in project["entry-points"]["archzoo"].items())
        (info / "entry_points.txt").write_text(f"[archzoo]\n{lines}", encoding="utf-8")
    added = [str(site), *(str(folder) for folder in folders.values())]
    sys.path[:0] = added
    importlib.invalidate_caches()
    reset_host()
    yield folders
    for path in added:
        sys.path.remove(path)
    for module in [m for m in sys.modules if m.split(".")[0] in {scaffolded_module(t) for t in TASKS}]:
        del sys.modules[module]
    importlib.invalidate_caches()
    reset_host()


# -- what it writes ------------------------------------------------------------------------


def test_the_package_has_the_plugin_layout_and_its_entry_point(installed):
    for task, folder in installed.items():
        name, module = NAMES[task], scaffolded_module(task)
        files = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
        package = {"pyproject.toml", "README.md", f"{module}/__init__.py", f"{module}/model.py"}
        assert files == package | {"tests/test_contract.py"}
        project = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))["project"]
        assert project["entry-points"]["archzoo"] == {name: module}
        assert project["name"] == module.replace("_", "-")
        assert any(r.startswith("archzoo>=") for r in project["dependencies"])
        assert any(r.startswith("torch") for r in project["dependencies"])
        assert f"archzoo check {name}" in (folder / "README.md").read_text(encoding="utf-8")


def test_the_host_lists_each_scaffold_with_its_task_and_distribution(installed):
    from archzoo.registry.host import get_host

    host = get_host()
    for task in TASKS:
        spec = host.architecture(NAMES[task])
        assert spec.task == task
        assert spec.distribution == scaffolded_module(task).replace("_", "-") and spec.version == "0.1.0"
        assert spec.implementation == f"{scaffolded_module(task)}.model"
        assert host.implementation_problem(spec) is None
    assert not [b for b in host.broken if b.name in NAMES.values()]


class Reports:
    """A pytest plugin that keeps the reports of a run's tests."""

    def __init__(self) -> None:
        self.reports: list[pytest.TestReport] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.reports.append(report)


@pytest.mark.parametrize("task", TASKS)
def test_its_own_pytest_passes_the_contract_suite_as_written(installed, task, tmp_path, monkeypatch):
    """``pytest`` in the generated folder, as its author would run it (its pyproject.toml's
    settings, its tests/test_contract.py): archzoo's contract suite, passed.

    It runs in this process, so torch and the data are loaded once for all three tasks.
    Not through pytester's in-process run: that forgets the modules the run imported, and
    torch cannot be imported a second time in one process."""
    monkeypatch.chdir(installed[task])
    monkeypatch.setattr(sys, "path", list(sys.path))  # pytest puts the tests/ folder on it
    # The generated test module is imported as "test_contract", the name archzoo's own
    # tests/test_contract.py has in this session: that one is put aside and back after.
    monkeypatch.delitem(sys.modules, "test_contract", raising=False)
    reports = Reports()
    try:
        code = pytest.main(["-p", "no:cacheprovider", "-q", f"--basetemp={tmp_path / 'basetemp'}"], plugins=[reports])
    finally:
        sys.modules.pop("test_contract", None)
    test_class = f"Test{scaffold.package_names(NAMES[task])['class_name']}"
    calls = [r for r in reports.reports if r.when == "call" or r.outcome != "passed"]
    failed = [f"{r.nodeid}: {r.longreprtext[-2000:]}" for r in calls if r.failed]
    assert code == 0 and not failed, "\n".join(failed) or f"pytest exited with {code}"
    passed = [r.nodeid for r in calls if r.passed]
    assert len(passed) >= 8 and all(n.startswith(f"tests/test_contract.py::{test_class}::") for n in passed), passed


def test_pip_installs_it_and_archzoo_check_passes(tmp_path):
    """A fresh generator, built and installed by pip (into a folder of its own, on PYTHONPATH),
    then ``archzoo check NAME`` as the README says: its step, evaluation and sampler are its own."""
    assert main(["new-plugin", "checked-generator", "--task", "image-generation", "--out", str(tmp_path / "pkg")]) == 0
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target", str(site)]
        + [str(tmp_path / "pkg")],
        check=True,
        capture_output=True,
    )
    entry_points = (site / "archzoo_checked_generator-0.1.0.dist-info" / "entry_points.txt").read_text()
    assert "[archzoo]\nchecked-generator = archzoo_checked_generator" in entry_points
    env = {**os.environ, "PYTHONPATH": str(site), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "archzoo.cli", "check", "checked-generator"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout and "failed" not in done.stdout


def test_the_cards_import_no_torch(installed):
    """archzoo imports a plugin's card whenever it lists what is installed: it stays torch-free."""
    modules = ", ".join(scaffolded_module(task) for task in TASKS)
    code = f"import sys, {modules}; assert 'torch' not in sys.modules, 'a card imported torch'"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(folder) for folder in installed.values())}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_generated_code_is_lint_clean(installed, tmp_path):
    """With its own pyproject.toml's settings, archzoo's lint rules and formatting find nothing,
    for a name of the longest length allowed too."""
    longest = "n" * scaffold.MAX_NAME
    folders = dict(installed)
    for task in TASKS:
        assert main(["new-plugin", longest, "--task", task, "--out", str(tmp_path / task)]) == 0
        folders[f"{task}, {longest}"] = tmp_path / task
    for which, folder in folders.items():
        for command in (["check", "--select", "E,F,W,I,B,UP"], ["format", "--check"]):
            done = subprocess.run(
                [sys.executable, "-m", "ruff", *command, "--no-cache", "."], cwd=folder, capture_output=True, text=True
            )
            assert done.returncode == 0, f"{which}: {done.stdout}{done.stderr}"


def test_the_default_folder_is_the_distribution_name(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["new-plugin", "my-tiny-net"]) == 0
    folder = tmp_path / "archzoo-my-tiny-net"
    assert (folder / "archzoo_my_tiny_net" / "__init__.py").is_file()
    assert 'task="image-classification"' in (folder / "archzoo_my_tiny_net" / "__init__.py").read_text()
    assert "pip install -e" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archzoo-my-tiny-net"], "a staging folder was left"


def test_an_existing_empty_folder_is_filled(tmp_path):
    (tmp_path / "empty").mkdir()
    assert main(["new-plugin", "fills-empty", "--out", str(tmp_path / "empty")]) == 0
    assert (tmp_path / "empty" / "pyproject.toml").is_file()


def test_the_templates_ship_in_the_wheel():
    """Every template matches pyproject.toml's package-data for archzoo.cli, so an installed
    archzoo can scaffold, not only a checkout."""
    data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["archzoo.cli"]
    templates = REPO / "core" / "cli" / "scaffold-templates"
    used = {t.replace("TASK", task) for t in scaffold.FILES for task in TASKS}
    on_disk = {p.relative_to(templates).as_posix() for p in templates.rglob("*") if p.is_file()}
    assert used == on_disk, f"templates not used: {sorted(on_disk - used)}, missing: {sorted(used - on_disk)}"
    for relative in on_disk:
        assert any(fnmatch.fnmatch(f"scaffold-templates/{relative}", glob) for glob in data), relative


def test_the_guide_lists_the_tasks_it_writes_with_their_datasets():
    """docs/plugins.md's "Start from a scaffold" table: one row per task new-plugin writes, with
    the dataset its card names."""
    guide = (REPO / "docs" / "plugins.md").read_text(encoding="utf-8")
    table = guide.split("| `--task` |", 1)[1].split("\n\n", 1)[0]
    rows = {line.split("`")[1]: line for line in table.splitlines()[2:]}
    assert set(rows) == set(TASKS), f"the guide's table lists {sorted(rows)}"
    for task, starter in scaffold.STARTERS.items():
        assert rows[task].rstrip().endswith(f"| `{starter.dataset}` |"), rows[task]
    assert "(the default)" in rows[scaffold.DEFAULT_TASK]
    assert f"at most {scaffold.MAX_NAME} characters" in " ".join(guide.split())


def test_new_plugin_is_in_the_help(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "new-plugin" in capsys.readouterr().out


# -- what it refuses -----------------------------------------------------------------------


def refused(argv: list[str], capsys) -> str:
    """Run ``archzoo ARGV``, which must fail as a user's mistake; its one line on stderr."""
    assert main(argv) == 2
    return capsys.readouterr().err


@pytest.mark.parametrize("name", ["My-Net", "1net", "my--net", "my net", "-net", "net-", "my.net", "n" * 33, ""])
def test_a_name_that_is_not_a_python_and_distribution_name_is_refused(name, tmp_path, capsys):
    error = refused(["new-plugin", "--out", str(tmp_path / "out"), "--", name], capsys)
    assert f"{name!r} is not a valid plugin name" in error and "lowercase letters" in error
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("mlp", "an architecture named 'mlp' is installed (plugin 'mlp', archzoo)"),
        ("linear_svm", "an architecture named 'linear-svm' is installed"),  # - and _ are the same name to pip
        ("datasets", "a plugin named 'datasets' is installed"),  # a plugin without an architecture
        ("mlp-moons", "'mlp-moons' is the name of a preset"),
    ],
)
def test_a_name_an_installed_plugin_has_is_refused(name, says, tmp_path, capsys):
    reset_host()
    error = refused(["new-plugin", name, "--out", str(tmp_path / "out")], capsys)
    assert says in error and "choose another name" in error
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("name", "says"), [("vae", "'vae'"), ("retired-net", "'retired-net'")])
def test_a_disabled_plugins_name_is_refused(name, says, tmp_path, monkeypatch, capsys):
    """Disabled in registry.toml, a built-in or an installed plugin is not loaded, but its name is
    still taken: a new plugin of that name would clash once enabled, or be disabled from the start."""
    registry = tmp_path / "registry.toml"
    registry.write_text('[plugins]\ndisabled = ["vae", "retired-net"]\n', encoding="utf-8")
    monkeypatch.setenv("ARCHZOO_REGISTRY", str(registry))
    reset_host()
    try:
        error = refused(["new-plugin", name, "--out", str(tmp_path / "out")], capsys)
    finally:
        monkeypatch.delenv("ARCHZOO_REGISTRY")
        reset_host()
    assert f"a plugin named {says} is installed" in error
    assert not (tmp_path / "out").exists()


@pytest.fixture
def third_party(tmp_path, monkeypatch):
    """An installed third-party distribution 'archzoo-widget' whose entry point 'gadget' fails
    to load, and an importable module 'archzoo_gizmo' that no distribution owns."""
    site = tmp_path / "site"
    info = site / "archzoo_widget-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: archzoo-widget\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[archzoo]\ngadget = no_such_module_anywhere\n", encoding="utf-8")
    (site / "archzoo_gizmo.py").write_text("", encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    reset_host()
    yield
    reset_host()


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("gadget", "a plugin named 'gadget' is installed"),  # broken, but installed all the same
        ("widget", "a distribution named 'archzoo-widget' is installed"),
        ("gizmo", "a Python package named 'archzoo_gizmo' can already be imported"),
    ],
)
@pytest.mark.filterwarnings("ignore:archzoo plugin 'gadget'")
def test_a_name_a_third_party_has_is_refused(third_party, name, says, tmp_path, capsys):
    error = refused(["new-plugin", name, "--out", str(tmp_path / "out")], capsys)
    assert says in error
    assert not (tmp_path / "out").exists()


def test_an_unknown_task_is_refused_with_the_supported_ones(tmp_path, capsys):
    error = refused(["new-plugin", "talker", "--task", "text-generation", "--out", str(tmp_path / "out")], capsys)
    assert "'text-generation'" in error
    assert all(task in error for task in TASKS)
    assert not (tmp_path / "out").exists()


def test_a_folder_that_holds_anything_is_never_touched(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me", encoding="utf-8")
    error = refused(["new-plugin", "keeps-out", "--out", str(out)], capsys)
    assert f"{out} already exists and is not empty" in error
    assert [p.name for p in out.iterdir()] == ["notes.txt"] and (out / "notes.txt").read_text() == "keep me"
    afile = tmp_path / "a-file"
    afile.write_text("mine", encoding="utf-8")
    assert "is not a folder" in refused(["new-plugin", "keeps-out", "--out", str(afile)], capsys)
    assert afile.read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "mine"], "a staging folder was left"


def test_a_folder_filled_while_writing_is_kept_and_nothing_is_written(tmp_path):
    """The last lines of defence, for a folder that gains files after the checks (another
    process, say): nothing of it is replaced, and what was written is taken back."""
    files = {"pyproject.toml": "[project]\n", "README.md": "# new\n", "tests/test_contract.py": ""}
    out = tmp_path / "raced"
    out.mkdir()
    (out / "theirs.txt").write_text("theirs", encoding="utf-8")
    with pytest.raises(scaffold.ArchzooError, match="is not empty"):
        scaffold.write_new_folder(out, files)
    # built beside it, the rename into place is refused
    with pytest.raises(scaffold.ArchzooError, match="could not be created"):
        scaffold._build_beside(out, files)
    assert [p.name for p in out.iterdir()] == ["theirs.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raced"], "the staging folder was left"
    # filled in place, a file that appeared stops it, and what it wrote before is removed
    (out / "README.md").write_text("theirs", encoding="utf-8")
    with pytest.raises(scaffold.ArchzooError, match="README.md appeared while writing"):
        scaffold._fill_in_place(out, files)
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "theirs.txt"]
    assert (out / "README.md").read_text() == "theirs"


def test_out_dot_fills_the_empty_folder_it_is_run_in(tmp_path, monkeypatch):
    here = tmp_path / "my-plugin"
    here.mkdir()
    monkeypatch.chdir(here)
    assert main(["new-plugin", "dot-net", "--out", "."]) == 0
    assert (here / "pyproject.toml").is_file() and (here / "archzoo_dot_net" / "model.py").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my-plugin"]
