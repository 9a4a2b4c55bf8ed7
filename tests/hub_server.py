"""A local, in-memory stand-in for the Hugging Face Hub, for tests.

Why it exists: archzoo pushes and pulls checkpoints with the ``huggingface_hub``
client, and the machines that run the tests cannot reach huggingface.co.  So
the Hub tests start this server on 127.0.0.1 (a free port, a background
thread) and point the **unmodified** client at it with ``HF_ENDPOINT``.  It is
not a Hub: it implements only what the client sends for the operations
archzoo uses, as read from huggingface_hub's source (``hf_api.py``,
``_commit_api.py``, ``lfs.py``, ``file_download.py``, ``_snapshot_download.py``,
``utils/_http.py``).  It speaks the classic git-LFS upload protocol, not Xet,
so clients must run with ``HF_HUB_DISABLE_XET=1``.

Endpoints (``{repo}`` is ``namespace/name``; only model repos):

    GET    /api/whoami-v2
    POST   /api/repos/create                       {name, organization, visibility}
    POST   /api/validate-yaml                      model card front matter check
    GET    /api/models/{repo}[/revision/{rev}]     model info: sha, private, siblings, cardData
    GET    /api/models/{repo}/tree/{rev}[/{path}]  file listing (?recursive=), with LFS sha256/size
    GET    /api/models/{repo}/refs                 branches and tags
    POST   /api/models/{repo}/preupload/{rev}      upload mode (regular | lfs) and remote oid per file
    POST   /api/models/{repo}/commit/{rev}         NDJSON: header, file, lfsFile, deletedFile, deletedFolder
    POST   /api/models/{repo}/branch/{branch}      {startingPoint}; DELETE removes it
    POST   /api/models/{repo}/tag/{rev}            {tag, message}
    POST   /{repo}.git/info/lfs/objects/batch      LFS batch API, "basic" transfer (upload + verify actions)
    PUT    /lfs-upload/{ticket}                    the one-time "pre-signed" URL the batch answer hands out
    POST   /{repo}.git/info/lfs/objects/verify     {oid, size}
    HEAD   /{repo}/resolve/{rev}/{path}            X-Repo-Commit, ETag (git blob sha1), and for LFS
    GET    /{repo}/resolve/{rev}/{path}              files X-Linked-Etag (sha256) + X-Linked-Size; Range

Differences from the real Hub, on purpose: LFS files are served directly
instead of through a redirect to a CDN; pull requests (``create_pr``), Xet,
datasets and Spaces are not implemented.

Errors carry the headers the client maps to its exceptions: 404 with
``X-Error-Code: RepoNotFound`` / ``RevisionNotFound`` / ``EntryNotFound``; 401
for an unknown token; 403 for a token without write access to the namespace;
409 for something that already exists.  Tokens come from a dict
``{token: (user, can_write)}``.

Commits are real git objects: blob, tree and commit shas are computed as git
computes them, so revisions look and behave like the Hub's.

For assertions the server counts requests per route (``server.counts``, e.g.
``counts["GET resolve"]``) and the bytes of file content it has served
(``server.bytes_served["lfs"]``, ``["regular"]``).
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import re
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

# The LFS part of the .gitattributes the Hub puts in every new model repo.
DEFAULT_GITATTRIBUTES = "".join(
    f"{pattern} filter=lfs diff=lfs merge=lfs -text\n"
    for pattern in (
        "*.7z",
        "*.arrow",
        "*.bin",
        "*.bz2",
        "*.ckpt",
        "*.ftz",
        "*.gz",
        "*.h5",
        "*.joblib",
        "*.lfs.*",
        "*.mlmodel",
        "*.model",
        "*.msgpack",
        "*.npy",
        "*.npz",
        "*.onnx",
        "*.ot",
        "*.parquet",
        "*.pb",
        "*.pickle",
        "*.pkl",
        "*.pt",
        "*.pth",
        "*.rar",
        "*.safetensors",
        "saved_model/**/*",
        "*.tar.*",
        "*.tar",
        "*.tflite",
        "*.tgz",
        "*.wasm",
        "*.xz",
        "*.zip",
        "*.zst",
        "*tfevents*",
    )
)
LFS_THRESHOLD = 10 * 1024 * 1024  # the Hub stores files above 10 MB in LFS whatever their name
SHA256 = re.compile(r"[0-9a-f]{64}")
SHA1 = re.compile(r"[0-9a-f]{40}")


# -- git objects ---------------------------------------------------------------------


def git_blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


@dataclass
class Entry:
    """One file in a commit: its content (regular files) or the sha256 of its LFS object."""

    size: int
    oid: str  # git blob sha1 of the content, or of the LFS pointer
    content: bytes | None = None
    lfs_sha256: str | None = None

    @classmethod
    def regular(cls, content: bytes) -> Entry:
        return cls(size=len(content), oid=git_blob_oid(content), content=content)

    @classmethod
    def lfs(cls, sha256: str, size: int) -> Entry:
        return cls(size=size, oid=git_blob_oid(lfs_pointer(sha256, size)), lfs_sha256=sha256)

    @property
    def etag(self) -> str:
        """What the Hub reports as the file's ETag: sha256 for LFS files, the git oid otherwise."""
        return self.lfs_sha256 or self.oid


