"""The plugin guide keeps its promises: the tutorial works as written, and the reference and
toolkit pages name every hook, every error class and every helper archzoo offers plugins.

The tutorial (docs/plugins-tutorial.md) is followed as a reader follows it, top to bottom, in
one folder: each fenced block whose info string says ``file=PATH`` is written to PATH, and each
``$ `` line of a console block is run.  ``pip install -e DIR`` is done the way pip's editable
install leaves a package (the folder on ``sys.path`` and a ``.dist-info`` with the entry points
of its pyproject.toml), so nothing is installed into the running environment; ``pytest DIR``
runs the package's own tests in this process; ``archzoo ...`` runs archzoo's command line in
this process, except ``archzoo check realnvp``, which starts the contract suite's own pytest
process as the command does, finding the plugin through its entry point on ``PYTHONPATH``.
A ``python run`` block is executed after the commands before it.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import shlex
import sys
import tomllib
from pathlib import Path

import pytest

from archzoo import errors
from archzoo.cli.main import main
from archzoo.registry import hookspecs
from archzoo.registry.host import get_host, reset_host
from archzoo.registry.specs import TASKS

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
TUTORIAL = DOCS / "plugins-tutorial.md"
REFERENCE = DOCS / "plugins-reference.md"
TOOLKIT = DOCS / "plugins-toolkit.md"

#: A fenced block: its language, the rest of its info string, its text.
BLOCK = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
#: Commands of the tutorial not run here, each with the reason.
NOT_RUN = {
    "archzoo check lenet5": "its suite is the one `pytest archzoo-lenet5` runs in this process",
    "archzoo train lenet5-fashion": "ten epochs of Fashion-MNIST: minutes, not a unit test (its preset is checked)",
}
#: The one command run in a process of its own.
SUBPROCESS = "archzoo check realnvp"


def blocks(text: str) -> list[tuple[str, str, str]]:
    return [(m.group(1), m.group(2).strip(), m.group(3)) for m in BLOCK.finditer(text)]


class Reports:
    """A pytest plugin that keeps the reports of a run's tests."""

    def __init__(self) -> None:
        self.reports: list[pytest.TestReport] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.reports.append(report)


