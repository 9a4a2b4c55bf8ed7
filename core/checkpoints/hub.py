"""Share checkpoints on the Hugging Face Hub: push a checkpoint folder, pull one back.

A checkpoint folder is already what a Hub model repo should hold
(``model.safetensors``, ``config.json``, a ``README.md`` model card), so a push
is one ``upload_folder`` commit and a pull is one ``snapshot_download``.
Everything goes through ``huggingface_hub`` as its documentation intends, so
its settings apply unchanged: ``HF_ENDPOINT`` (another Hub or a mirror),
``HF_TOKEN`` or the login saved by ``hf auth login``, the standard cache
(``HF_HOME`` / ``HF_HUB_CACHE``) and ``HF_HUB_OFFLINE=1``.

Safety: a pull downloads only the checkpoint files (JSON, safetensors and the
card), and archzoo reads nothing but JSON and safetensors from them: no
pickle, no code, no module named by the repo is ever imported.  The
architecture a pulled config names is looked up among the plugins already
installed; when it is missing the error says which distribution to install.

The token is handed to ``huggingface_hub`` and nowhere else: it is never
printed, logged, or written into a checkpoint, a card or an error message.

Pulling does not import torch (``archzoo pull`` answers quickly); loading a
pulled checkpoint is :func:`archzoo.load`'s job.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from archzoo.checkpoints.card import base_model, check_license, render_model_card
from archzoo.checkpoints.layout import (
    ADAPTER_CONFIG,
    CARD,
    CONFIG,
    EVALUATION_DIR,
    FORMAT,
    SHARED_FILES,
    WEIGHTS,
    find_local,
)
from archzoo.checkpoints.meta import read_meta
from archzoo.checkpoints.replace import check_replace
from archzoo.checkpoints.schema import check_config
from archzoo.errors import ArchzooError, CheckpointError, PluginMissingError
from archzoo.files import sha256_file, staged_folder
from archzoo.registry.host import archzoo_version, get_host
from archzoo.registry.limits import LimitError, parse_json
from archzoo.runs.record import EVENTS, IN_CHECKPOINT, RECORD, now, record_folder, update_record

#: The kinds of file the evaluation folder holds (archzoo report writes a page, figures and their numbers).
EVALUATION_SUFFIXES = (".html", ".json", ".png", ".md")
#: What push uploads and pull downloads, and nothing else: the shared files by exact name, the
#: evaluation folder's pages and figures one level deep, and the run's record in run/.
#: (huggingface_hub matches with fnmatch, where ``*`` also matches ``/``: hence IGNORED.)
HUB_PATTERNS = (
    *SHARED_FILES,
    *(f"{EVALUATION_DIR}/*{suffix}" for suffix in EVALUATION_SUFFIXES),
    f"{IN_CHECKPOINT}/{RECORD}",
    f"{IN_CHECKPOINT}/{EVENTS}",
)
#: Anything deeper than one level below evaluation/ is never taken, whatever its name.
IGNORED = (f"{EVALUATION_DIR}/*/*",)
MAX_CONFIG_BYTES = 16 * 1024 * 1024  # a config.json this big is not an archzoo config

HF_PREFIX = "hf://"
_REPO_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*")
_COMMIT_SHA = re.compile(r"[0-9a-f]{40}")
#: A branch or tag name (git's rules, narrowed: no "..", no empty part, no leading "/" or "-"),
#: or a pull request's ref (refs/pr/N).
_REVISION = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*")
_EVALUATION_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
LOGIN_HINT = "log in with `hf auth login`, or set HF_TOKEN to an access token"


class HubError(ArchzooError):
    """Pushing to or pulling from the Hub failed; the message says why and what to do."""


class HubReference(NamedTuple):
    """A repository on the Hub and, optionally, a revision in it (branch, tag or commit sha)."""

    repo_id: str
    revision: str | None = None

    def __str__(self) -> str:
        return self.repo_id + (f"@{self.revision}" if self.revision else "")


# -- references ----------------------------------------------------------------------


def parse_reference(reference: str) -> HubReference:
    """``hf://user/repo@rev``, ``hf://user/repo``, ``user/repo@rev`` or ``user/repo``."""
    text = str(reference).strip().removeprefix(HF_PREFIX)
    repo_id, sep, revision = text.partition("@")
    if not _REPO_ID.fullmatch(repo_id) or "--" in repo_id or ".." in repo_id:
        raise HubError(
            f"'{reference}' is not a Hub repository: expected NAMESPACE/NAME[@REVISION], "
            "for example alice/mlp-digits or hf://alice/mlp-digits@v1"
        )
    if sep and not revision:
        raise HubError(f"'{reference}' has an empty revision after '@': give a branch, a tag or a commit sha")
    if revision:
        check_revision(revision)
    return HubReference(repo_id, revision or None)