def git_tree_oid(files: dict[str, Entry]) -> str:
    """The sha1 git gives the tree holding ``files`` (nested paths become subtrees)."""
    blobs: dict[str, str] = {}
    subtrees: dict[str, dict[str, Entry]] = {}
    for path, entry in files.items():
        head, sep, rest = path.partition("/")
        if sep:
            subtrees.setdefault(head, {})[rest] = entry
        else:
            blobs[head] = entry.oid
    items = [(name, "100644", oid) for name, oid in blobs.items()]
    items += [(name, "40000", git_tree_oid(sub)) for name, sub in subtrees.items()]
    items.sort(key=lambda item: item[0] + ("/" if item[1] == "40000" else ""))
    body = b"".join(f"{mode} {name}".encode() + b"\0" + bytes.fromhex(oid) for name, mode, oid in items)
    return hashlib.sha1(b"tree %d\0" % len(body) + body).hexdigest()


def hub_date(stamp: float) -> str:
    """The Hub's timestamp format, which the client parses strictly."""
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class Commit:
    sha: str
    parent: str | None
    files: dict[str, Entry]
    title: str
    author: str
    date: str


def make_commit(files: dict[str, Entry], parent: str | None, title: str, description: str, author: str) -> Commit:
    stamp = int(time.time())
    lines = [f"tree {git_tree_oid(files)}"]
    if parent:
        lines.append(f"parent {parent}")
    who = f"{author} <{author}@users.noreply.huggingface.co> {stamp} +0000"
    message = title + (f"\n\n{description}" if description else "")
    text = "\n".join(lines + [f"author {who}", f"committer {who}", "", message]) + "\n"
    body = text.encode()
    sha = hashlib.sha1(b"commit %d\0" % len(body) + body).hexdigest()
    return Commit(sha=sha, parent=parent, files=dict(files), title=title, author=author, date=hub_date(stamp))


@dataclass
class Repo:
    repo_id: str
    owner: str
    private: bool
    created: str
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    def resolve(self, revision: str) -> Commit | None:
        """A branch, a tag or a full commit sha -> the commit, as the Hub resolves revisions."""
        sha = self.branches.get(revision) or self.tags.get(revision)
        if sha is None and SHA1.fullmatch(revision):
            sha = revision
        return self.commits.get(sha) if sha else None

    def is_lfs(self, commit: Commit, path: str, sample: bytes, size: int) -> bool:
        """Whether the Hub would store this file in LFS: named so by .gitattributes, binary, or big."""
        attributes = commit.files.get(".gitattributes")
        patterns = []
        if attributes is not None and attributes.content is not None:
            for line in attributes.content.decode("utf-8", "replace").splitlines():
                parts = line.split()
                if len(parts) > 1 and "filter=lfs" in parts[1:]:
                    patterns.append(parts[0])
        name = path.rsplit("/", 1)[-1]
        named = any(fnmatch.fnmatch(path, p) or fnmatch.fnmatch(name, p) for p in patterns)
        return named or b"\0" in sample or size >= LFS_THRESHOLD


# -- the server ----------------------------------------------------------------------