class Reader:
    """Follows the tutorial in ``root``: writes its files, installs, runs its commands."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.site = root / ".site"  # where the editable installs' metadata goes
        self.site.mkdir()
        self.monkeypatch = monkeypatch
        self.installed: list[Path] = []
        self.modules: set[str] = set()
        self.ran: list[str] = []
        self.printed: list[str] = []
        self.checked: set[str] = set()  # architectures `archzoo check` has run the contract suite on
        monkeypatch.syspath_prepend(str(self.site))

    def write(self, relative: str, text: str) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def run(self, line: str) -> None:
        words = shlex.split(line, comments=True)
        command = " ".join(words)
        self.ran.append(command)
        if command in NOT_RUN:
            return
        if words[:3] == ["pip", "install", "-e"] and len(words) == 4:
            self.install(self.root / words[3])
        elif words[0] == "pytest" and len(words) == 2:
            self.pytest(self.root / words[1])
        elif command == SUBPROCESS:
            self.checked.add(words[2])  # the architecture, also its plugin's name in the tutorial
            paths = [str(self.site), *map(str, self.installed), os.environ.get("PYTHONPATH", "")]
            self.monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in paths if p))
            self.monkeypatch.setenv("OMP_NUM_THREADS", "1")
            assert main(words[1:]) == 0, f"'{command}' failed"
        elif words[0] == "archzoo":
            assert main(words[1:]) == 0, f"'{command}' failed"
        else:
            pytest.fail(f"the tutorial asks the reader to type '{command}', which this test does not know how to run")

    def install(self, folder: Path) -> None:
        """``pip install -e FOLDER``, as pip leaves an editable install: importable, with its entry points."""
        project = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))["project"]
        info = self.site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n", encoding="utf-8"
        )
        points = project["entry-points"]["archzoo"]
        (info / "entry_points.txt").write_text(
            "[archzoo]\n" + "".join(f"{name} = {target}\n" for name, target in points.items()), encoding="utf-8"
        )
        self.modules |= {target.split(":")[0].split(".")[0] for target in points.values()}
        self.monkeypatch.syspath_prepend(str(folder))
        self.installed.append(folder)
        importlib.invalidate_caches()
        reset_host()

    def pytest(self, folder: Path) -> None:
        """The package's own tests, in this process (torch and the data are loaded once).  Where
        ``archzoo check`` has just run the contract suite on the package's architecture, only
        the tests the package adds to it run again."""
        reports = Reports()
        before = set(sys.modules)
        project = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))["project"]
        own = []
        if set(project["entry-points"]["archzoo"]) <= self.checked:  # its plugins' names are its architectures'
            own = [
                n for f in (folder / "tests").glob("test_*.py") for n in re.findall(r"def (test_\w+)", f.read_text())
            ]
        selection = ["-k", " or ".join(own)] if own else []
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(sys, "path", list(sys.path))  # pytest puts the tests/ folder on it
            code = pytest.main(
                [str(folder), "-q", "-p", "no:cacheprovider", f"--basetemp={self.root / '.basetemp'}", *selection],
                plugins=[reports],
            )
        for name in set(sys.modules) - before:
            if name.startswith("test_"):
                del sys.modules[name]  # the package's test modules, so a later run imports them afresh
        calls = [r for r in reports.reports if r.when == "call" or r.outcome != "passed"]
        failed = [f"{r.nodeid}: {r.longreprtext[-2000:]}" for r in calls if r.failed]
        assert code == 0 and not failed, "\n".join(failed) or f"pytest {folder.name} exited with {code}"
        assert sum(r.passed for r in calls) >= (len(own) or 8), f"pytest {folder.name} ran {[r.nodeid for r in calls]}"

    def execute(self, source: str, capsys: pytest.CaptureFixture) -> None:
        exec(compile(source, str(TUTORIAL), "exec"), {"__name__": "tutorial"})
        self.printed += capsys.readouterr().out.splitlines()

    def forget(self) -> None:
        for name in [m for m in sys.modules if m.split(".")[0] in self.modules]:
            del sys.modules[name]
        importlib.invalidate_caches()
        reset_host()


@pytest.fixture
def reader(tmp_path, store, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ARCHZOO_REGISTRY", raising=False)
    reading = Reader(tmp_path, monkeypatch)
    yield reading
    reading.forget()


def test_the_tutorial_works_as_written(reader, store, one_thread, capsys):
    """Both plugins written from the page, installed, checked by the contract suite (their own
    tests and `archzoo check`), trained, compared, sampled and drawn, as the page says."""
    for language, info, text in blocks(TUTORIAL.read_text(encoding="utf-8")):
        if info.startswith("file="):
            reader.write(info.removeprefix("file="), text)
        elif language == "console":
            for line in text.splitlines():
                if line.startswith("$ "):
                    reader.run(line[2:])
        elif info == "run":
            reader.execute(text, capsys)
    assert set(NOT_RUN) | {SUBPROCESS} <= set(reader.ran), "a command this test leaves out is no longer in the page"
    host = get_host()
    lenet, flow = host.architecture("lenet5"), host.architecture("realnvp")
    assert (lenet.distribution, lenet.version, lenet.parameters) == ("archzoo-lenet5", "0.1.0", 61_706)
    assert flow.metrics["nll"] == flow.metrics["bits_per_dim"] == "lower"
    spec, preset = host.resolve("lenet5-fashion")
    assert (spec.name, preset.dataset, preset.source, preset.train["epochs"]) == (
        "lenet5",
        "fashion-mnist",
        "lenet5",
        10,
    )
    for run in ("lenet5-digits", "lenet5-relu", "realnvp-moons", "realnvp-spirals"):
        assert (store / run / "best" / "model.safetensors").is_file(), f"{run} left no best checkpoint"
    assert (reader.root / "moons-samples" / "grid.png").is_file()
    assert (reader.root / "moons-views" / "samples.png").is_file()
    assert reader.printed[-1] == "images (256, 2) 0.8", reader.printed


def test_the_tutorial_shows_every_file_of_its_packages():
    """Each package's tree on the page lists the files the page writes for it, no more, no fewer."""
    text = TUTORIAL.read_text(encoding="utf-8")
    written = {info.removeprefix("file=") for _, info, _ in blocks(text) if info.startswith("file=")}
    trees = [body for language, _, body in blocks(text) if language == "text" and "├──" in body]
    for tree in trees:
        package = tree.splitlines()[0].rstrip("/")
        shown, folders = set(), []
        for line in tree.splitlines()[1:]:
            name = line.lstrip("│├└─ ").split()[0]
            depth = (len(line) - len(line.lstrip("│├└─ "))) // 4 - 1  # "├── " is depth 0, "│   ├── " 1
            if name.endswith("/"):
                folders[depth:] = [name.rstrip("/")]
            else:
                shown.add("/".join([package, *folders[:depth], name]))
        assert shown == {w for w in written if w.startswith(package + "/")}, package