def check_revision(revision: str) -> str:
    """A branch, a tag or a commit sha, and nothing that could be read as a path
    (``..``, a leading ``/``, a backslash): the revision names a folder in the cache."""
    if (
        len(revision) > 200
        or not _REVISION.fullmatch(revision)
        or ".." in revision
        or revision.endswith((".lock", "."))
    ):
        shown = "".join(c if c.isprintable() else "?" for c in revision[:80])
        raise HubError(
            f"'{shown}' is not a revision: give a branch or tag name (letters, digits, '.', '_', '-', "
            "'/' between parts) or a commit sha"
        )
    return revision


# -- push ------------------------------------------------------------------------------


def push_to_hub(
    checkpoint: str | os.PathLike,
    repo_id: str,
    *,
    private: bool = False,
    branch: str | None = None,
    message: str | None = None,
    token: str | bool | None = None,
    license: str | None = None,
) -> str:
    """Upload a checkpoint (folder, run folder or store name) to ``repo_id`` as one commit.

    Creates the repository if needed (``private`` applies only then; pushing
    ``private=True`` into an existing public repository is refused rather than
    published), and ``branch`` if it does not exist yet.  The card is rendered
    afresh so its usage snippet names ``repo_id``.  ``token=None`` lets
    huggingface_hub find one (``HF_TOKEN``, then the saved login); ``token=False``
    sends none (the app does that unless the operator lends theirs).  ``license`` (an
    SPDX or Hub licence id) goes into the card; without it, the licence the repository's
    card already declares is kept.  The commit also deletes the repository's archzoo files
    that this checkpoint lacks (:func:`archzoo_file`), so nothing of an earlier push survives.

    Returns the commit URL: a ``huggingface_hub.CommitInfo``, which is a
    ``str`` whose ``.oid`` is the commit sha.
    """
    reference = parse_reference(repo_id)
    if reference.revision:
        raise HubError(
            f"push to '{reference.repo_id}' and choose the branch with --branch, not '@{reference.revision}'"
        )
    repo_id = reference.repo_id
    if branch:
        check_revision(branch)
    licence = check_license(license) if license is not None else None
    paths = get_host().paths
    if paths is not None:  # in the app: only a checkpoint in the store (or a data root) is pushed
        paths.checkpoint(checkpoint)
    folder = find_local(checkpoint)
    meta = read_meta(folder)
    weights = folder / WEIGHTS
    if not weights.is_file() or sha256_file(weights) != meta["weights_sha256"]:
        raise HubError(
            f"{folder} is damaged ({WEIGHTS} missing or not matching its sha256 in {CONFIG}); not pushing it"
        )

    api = _api(token)
    with _translate_errors(HubReference(repo_id, branch), writing=True), _staged(folder, meta, repo_id) as staging:
        api.create_repo(repo_id, private=True if private else None, exist_ok=True)
        if private and not api.repo_info(repo_id).private:
            raise HubError(
                f"{repo_id} already exists and is public, so --private cannot apply; "
                "make it private in its settings on the Hub first, or push without --private"
            )
        if branch:
            api.create_branch(repo_id, branch=branch, exist_ok=True)
        if licence is None:
            licence = _declared_license(api, repo_id, branch)
        shared = json.loads((staging / CONFIG).read_text(encoding="utf-8"))
        card = render_model_card(shared, repo_id=repo_id, license_fields=licence)
        (staging / CARD).write_text(card, encoding="utf-8")
        stale = _stale_files(api.list_repo_files(repo_id, revision=branch), staging)
        commit = api.upload_folder(
            repo_id=repo_id,
            folder_path=staging,
            revision=branch,
            commit_message=message or _default_message(meta),
            allow_patterns=list(HUB_PATTERNS),
            ignore_patterns=list(IGNORED),
            # Exact names (no wildcards in them: see archzoo_file), deleted in the same commit.
            delete_patterns=stale or None,
        )
    _note_lineage(folder, "pushed_to", {"repo": repo_id, "branch": branch or "main", "commit": commit.oid, "at": now()})
    return commit


