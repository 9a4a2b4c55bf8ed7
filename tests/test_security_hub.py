"""Security, classes 4, 5 and 6: the Hub, with a student's hostile repositories and links.

- 4: the app never lends the operator's token to a browser user (unless the operator says so);
- 5: push uploads only regular files inside the checkpoint, and no local paths;
- 6: pull takes only the documented files at the documented depth; revisions are names, not paths.

The unmodified huggingface_hub client talks to tests/hub_server.py on loopback, as in
tests/test_hub.py (whose environment set-up this reuses); nothing is mocked.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import archzoo
from archzoo.checkpoints.hub import HubError
from archzoo.errors import CheckpointError

sys.path.insert(0, str(Path(__file__).parent))
from hub_server import HubServer  # noqa: E402
from test_hub import ALICE, TOKENS, HubEnv, cli  # noqa: E402

FAST = {"epochs": "1", "batch_size": "256"}
SECRET = b"-----BEGIN OPENSSH PRIVATE KEY----- the operator's key"


@pytest.fixture(scope="module")
def server():
    with HubServer(TOKENS) as running:
        yield running


@pytest.fixture
def hf(server, tmp_path, monkeypatch) -> HubEnv:
    return HubEnv(server, tmp_path / "hf-home", monkeypatch)


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    """A tiny MLP trained on digits; its run folder."""
    from archzoo.api import train

    root = tmp_path_factory.mktemp("security-hub")
    return train("mlp", dataset="digits", overrides=FAST, out=str(root / "run")).best_dir.parent


def copy_checkpoint(run: Path, dest: Path) -> Path:
    import shutil

    shutil.copytree(run / "best", dest)
    return dest


def upload_tree(hf: HubEnv, repo_id: str, files: dict[str, bytes]) -> str:
    """Upload files (nested names allowed) with plain huggingface_hub; returns the commit sha."""
    from huggingface_hub import HfApi

    folder = hf.home.parent / f"plain-{repo_id.replace('/', '-')}"
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    api = HfApi(token=ALICE)
    api.create_repo(repo_id, exist_ok=True)
    return api.upload_folder(repo_id=repo_id, folder_path=folder, commit_message="plain upload").oid


# -- 5: push ---------------------------------------------------------------------------------


def test_push_follows_no_link_out_of_the_checkpoint(hf, run, tmp_path):
    secret = tmp_path / "id_ed25519"
    secret.write_bytes(SECRET)
    folder = copy_checkpoint(run, tmp_path / "linked")
    (folder / "tokenizer.json").symlink_to(secret)
    (folder / "adapter_config.json").symlink_to(secret)
    (folder / "evaluation").mkdir()
    (folder / "evaluation" / "report.json").symlink_to(secret)
    (folder / "evaluation" / "confusion.png").write_bytes(b"\x89PNG real figure")
    archzoo.push_to_hub(folder, "alice/no-links")
    pushed = hf.server.files("alice/no-links")
    assert not any(SECRET in content for content in hf.server.all_stored_bytes())
    assert "tokenizer.json" not in pushed and "adapter_config.json" not in pushed
    assert "evaluation/report.json" not in pushed and pushed["evaluation/confusion.png"] == b"\x89PNG real figure"


def test_a_pushed_config_carries_no_local_dataset_path(hf, run, tmp_path):
    folder = copy_checkpoint(run, tmp_path / "local-data")
    meta = json.loads((folder / "config.json").read_text())
    meta["dataset"]["name"] = "/home/teacher/private/grades.csv"
    meta["train"]["data_dir"] = "~/private"
    (folder / "config.json").write_text(json.dumps(meta))
    archzoo.push_to_hub(folder, "alice/no-paths")
    pushed = hf.server.files("alice/no-paths")
    assert b"/home/teacher" not in pushed["config.json"] and b"~/private" not in pushed["config.json"]
    assert b"/home/teacher" not in pushed["README.md"]
    shared = json.loads(pushed["config.json"])
    assert shared["dataset"]["name"] == "grades.csv" and shared["train"]["data_dir"] == "private"


# -- 6: pull ---------------------------------------------------------------------------------


def test_pull_takes_the_evaluation_folder_one_level_deep_and_no_pickle_or_code(hf, run):
    best = run / "best"
    upload_tree(
        hf,
        "alice/deep-evaluation",
        {
            "config.json": (best / "config.json").read_bytes(),
            "model.safetensors": (best / "model.safetensors").read_bytes(),
            "evaluation/report.html": b"<p>report</p>",
            "evaluation/confusion.png": b"\x89PNG",
            "evaluation/model.pkl": b"\x80\x04 a pickle",
            "evaluation/hook.py": b"import os",
            "evaluation/nested/deeper/evil.py": b"import os; os.system('id')",
            "evaluation/nested/figure.png": b"\x89PNG nested",
            "run/extra.pkl": b"\x80\x04",
        },
    )
    folder = archzoo.pull("alice/deep-evaluation")
    taken = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert taken == ["config.json", "evaluation/confusion.png", "evaluation/report.html", "model.safetensors"]


@pytest.mark.parametrize("revision", ["../../../tmp/x", "main/../../x", "/etc", "a\\b", "-rf", "v1..v2", "x.lock"])
def test_a_revision_that_reads_as_a_path_is_refused_before_any_request(hf, revision):
    hf.server.reset_counts()
    with pytest.raises(HubError, match="is not a revision"):
        archzoo.pull(f"alice/anything@{revision}")
    assert not hf.server.counts
    with pytest.raises(HubError, match="is not a revision"):
        archzoo.push_to_hub("nowhere", "alice/anything", branch=revision)


def test_branches_tags_and_shas_are_still_revisions():
    from archzoo.checkpoints.hub import parse_reference

    for revision in ("main", "v1.0", "feature/new-head", "refs/pr/1", "0123456789abcdef0123456789abcdef01234567"):
        assert parse_reference(f"alice/x@{revision}").revision == revision


def test_pull_to_an_existing_folder_replaces_nothing_without_overwrite(hf, run, tmp_path):
    archzoo.push_to_hub(run, "alice/to-folder")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    with pytest.raises(CheckpointError, match="not an archzoo checkpoint"):
        archzoo.pull("alice/to-folder", to=mine, overwrite=True)
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]

    pulled = archzoo.pull("alice/to-folder", to=tmp_path / "pulled")
    marker = pulled / "evaluation"
    marker.mkdir()
    with pytest.raises(CheckpointError, match="already holds a checkpoint; pass --overwrite"):
        archzoo.pull("alice/to-folder", to=pulled)
    assert marker.is_dir()
    again = archzoo.pull("alice/to-folder", to=pulled, overwrite=True)
    assert again == pulled and not marker.exists() and (pulled / "model.safetensors").is_file()


def test_cli_pull_to_a_file_is_a_message(hf, tmp_path):
    target = tmp_path / "a-file"
    target.write_text("keep")
    result = cli("pull", "alice/to-folder", "--to", str(target), env=hf.env, expect=2)
    assert "is a file" in result.stderr and "Traceback" not in result.stderr
    assert target.read_text() == "keep"


# -- 4: the operator's token ---------------------------------------------------------------


def _app_context(lend: bool):
    from archzoo.registry.host import get_host
    from archzoo.training.queue import RunManager
    from archzoo.ui.common import AppContext

    return AppContext(host=get_host(), runs=RunManager(get_host()), lend_hub_token=lend)


def test_the_app_does_not_lend_the_operators_token_to_an_empty_field(hf, run, store):
    from archzoo.ui import checkpoints_tab

    assert hf.env["HF_TOKEN"] == ALICE  # the operator is logged in with write access
    upload_tree(hf, "alice/operators-own", {"README.md": b"the operator's private notes"})
    ctx = _app_context(lend=False)
    message = checkpoints_tab.push(ctx, str(run), "alice/operators-own", False, "")
    assert "no write access" in message
    files = hf.server.files("alice/operators-own")
    assert files["README.md"] == b"the operator's private notes" and "config.json" not in files
    # Nor to read the operator's private repository.
    from huggingface_hub import HfApi

    HfApi(token=ALICE).create_repo("alice/private-model", private=True)
    archzoo.push_to_hub(run, "alice/private-model", token=ALICE)
    message, _, _ = checkpoints_tab.pull(ctx, "alice/private-model", "")
    assert "Problem" in message and "Pulled" not in message
    assert not (store / "hub" / "alice" / "private-model").exists()
    # A user's own token still works.
    message = checkpoints_tab.push(ctx, str(run), "alice/students-push", False, ALICE)
    assert "Pushed to" in message


def test_the_operator_may_lend_the_token_and_the_page_says_so(hf, run, store):
    from archzoo.ui import checkpoints_tab

    ctx = _app_context(lend=True)
    message = checkpoints_tab.push(ctx, str(run), "alice/lent", False, "")
    assert "Pushed to" in message
    assert ctx.hub_token("") is None and _app_context(lend=False).hub_token("") is False


def test_an_hf_location_typed_in_the_app_borrows_no_token(hf, run, store):
    from huggingface_hub import HfApi

    from archzoo.ui.app import build_app

    HfApi(token=ALICE).create_repo("alice/private-typed", private=True)
    archzoo.push_to_hub(run, "alice/private-typed", token=ALICE)
    app = build_app()  # the operator's HF_TOKEN (alice's) is set, and not lent
    try:
        host = app.archzoo.host
        with pytest.raises(HubError, match="not found|not allowed"):
            archzoo.load("hf://alice/private-typed", host=host)
        host.hub_token = None  # what the command line does: huggingface_hub finds the operator's token
        assert archzoo.load("hf://alice/private-typed", host=host).spec.name == "mlp"
    finally:
        app.archzoo.runs.shutdown()