def hook_names() -> list[str]:
    return [name for name, value in vars(hookspecs).items() if hasattr(value, f"{hookspecs.PROJECT}_spec")]


def error_classes() -> list[str]:
    return [
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value) and issubclass(value, Exception) and value.__module__ == errors.__name__
    ]


def test_the_reference_has_a_section_for_every_hook_and_names_every_error_class():
    reference = REFERENCE.read_text(encoding="utf-8")
    assert len(hook_names()) >= 8
    for hook in hook_names():
        assert f"### `{hook}(" in reference, f"docs/plugins-reference.md has no section for the hook {hook}"
    for name in error_classes():
        assert f"`{name}" in reference, f"docs/plugins-reference.md does not name the error class {name}"


def test_the_reference_has_a_request_row_for_every_task_with_the_keys_archzoo_sends():
    """The one table of what a ``sample`` request holds and returns: a row per task, naming
    every key and the result kind that archzoo's inference layer lists for it."""
    from archzoo.inference.sampling import REQUESTS

    reference = REFERENCE.read_text(encoding="utf-8")
    table = reference.split("| task | request keys |", 1)[1].split("\n\n", 1)[0]
    rows: dict[str, str] = {}
    for line in table.splitlines()[2:]:
        if line.startswith("| `"):
            rows[line.split("`")[1]] = rows.get(line.split("`")[1], "") + line
    assert set(rows) == set(TASKS), f"request table rows {sorted(rows)} are not the tasks {sorted(TASKS)}"
    for task, contract in REQUESTS.items():
        for key in contract["request"]:
            assert f"`{key}`" in rows[task], f"the request table's {task} row does not name the key {key}"
        assert f'`"{contract["result"]}"`' in rows[task], f"the {task} row does not say it returns {contract['result']}"


def test_the_toolkit_page_names_every_public_helper():
    toolkit = importlib.import_module("archzoo.toolkit")
    page = TOOLKIT.read_text(encoding="utf-8")
    for name in toolkit.__all__:
        assert re.search(rf"`{re.escape(name)}[(`]", page), f"docs/plugins-toolkit.md does not list {name}"
    testing = importlib.import_module("archzoo.testing")
    for name in ("ContractSuite", "run_contract_suite", "batch_parts", "data_task"):
        assert hasattr(testing, name) and f"`{name}" in page, name


def test_the_index_links_the_three_pages_and_every_link_to_them_finds_its_heading():
    index = (DOCS / "plugins.md").read_text(encoding="utf-8")
    for page in ("plugins-tutorial.md", "plugins-reference.md", "plugins-toolkit.md"):
        assert f"]({page})" in index, f"docs/plugins.md does not link {page}"
    for source in [*DOCS.glob("*.md"), REPO / "README.md"]:
        text = source.read_text(encoding="utf-8")
        links = re.findall(r"\]\((?:docs/)?(plugins[\w-]*\.md)#([\w-]+)\)", text)
        if source.name.startswith("plugins"):  # and the pages' links within themselves
            links += [(source.name, anchor) for anchor in re.findall(r"\]\(#([\w-]+)\)", text)]
        for target, anchor in links:
            assert anchor in anchors(DOCS / target), f"{source.name} links {target}#{anchor}, which has no such heading"