def _declared_license(api, repo_id: str, branch: str | None) -> dict[str, str]:
    """The licence fields the repository's card declares now (none for a new repository)."""
    data = api.model_info(repo_id, revision=branch).card_data
    if data is None:
        return {}
    fields = {key: getattr(data, key, None) for key in ("license", "license_name", "license_link")}
    return {key: value for key, value in fields.items() if isinstance(value, str) and value}


def archzoo_file(path: str) -> bool:
    """Is ``path`` (in a repository) a file archzoo's layout can write: a shared checkpoint file,
    a page or figure directly in ``evaluation/``, or the run's record in ``run/``?

    These are the files a push replaces: one of them the new checkpoint lacks is deleted, so
    a repository never mixes two checkpoints.  Every other file (a user's own notes, code,
    ``.gitattributes``, anything nested deeper) is left as it is."""
    folder, _, name = path.rpartition("/")
    if not folder:
        return name in SHARED_FILES
    if folder == EVALUATION_DIR:
        return evaluation_file(name)
    return folder == IN_CHECKPOINT and name in (RECORD, EVENTS)


def _stale_files(remote: list[str], staging: Path) -> list[str]:
    """The archzoo files of the repository that the staged checkpoint does not hold."""
    return sorted(path for path in remote if archzoo_file(path) and not (staging / path).is_file())


def _note_lineage(folder: Path, key: str, value: object) -> None:
    """Add a push (or pull) to the record of the run ``folder`` belongs to, if it has one."""
    record = record_folder(folder) or record_folder(folder.parent)
    if record is None:
        return

    def change(data: dict) -> None:
        lineage = data.setdefault("lineage", {})
        if key == "pushed_to":
            lineage.setdefault("pushed_to", []).append(value)
        else:
            lineage[key] = value

    try:
        update_record(record, change)
    except (OSError, ValueError):  # a record that cannot be read is left as it is; the push itself worked
        pass


def _default_message(meta: dict) -> str:
    return (
        f"Upload {meta['architecture']} ({meta.get('task', 'model')}) trained on {meta['dataset']['name']} with archzoo"
    )