class HubError(Exception):
    """An error answer: status, message, and the X-Error-Code the client maps to an exception."""

    def __init__(self, status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers or {}


class HubServer:
    """The Hub's state (users, repos, LFS objects) and the HTTP server in front of it."""

    def __init__(self, tokens: dict[str, tuple[str, bool]]):
        self.tokens = dict(tokens)
        self.repos: dict[str, Repo] = {}
        self.lfs_objects: dict[str, bytes] = {}
        self.upload_tickets: dict[str, tuple[str, str, int]] = {}
        self.counts: Counter[str] = Counter()
        self.bytes_served: Counter[str] = Counter()
        self.lock = threading.RLock()
        self.httpd: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    # lifecycle

    def start(self) -> HubServer:
        handler = type("BoundHandler", (Handler,), {"hub": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self.httpd is not None, "server not started"
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    # inspection helpers for tests

    def reset_counts(self) -> None:
        with self.lock:
            self.counts.clear()
            self.bytes_served.clear()

    def files(self, repo_id: str, revision: str = "main") -> dict[str, bytes]:
        """Every file of a revision with its content (LFS objects resolved)."""
        commit = self.repos[repo_id].resolve(revision)
        assert commit is not None, f"no revision {revision} in {repo_id}"
        return {path: self._content(entry) for path, entry in commit.files.items()}

    def all_stored_bytes(self) -> list[bytes]:
        """Everything the server holds: every regular file of every commit and every LFS object."""
        found = [
            e.content for r in self.repos.values() for c in r.commits.values() for e in c.files.values() if e.content
        ]
        return found + list(self.lfs_objects.values())

    def _content(self, entry: Entry) -> bytes:
        return entry.content if entry.content is not None else self.lfs_objects[entry.lfs_sha256]

    # auth

    def user(self, authorization: str | None) -> tuple[str, bool] | None:
        """(user, can_write) for the request's bearer token; None when it sends none."""
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or token not in self.tokens:
            raise HubError(401, "Invalid credentials in Authorization header")
        return self.tokens[token]

    def readable(self, repo_id: str, who: tuple[str, bool] | None) -> Repo:
        repo = self.repos.get(repo_id)
        if repo is None or (repo.private and (who is None or who[0] != repo.owner)):
            raise HubError(404, "Repository not found", "RepoNotFound")
        return repo

    def writable(self, repo_id: str, who: tuple[str, bool] | None) -> Repo:
        repo = self.readable(repo_id, who) if who is not None else None
        if who is None:
            raise HubError(401, "You must be authenticated to write to a repository")
        if not who[1] or repo.owner != who[0]:
            raise HubError(
                403,
                f"You don't have the rights to write to {repo_id}: the token is read-only or not for this namespace",
            )
        return repo

    @staticmethod
    def commit_of(repo: Repo, revision: str) -> Commit:
        commit = repo.resolve(revision)
        if commit is None:
            raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return commit


class Handler(BaseHTTPRequestHandler):
    """Routes one request to the method that answers it; every answer has a Content-Length."""

    protocol_version = "HTTP/1.1"
    hub: HubServer  # set on the subclass made in HubServer.start

    def log_message(self, format: str, *args: Any) -> None:  # quiet: pytest shows failures, not traffic
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # plumbing

    def _dispatch(self, method: str) -> None:
        body = self._read_body()
        url = urlsplit(self.path)
        self.query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        segments = [unquote(s) for s in url.path.split("/")[1:]]
        try:
            route, args = self._route(method, segments)
            with self.hub.lock:
                self.hub.counts[f"{method} {route}"] += 1
                who = self.hub.user(self.headers.get("Authorization"))
                getattr(self, "api_" + route.replace("-", "_"))(method, who, body, *args)
        except HubError as error:
            self._error(error)
        except Exception as exc:  # a bug here: answer 400, which the client does not retry, so tests fail fast
            self._error(HubError(400, f"internal error in the test Hub: {exc!r}"))

    def _route(self, method: str, s: list[str]) -> tuple[str, tuple]:
        if s[:2] == ["api", "whoami-v2"]:
            return "whoami", ()
        if s[:3] == ["api", "repos", "create"] and method == "POST":
            return "create", ()
        if s[:2] == ["api", "validate-yaml"] and method == "POST":
            return "validate-yaml", ()
        if s[:2] == ["api", "models"] and len(s) >= 4:
            repo_id, action, args = f"{s[2]}/{s[3]}", (s[4:] or ["info"])[0], s[5:]
            if action == "info" or (action == "refs" and not args):
                return action, (repo_id,)
            if action == "revision" and len(args) == 1:
                return "info", (repo_id, args[0])
            if action == "tree" and args:
                return "tree", (repo_id, *args)
            if action in ("preupload", "commit", "branch", "tag") and len(args) == 1:
                return action, (repo_id, args[0])
        if len(s) == 2 and s[0] == "lfs-upload" and method == "PUT":
            return "lfs-upload", (s[1],)
        if len(s) == 6 and s[1].endswith(".git") and s[2:5] == ["info", "lfs", "objects"] and method == "POST":
            return f"lfs-{s[5]}", (f"{s[0]}/{s[1][:-4]}",)
        if len(s) >= 5 and s[2] == "resolve" and method in ("GET", "HEAD"):
            return "resolve", (f"{s[0]}/{s[1]}", s[3], "/".join(s[4:]))
        raise HubError(404, f"{method} {self.path} is not implemented by the test Hub")

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(
        self,
        status: int,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
        length: int | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def _json(self, value: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(value).encode(), headers)

    def _error(self, error: HubError) -> None:
        headers = {"X-Error-Message": error.message, **error.headers}
        if error.code:
            headers["X-Error-Code"] = error.code
        self._json({"error": error.message}, error.status, headers)

    @staticmethod
    def _load(body: bytes) -> Any:
        try:
            return json.loads(body or b"{}")
        except json.JSONDecodeError as exc:
            raise HubError(400, f"invalid JSON body: {exc}") from None

    # -- account and repos -------------------------------------------------------------

    def api_whoami(self, method: str, who: tuple[str, bool] | None, body: bytes) -> None:
        if who is None:
            raise HubError(401, "Invalid credentials in Authorization header")
        role = "write" if who[1] else "read"
        self._json({"type": "user", "name": who[0], "auth": {"type": "access_token", "accessToken": {"role": role}}})

    def api_create(self, method: str, who: tuple[str, bool] | None, body: bytes) -> None:
        payload = self._load(body)
        if payload.get("type") not in (None, "model"):
            raise HubError(400, "the test Hub only holds model repos")
        if who is None:
            raise HubError(401, "You must be authenticated to create a repository")
        namespace = payload.get("organization") or who[0]
        repo_id = f"{namespace}/{payload['name']}"
        if not who[1] or namespace != who[0]:
            raise HubError(403, f'You don\'t have the rights to create a model under the namespace "{namespace}"')
        url = f"{self.hub.url}/{repo_id}"
        if repo_id in self.hub.repos:
            self._json({"error": "You already created this model repo", "url": url}, 409)
            return
        repo = Repo(
            repo_id, owner=namespace, private=payload.get("visibility") == "private", created=hub_date(time.time())
        )
        first = make_commit(
            {".gitattributes": Entry.regular(DEFAULT_GITATTRIBUTES.encode())}, None, "initial commit", "", who[0]
        )
        repo.commits[first.sha], repo.branches["main"] = first, first.sha
        self.hub.repos[repo_id] = repo
        self._json({"url": url, "name": repo_id, "id": secrets.token_hex(12)})

    def api_validate_yaml(self, method: str, who: tuple[str, bool] | None, body: bytes) -> None:
        errors = front_matter_errors(self._load(body).get("content", ""))
        self._json({"errors": [{"message": e} for e in errors], "warnings": []}, 400 if errors else 200)

    def api_info(
        self, method: str, who: tuple[str, bool] | None, body: bytes, repo_id: str, revision: str = "main"
    ) -> None:
        repo = self.hub.readable(repo_id, who)
        commit = self.hub.commit_of(repo, revision)
        with_blobs = self.query.get("blobs", "").lower() in ("1", "true")
        siblings = []
        for path, entry in sorted(commit.files.items()):
            sibling: dict[str, Any] = {"rfilename": path}
            if with_blobs:
                sibling.update(size=entry.size, blobId=entry.oid)
                if entry.lfs_sha256:
                    sibling["lfs"] = {
                        "sha256": entry.lfs_sha256,
                        "size": entry.size,
                        "pointerSize": len(lfs_pointer(entry.lfs_sha256, entry.size)),
                    }
            siblings.append(sibling)
        card = card_data(commit.files.get("README.md"))
        self._json(
            {
                "_id": hashlib.sha1(repo_id.encode()).hexdigest()[:24],
                "id": repo_id,
                "modelId": repo_id,
                "author": repo.owner,
                "sha": commit.sha,
                "lastModified": commit.date,
                "createdAt": repo.created,
                "private": repo.private,
                "gated": False,
                "disabled": False,
                "downloads": 0,
                "likes": 0,
                "library_name": card.get("library_name"),
                "tags": list(card.get("tags") or []),
                "pipeline_tag": card.get("pipeline_tag"),
                "cardData": card or None,
                "siblings": siblings,
            }
        )

    def api_tree(
        self, method: str, who: tuple[str, bool] | None, body: bytes, repo_id: str, revision: str, *path: str
    ) -> None:
        commit = self.hub.commit_of(self.hub.readable(repo_id, who), revision)
        prefix = "/".join(path).strip("/")
        recursive = self.query.get("recursive", "").lower() in ("1", "true")
        listing: dict[str, dict] = {}
        for file_path, entry in sorted(commit.files.items()):
            if prefix and not file_path.startswith(prefix + "/"):
                continue
            relative = file_path[len(prefix) + 1 :] if prefix else file_path
            parts = relative.split("/")
            for depth in range(1, len(parts)):  # the folders on the way
                folder = "/".join(([prefix] if prefix else []) + parts[:depth])
                if recursive or depth == 1:
                    sub = {p: e for p, e in commit.files.items() if p.startswith(folder + "/")}
                    listing.setdefault(
                        folder,
                        {
                            "type": "directory",
                            "oid": git_tree_oid({p[len(folder) + 1 :]: e for p, e in sub.items()}),
                            "size": 0,
                            "path": folder,
                        },
                    )
            if recursive or len(parts) == 1:
                item: dict[str, Any] = {"type": "file", "oid": entry.oid, "size": entry.size, "path": file_path}
                if entry.lfs_sha256:
                    item["lfs"] = {
                        "oid": entry.lfs_sha256,
                        "size": entry.size,
                        "pointerSize": len(lfs_pointer(entry.lfs_sha256, entry.size)),
                    }
                listing[file_path] = item
        if prefix and not listing:
            raise HubError(404, f"{prefix} does not exist at {revision}", "EntryNotFound")
        self._json(list(listing.values()))

    def api_refs(self, method: str, who: tuple[str, bool] | None, body: bytes, repo_id: str) -> None:
        repo = self.hub.readable(repo_id, who)
        self._json(
            {
                "branches": [
                    {"name": n, "ref": f"refs/heads/{n}", "targetCommit": sha} for n, sha in repo.branches.items()
                ],
                "tags": [{"name": n, "ref": f"refs/tags/{n}", "targetCommit": sha} for n, sha in repo.tags.items()],
                "converts": [],
                "pullRequests": [],
            }
        )

    def api_branch(self, method: str, who: tuple[str, bool] | None, body: bytes, repo_id: str, branch: str) -> None:
        repo = self.hub.writable(repo_id, who)
        if method == "DELETE":
            if branch == "main" or branch not in repo.branches:
                raise HubError(400 if branch == "main" else 404, f"cannot delete branch {branch}")
            del repo.branches[branch]
            self._json({})
            return
        if branch in repo.branches or branch in repo.tags:
            raise HubError(409, "Reference already exists")
        start = self._load(body).get("startingPoint") or "main"
        repo.branches[branch] = self.hub.commit_of(repo, start).sha
        self._json({})

    def api_tag(self, method: str, who: tuple[str, bool] | None, body: bytes, repo_id: str, revision: str) -> None:
        repo = self.hub.writable(repo_id, who)
        tag = self._load(body).get("tag")
        if not tag or tag in repo.tags or tag in repo.branches:
            raise HubError(409, f"Tag {tag!r} already exists or is invalid")
        repo.tags[tag] = self.hub.commit_of(repo, revision).sha
        self._json({})

    # -- uploads -------------------------------------------------------------------------

    def api_preupload(
        self, method: str, who: tuple[str, bool] | None, body: bytes, repo_id: str, revision: str
    ) -> None:
        repo = self.hub.writable(repo_id, who)
        commit = self.hub.commit_of(repo, revision)
        answers = []
        for item in self._load(body).get("files", []):
            sample = base64.b64decode(item.get("sample", ""))
            lfs = repo.is_lfs(commit, item["path"], sample, int(item.get("size", 0)))
            existing = commit.files.get(item["path"])
            remote = None if existing is None else (existing.lfs_sha256 if lfs else existing.oid)
            answers.append(
                {"path": item["path"], "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False, "oid": remote}
            )
        self._json({"files": answers, "commitOid": commit.sha})

    def api_lfs_batch(self, method: str, who: tuple[str, bool] | None, body: bytes, repo_id: str) -> None:
        self.hub.writable(repo_id, who)
        request = self._load(body)
        if request.get("operation") != "upload" or "basic" not in request.get("transfers", ["basic"]):
            raise HubError(400, "the test Hub only accepts 'upload' with the 'basic' transfer")
        objects = []
        for obj in request.get("objects", []):
            oid, size = obj.get("oid"), obj.get("size")
            if not isinstance(oid, str) or not SHA256.fullmatch(oid) or not isinstance(size, int) or size < 0:
                objects.append(
                    {"oid": str(oid), "size": int(size or 0), "error": {"code": 422, "message": "invalid oid or size"}}
                )
                continue
            answer: dict[str, Any] = {"oid": oid, "size": size}
            if oid not in self.hub.lfs_objects:
                ticket = secrets.token_urlsafe(16)
                self.hub.upload_tickets[ticket] = (repo_id, oid, size)
                answer["authenticated"] = True
                answer["actions"] = {
                    "upload": {"href": f"{self.hub.url}/lfs-upload/{ticket}"},
                    "verify": {"href": f"{self.hub.url}/{repo_id}.git/info/lfs/objects/verify"},
                }
            objects.append(answer)
        self._send(
            200,
            json.dumps({"transfer": "basic", "objects": objects}).encode(),
            content_type="application/vnd.git-lfs+json",
        )

    def api_lfs_upload(self, method: str, who: tuple[str, bool] | None, body: bytes, ticket: str) -> None:
        _, oid, size = self.hub.upload_tickets.pop(ticket, (None, None, None))
        if oid is None:
            raise HubError(403, "unknown or already used upload URL")
        if len(body) != size or hashlib.sha256(body).hexdigest() != oid:
            raise HubError(400, f"uploaded content does not match oid {oid} and size {size}")
        self.hub.lfs_objects[oid] = body
        self._send(200, headers={"ETag": f'"{hashlib.md5(body).hexdigest()}"'})

    def api_lfs_verify(self, method: str, who: tuple[str, bool] | None, body: bytes, repo_id: str) -> None:
        self.hub.writable(repo_id, who)
        obj = self._load(body)
        stored = self.hub.lfs_objects.get(obj.get("oid"))
        if stored is None or len(stored) != obj.get("size"):
            raise HubError(404, f"object {obj.get('oid')} not found")
        self._json({"success": True})

    def api_commit(self, method: str, who: tuple[str, bool] | None, body: bytes, repo_id: str, revision: str) -> None:
        repo = self.hub.writable(repo_id, who)
        if self.query.get("create_pr"):
            raise HubError(400, "pull requests are not implemented by the test Hub")
        if revision not in repo.branches:
            raise HubError(404, f"Invalid rev id: {revision} (commits go to a branch)", "RevisionNotFound")
        head = repo.commits[repo.branches[revision]]
        lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        if not lines or lines[0].get("key") != "header":
            raise HubError(400, "the commit payload must start with a header line")
        header = lines[0]["value"]
        if header.get("parentCommit") and header["parentCommit"] != head.sha:
            raise HubError(412, "A commit has happened since. Please refresh and try again.")
        files = dict(head.files)
        for line in lines[1:]:
            self._apply(files, line["key"], line["value"])
        commit = make_commit(files, head.sha, header.get("summary") or "update", header.get("description", ""), who[0])
        repo.commits[commit.sha] = commit
        repo.branches[revision] = commit.sha
        self._json(
            {
                "success": True,
                "commitOid": commit.sha,
                "commitUrl": f"{self.hub.url}/{repo_id}/commit/{commit.sha}",
                "hookOutput": "",
            }
        )

    def _apply(self, files: dict[str, Entry], key: str, value: dict) -> None:
        path = value.get("path", "")
        if not path or path.startswith("/") or ".." in path.split("/"):
            raise HubError(400, f"invalid path {path!r}")
        if key == "file":
            if value.get("encoding") != "base64":
                raise HubError(400, "file content must be base64")
            files[path] = Entry.regular(base64.b64decode(value["content"]))
        elif key == "lfsFile":
            stored = self.hub.lfs_objects.get(value.get("oid"))
            if stored is None:
                raise HubError(422, f"LFS object {value.get('oid')} for {path} was never uploaded")
            files[path] = Entry.lfs(value["oid"], len(stored))
        elif key == "deletedFile":
            if files.pop(path, None) is None:
                raise HubError(404, f"A file with this name doesn't exist: {path}", "EntryNotFound")
        elif key == "deletedFolder":
            for name in [p for p in files if p.startswith(path.rstrip("/") + "/")]:
                del files[name]
        else:
            raise HubError(400, f"unknown commit operation {key!r}")

    # -- downloads -------------------------------------------------------------------------

    def api_resolve(
        self, method: str, who: tuple[str, bool] | None, body: bytes, repo_id: str, revision: str, path: str
    ) -> None:
        commit = self.hub.commit_of(self.hub.readable(repo_id, who), revision)
        entry = commit.files.get(path)
        if entry is None:
            raise HubError(404, f"Entry not found: {path}", "EntryNotFound", {"X-Repo-Commit": commit.sha})
        headers = {"X-Repo-Commit": commit.sha, "ETag": f'"{entry.etag}"', "Accept-Ranges": "bytes"}
        if entry.lfs_sha256:
            headers.update({"X-Linked-Etag": f'"{entry.lfs_sha256}"', "X-Linked-Size": str(entry.size)})
        content = self.hub._content(entry)
        status, start, end = 200, 0, len(content)
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        if match and method == "GET":
            start = int(match.group(1))
            end = min(int(match.group(2)) + 1, len(content)) if match.group(2) else len(content)
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{len(content)}"
        if method == "GET":
            self.hub.bytes_served["lfs" if entry.lfs_sha256 else "regular"] += end - start
        self._send(
            status,
            content[start:end] if method == "GET" else b"",
            headers,
            content_type="application/octet-stream",
            length=end - start,
        )


# -- model card front matter (what the Hub reads from README.md) ------------------------


def _front_matter(content: str) -> str | None:
    match = re.match(r"\A---\r?\n(.*?)\r?\n---\r?\n", content, re.DOTALL)
    return match.group(1) if match else None


def card_data(entry: Entry | None) -> dict:
    """The README's YAML front matter as the Hub shows it in model info (``cardData``)."""
    import yaml

    if entry is None or entry.content is None:
        return {}
    text = _front_matter(entry.content.decode("utf-8", "replace"))
    try:
        data = yaml.safe_load(text) if text else None
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def front_matter_errors(content: str) -> list[str]:
    """What the Hub's /api/validate-yaml would reject: unparsable YAML, and a malformed model-index."""
    import yaml

    text = _front_matter(content)
    if text is None:
        return []
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return [f"YAML front matter does not parse: {exc}"]
    if data is None:
        return []
    if not isinstance(data, dict):
        return ["YAML front matter must be a mapping"]
    errors = []
    for key in ("tags", "datasets", "metrics"):
        if key in data and not (isinstance(data[key], list) and all(isinstance(v, str) for v in data[key])):
            errors.append(f'"{key}" must be a list of strings')
    for model in data.get("model-index") or []:
        if not isinstance(model, dict) or "name" not in model:
            errors.append('"model-index" items need a "name"')
            continue
        for result in model.get("results") or []:
            task, dataset, metrics = result.get("task") or {}, result.get("dataset") or {}, result.get("metrics")
            if "type" not in task:
                errors.append('"model-index" results need "task.type"')
            if "type" not in dataset or "name" not in dataset:
                errors.append('"model-index" results need "dataset.type" and "dataset.name"')
            if not isinstance(metrics, list) or not all(
                isinstance(m, dict) and "type" in m and "value" in m for m in metrics
            ):
                errors.append('"model-index" metrics need "type" and "value"')
    return errors