def anchors(page: Path) -> set[str]:
    """GitHub's anchors for a page's headings: lowercased, punctuation dropped, spaces to dashes."""
    found = set()
    text = BLOCK.sub("", page.read_text(encoding="utf-8"))  # a "# comment" in a code block is no heading
    for heading in re.findall(r"^#+ (.+)$", text, re.MULTILINE):
        found.add(re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-"))
    return found


def test_points_result_gives_the_points_in_the_data_units_and_a_picture_of_them():
    """What the tutorial's flow returns: standardised points mapped back with the data's mean
    and standard deviation, and one scatter picture in [0, 1] with a dark dot where each falls."""
    import torch

    from archzoo.data.types import DataInfo
    from archzoo.toolkit import parse_request, points_result

    info = DataInfo("moons", "tabular-classification", (2,), 2, ("a", "b"), mean=(0.5, 0.25), std=(0.9, 0.5))
    draw = parse_request({"n": 3, "seed": 7})  # no modes: `sample` only
    standardised = torch.tensor([[0.0, 0.0], [1.0, -1.0], [-2.0, 2.0]])
    result = points_result(standardised, draw, info, temperature=0.8)
    assert result.kind == "images" and result.outputs["mode"] == "sample" and result.outputs["temperature"] == 0.8
    expected = torch.tensor([[0.5, 0.25], [1.4, -0.25], [-1.3, 1.25]])
    assert torch.allclose(result.outputs["points"], expected)
    picture = result.outputs["images"]
    assert picture.shape == (1, 1, 160, 160) and float(picture.min()) == 0.0 and float(picture.max()) == 1.0
    assert int(picture.eq(0).sum()) == 3 * 4, "each of the three points is one 2 x 2 dot"
    assert picture[0, 0, 76:84, 76:84].eq(0).sum() == 4, "the point at the origin is drawn at the centre"


def test_parse_request_without_modes_offers_sample_alone():
    from archzoo.toolkit import SampleError, parse_request

    assert parse_request({"mode": "sample", "n": 2}).n == 2
    with pytest.raises(SampleError, match="flow: unknown sampling mode 'grid'; this generator offers sample"):
        parse_request({"mode": "grid"}, owner="flow")


def test_a_study_judges_a_metric_in_the_direction_its_architecture_declares():
    """The reference says studies read ``ArchSpec.metrics``: the VAE's ``kl`` falls (declared),
    though nothing in its name says so; an unknown target falls back to the name."""
    from archzoo.studies.spec import Cell, StudySpec

    cells = [Cell("a", {"lr": "0.01"})]
    assert StudySpec("kl", "vae", cells, metric="validation.kl").direction == "minimize"
    assert StudySpec("converged", "perceptron", cells, metric="validation.converged").direction == "maximize"
    assert StudySpec("nll", "not-installed", cells, metric="validation.nll").direction == "minimize"


def test_the_reference_names_every_sampling_mode_of_the_built_in_generators():
    reference = REFERENCE.read_text(encoding="utf-8")
    table = reference.split("| plugin | its own request keys |", 1)[1].split("\n\n", 1)[0]
    rows = {line.split("`")[1]: line for line in table.splitlines()[2:] if line.startswith("| `")}
    for name, spec in get_host().architectures.items():
        if spec.plugin == name and spec.distribution == "archzoo" and set(spec.sample_modes) - {"sample"}:
            assert name in rows, f"the reference's table of plugins' own keys has no row for {name}"
            for mode in spec.sample_modes:
                assert f"`{mode}`" in rows[name], f"the reference's row for {name} does not name its mode {mode}"


def test_the_reference_lists_every_shipped_dataset_under_its_task():
    reference = REFERENCE.read_text(encoding="utf-8")
    table = reference.split("| task | datasets archzoo ships", 1)[1].split("\n\n", 1)[0]
    rows = {line.split("`")[1]: line for line in table.splitlines()[2:] if line.startswith("| `")}
    assert set(rows) == set(TASKS), sorted(rows)
    from archzoo.plugins import builtin

    ours = {"datasets", *builtin()}  # archzoo's catalogue and built-in plugins, not a third party's
    for name, dataset in get_host().datasets.items():
        if dataset.plugin not in ours:
            continue
        assert f"`{name}`" in rows[dataset.task], f"the reference's {dataset.task} row does not list dataset {name}"