@contextmanager
def _staged(folder: Path, meta: dict, repo_id: str) -> Iterator[Path]:
    """A temporary folder holding the checkpoint's files (linked, not copied, where the
    filesystem allows) and a card rendered for ``repo_id``, so pushing never edits
    the user's checkpoint."""
    staging = Path(tempfile.mkdtemp(prefix="archzoo-push-"))
    try:
        shared = shared_meta(meta)
        for name in SHARED_FILES:
            if name not in (CARD, CONFIG) and _regular_file(folder / name):
                _link_or_copy(folder / name, staging / name)
        if _regular_file(folder / ADAPTER_CONFIG):
            _share_adapter_config(folder / ADAPTER_CONFIG, staging / ADAPTER_CONFIG, shared)
        (staging / CONFIG).write_text(json.dumps(shared, indent=2) + "\n", encoding="utf-8")
        evaluation = folder / EVALUATION_DIR
        if evaluation.is_dir() and not evaluation.is_symlink():
            (staging / EVALUATION_DIR).mkdir()
            for figure in evaluation.iterdir():
                if _regular_file(figure) and evaluation_file(figure.name):
                    _link_or_copy(figure, staging / EVALUATION_DIR / figure.name)
        record = record_folder(folder) or record_folder(folder.parent)
        if record is not None and _regular_file(record / RECORD):
            (staging / IN_CHECKPOINT).mkdir()
            if _regular_file(record / EVENTS):  # read now: a run still training appends to it
                (staging / IN_CHECKPOINT / EVENTS).write_text(_shared_events(record / EVENTS), encoding="utf-8")
            (staging / IN_CHECKPOINT / RECORD).write_text(_shared_record(record), encoding="utf-8")
        yield staging  # the card is written once the repository's licence is known
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _shared_record(folder: Path) -> str:
    """The run's record as the Hub gets it: without the list of its own pushes (which
    would make every push differ from the last) and without the local folder's path."""
    data = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    lineage = data.get("lineage")
    if isinstance(lineage, dict):
        lineage.pop("pushed_to", None)
    data.pop("folder", None)
    return json.dumps(without_local_paths(data), indent=1, default=str) + "\n"


def _shared_events(path: Path) -> str:
    """The run's events as the Hub gets them: every path on this machine (the dataset's file,
    the run's folder) cut to its last part.  A line that is not whole JSON (the run may be
    writing it now) is left out."""
    lines = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        lines.append(json.dumps(without_local_paths(event), separators=(",", ":"), default=str))
    return "".join(f"{line}\n" for line in lines)


def _share_adapter_config(source: Path, dest: Path, shared: dict) -> None:
    """PEFT's ``adapter_config.json`` as the Hub gets it: a base model that is a folder on this
    machine (``base_model_name_or_path``) named by its last part, as ``config.json`` names the
    encoder; its new sha256 is recorded in ``shared`` (the pushed ``config.json``)."""
    dest.unlink(missing_ok=True)
    text = source.read_text(encoding="utf-8")
    try:
        adapter = json.loads(text)
    except ValueError:
        adapter = None
    if not isinstance(adapter, dict) or without_local_paths(adapter) == adapter:
        _link_or_copy(source, dest)  # nothing local in it: the bytes as they are
        return
    base, encoder = adapter.get("base_model_name_or_path"), (shared.get("config") or {}).get("encoder")
    adapter = without_local_paths(adapter)
    if isinstance(base, str) and _LOCAL_PATH.match(base) and isinstance(encoder, str):
        adapter["base_model_name_or_path"] = encoder  # the pushed config's name for it: a Hub id where known
    dest.write_text(json.dumps(adapter, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    if isinstance(shared.get("files"), dict) and ADAPTER_CONFIG in shared["files"]:
        shared["files"] = {**shared["files"], ADAPTER_CONFIG: sha256_file(dest)}


def shared_meta(meta: dict) -> dict:
    """``config.json`` as the Hub gets it: a dataset, a training setting or a model setting
    that is a path on this machine (``/home/me/data.csv``, a pretrained encoder's folder
    ``/home/me/bert``) keeps only its last part (``data.csv``, ``bert``).  A checkpoint whose
    encoder was a local folder is therefore rebuilt elsewhere only from a folder of that name;
    an encoder named by its Hub id travels whole, and one in the Hugging Face cache
    (``.../models--NS--NAME/snapshots/...``) is named by its Hub id ``NS/NAME``."""
    shared = {key: without_local_paths(value) if key in _SETTINGS else value for key, value in meta.items()}
    encoder = (meta.get("config") or {}).get("encoder") if isinstance(meta.get("config"), dict) else None
    hub_id = base_model(meta)
    if isinstance(encoder, str) and _LOCAL_PATH.match(encoder) and hub_id:  # a copy in the Hugging Face cache
        shared["config"] = {**shared["config"], "encoder": hub_id}
    return shared


#: Where the paths of the data and of a model's pretrained parts live.
_SETTINGS = ("train", "dataset", "config")


def without_local_paths(value: object) -> object:
    """``value`` with every string that is an absolute or home-relative path cut to its name."""
    if isinstance(value, dict):
        return {key: without_local_paths(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_local_paths(item) for item in value]
    if isinstance(value, str) and _LOCAL_PATH.match(value):
        return re.split(r"[\\/]", value.rstrip("/\\"))[-1] or "dataset"
    return value


_LOCAL_PATH = re.compile(r"(/|~|[A-Za-z]:[\\/]|\\\\)")


def evaluation_file(name: str) -> bool:
    """Is ``name`` a file the evaluation folder may share: a page, a figure or its numbers?"""
    return bool(_EVALUATION_NAME.fullmatch(name)) and name.endswith(EVALUATION_SUFFIXES)


def _regular_file(path: Path) -> bool:
    """A regular file itself, not a link to one: a push never follows a link out of the folder."""
    return path.is_file() and not path.is_symlink()


def _link_or_copy(source: Path, dest: Path) -> None:
    """A hard link to (or a copy of) the regular file ``source``; never a symbolic link."""
    try:
        os.link(source, dest, follow_symlinks=False)
    except OSError:
        shutil.copyfile(source, dest, follow_symlinks=False)


# -- pull ------------------------------------------------------------------------------


def pull(
    reference: str, *, to: str | os.PathLike | None = None, token: str | bool | None = None, overwrite: bool = False
) -> Path:
    """Download a checkpoint from the Hub; returns the local checkpoint folder.

    ``reference`` is ``user/repo`` or ``user/repo@revision`` (branch, tag or
    commit sha; ``hf://`` in front is accepted).  Files land in the standard
    Hugging Face cache, or in ``to`` when given.  A revision already cached is
    not downloaded again; with ``HF_HUB_OFFLINE=1`` only the cache is used.

    ``config.json`` is fetched first and must be an archzoo checkpoint config
    before the weights are downloaded; then the weights' sha256 is checked.

    ``to`` that already holds a checkpoint is replaced only with ``overwrite``
    (:mod:`archzoo.checkpoints.replace`); anything else there is never touched.
    The files are downloaded beside ``to`` and swapped in whole.
    """
    ref = parse_reference(reference)
    if to is not None:
        to = Path(to).expanduser()
        check_replace(to, overwrite=overwrite)
    with _translate_errors(ref, writing=False):
        config_folder = _download(ref.repo_id, ref.revision, [CONFIG], token=token)
        meta = _archzoo_config(config_folder / CONFIG, ref)
        # Pin the rest to the commit config.json came from, so a push in between cannot mix revisions.
        commit = config_folder.name if _COMMIT_SHA.fullmatch(config_folder.name) else ref.revision
        if to is None:
            folder = _download(ref.repo_id, commit, list(HUB_PATTERNS), token=token)
            _check_weights(folder, meta, ref)
            return folder
        with staged_folder(to) as staging:
            _download(ref.repo_id, commit, list(HUB_PATTERNS), token=token, local_dir=staging)
            _check_weights(staging, meta, ref)
    # A folder of the user's own; the Hugging Face cache is left as it was downloaded.
    _note_lineage(to, "pulled_from", f"{ref.repo_id}@{commit}")
    return to


def _download(
    repo_id: str, revision: str | None, files: list[str], *, token: str | bool | None, local_dir=None
) -> Path:
    from huggingface_hub import snapshot_download

    return Path(
        snapshot_download(
            repo_id,
            revision=revision,
            allow_patterns=files,
            ignore_patterns=list(IGNORED),
            local_dir=local_dir,
            token=token,
            library_name="archzoo",
            library_version=archzoo_version(),
        )
    )


def _archzoo_config(path: Path, ref: HubReference) -> dict:
    """Read a pulled ``config.json`` (JSON only) and make sure it describes an archzoo checkpoint."""
    what = f"{ref} is not an archzoo checkpoint"
    if not path.is_file():
        raise HubError(f"{what}: it has no {CONFIG} (archzoo pushes model.safetensors + {CONFIG} + README.md)")
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise HubError(f"{what}: its {CONFIG} is larger than {MAX_CONFIG_BYTES // 2**20} MiB")
    try:
        meta = parse_json(path.read_bytes(), f"{ref}'s {CONFIG}")
    except LimitError as exc:
        raise HubError(f"{what}: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise HubError(
            f'{what}: its {CONFIG} has no "format": "{FORMAT}" '
            "(a transformers, diffusers or timm model is loaded with that library, not archzoo)"
        )
    architecture = meta.get("architecture")
    if not isinstance(architecture, str) or not architecture.isprintable() or not 0 < len(architecture) <= 200:
        raise HubError(f"{ref} has a damaged archzoo {CONFIG}: 'architecture' is missing or not a name")
    if not isinstance(meta.get("weights_sha256"), str):
        raise HubError(f"{ref} has a damaged archzoo {CONFIG}: it lacks 'weights_sha256'")
    try:
        return check_config(path.read_bytes(), f"{ref}'s {CONFIG}")
    except CheckpointError as exc:
        raise HubError(str(exc)) from None


def _check_weights(folder: Path, meta: dict, ref: HubReference) -> None:
    weights = folder / WEIGHTS
    if not weights.is_file():
        raise HubError(f"{ref} has an archzoo {CONFIG} but no {WEIGHTS}; the repository is incomplete")
    if sha256_file(weights) != meta["weights_sha256"]:
        raise HubError(
            f"{WEIGHTS} of {ref} does not match the sha256 in its {CONFIG}: the repository's files were "
            "changed separately, or the download is damaged (delete it from the cache and pull again)"
        )


def describe(meta: dict) -> str:
    """One line about a pulled checkpoint, e.g. ``mlp (image-classification), trained on digits``.

    The words come from a downloaded file, so anything that is not printable
    (terminal escape sequences included) is shown as ``?``."""
    dataset = meta.get("dataset")
    parts = (meta.get("architecture"), meta.get("task"), dataset.get("name") if isinstance(dataset, dict) else None)
    arch, task, data = ("".join(c if c.isprintable() else "?" for c in str(p or "?"))[:200] for p in parts)
    return f"{arch} ({task}), trained on {data}"


def installed_hint(meta: dict) -> str | None:
    """None when the checkpoint's architecture is installed, else what to install."""
    if meta.get("architecture") in get_host().architectures:
        return None
    return str(PluginMissingError.for_checkpoint(meta))


# -- talking to the Hub ----------------------------------------------------------------


def _api(token: str | bool | None):
    from huggingface_hub import HfApi

    return HfApi(token=token, library_name="archzoo", library_version=archzoo_version())


def _endpoint() -> str:
    from huggingface_hub import constants

    return constants.ENDPOINT


def _offline() -> bool:
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


@contextmanager
def _translate_errors(ref: HubReference, *, writing: bool) -> Iterator[None]:
    """Turn huggingface_hub's exceptions into a :class:`HubError` that says what to do.

    The original exception is kept as ``__cause__`` for debugging; none of
    these messages can contain the token (huggingface_hub never puts it in its
    own messages, and ours name only the repo, the revision and the endpoint).
    """
    from huggingface_hub import errors as hf

    try:
        yield
    except ArchzooError:
        raise
    except hf.OfflineModeIsEnabled as exc:
        raise HubError(f"HF_HUB_OFFLINE=1 is set, so {ref} cannot be reached: unset it to push or pull") from exc
    except hf.RevisionNotFoundError as exc:
        raise HubError(
            f"revision '{ref.revision}' not found in {ref.repo_id}: give an existing branch, tag or full commit sha"
        ) from exc
    except hf.GatedRepoError as exc:
        raise HubError(f"{ref.repo_id} is gated: accept its conditions on the Hub, then {LOGIN_HINT}") from exc
    except hf.RepositoryNotFoundError as exc:
        raise HubError(
            f"repository {ref.repo_id} not found on {_endpoint()}: check the name; if it is private, "
            f"{LOGIN_HINT} that can read it"
        ) from exc
    except hf.HFValidationError as exc:
        raise HubError(f"{ref}: {exc}") from exc
    except hf.LocalEntryNotFoundError as exc:  # includes IncompleteSnapshotError
        raise _not_cached(ref, exc) from exc
    except hf.HfHubHTTPError as exc:
        raise _http_error(ref, exc, writing) from exc
    except ValueError as exc:
        if "Invalid metadata in README.md" in str(exc):
            raise HubError(f"the Hub rejected the model card's metadata: {exc}") from exc
        raise
    except Exception as exc:
        if _xet_refused(exc):
            raise HubError(_no_xet(ref)) from exc
        if _network_error(exc) is not None:
            raise HubError(_unreachable(ref)) from exc
        raise


def _http_error(ref: HubReference, exc, writing: bool) -> HubError:
    status = exc.response.status_code if exc.response is not None else None
    if status in (401, 403):
        from huggingface_hub import get_token

        found = "" if get_token() else " (no token found)"
        if writing:
            namespace = ref.repo_id.split("/")[0]
            return HubError(
                f"no write access to {ref.repo_id} (HTTP {status}){found}: {LOGIN_HINT} that has write "
                f"permission for '{namespace}'"
            )
        return HubError(f"not allowed to read {ref.repo_id} (HTTP {status}){found}: {LOGIN_HINT} that can read it")
    server = (exc.server_message or "").strip()
    return HubError(f"the Hub at {_endpoint()} answered HTTP {status} for {ref}" + (f": {server}" if server else ""))


def _not_cached(ref: HubReference, exc: Exception) -> HubError:
    from huggingface_hub import errors as hf

    if isinstance(exc, hf.IncompleteSnapshotError):
        return HubError(
            f"the cached copy of {ref} is incomplete and the Hub cannot be reached: pull it again while online"
        )
    if _offline():
        return HubError(
            f"{ref} is not in the local Hugging Face cache and HF_HUB_OFFLINE=1 is set: "
            f"pull it once while online (archzoo pull {ref}), or unset HF_HUB_OFFLINE"
        )
    if _network_error(exc) is not None:
        return HubError(_unreachable(ref))
    return HubError(f"{ref} could not be downloaded and is not in the local cache: {exc}")


def _unreachable(ref: HubReference) -> str:
    return (
        f"cannot reach the Hub at {_endpoint()} to get {ref}: check your network connection and HF_ENDPOINT "
        "(unset it for huggingface.co); to use checkpoints already in the cache without the network, set "
        "HF_HUB_OFFLINE=1"
    )


def _no_xet(ref: HubReference) -> str:
    return (
        f"the Hub at {_endpoint()} does not offer Xet storage, which huggingface_hub uploads through when the "
        f"hf_xet package is installed (it refused the Xet token for {ref}): set HF_HUB_DISABLE_XET=1 to upload "
        "with classic git-LFS, which such an endpoint speaks"
    )


def _xet_refused(exc: BaseException | None) -> bool:
    """Did hf_xet fail because the endpoint has no Xet token route (a Hub without Xet storage)?
    hf_xet reports it as a connection error naming the ``xet-write-token`` / ``xet-read-token`` URL."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        text = str(exc)
        if re.search(r"/xet-(write|read)-token/", text) and re.search(r"\b(401|403|404|405|501)\b", text):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _network_error(exc: BaseException | None) -> BaseException | None:
    """The connection or timeout error in ``exc``'s chain, if any."""
    kinds = _network_error_types()
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, kinds):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def _network_error_types() -> tuple[type[BaseException], ...]:
    """Transport errors of the HTTP library huggingface_hub uses: httpx in 1.x, httpx2 in 2.x
    (``huggingface_hub.utils.httpx`` names whichever it is from 1.30 on)."""
    import importlib

    kinds: list[type[BaseException]] = [ConnectionError, TimeoutError]
    for name in ("httpx2", "httpx"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        kinds += [module.ConnectError, module.TimeoutException, module.NetworkError]
    return tuple(kinds)
