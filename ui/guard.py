"""The app's door: which host names it answers, which origins may call it, how fast one may guess a password.

Gradio serves any ``Host`` header and lets any localhost origin of any port
make credentialed requests to an app on localhost.  A web page a student
opens could then reach a teacher's app through DNS rebinding (a name of the
attacker's that resolves to 127.0.0.1) or from another local port.  This ASGI
middleware, handed to Gradio's FastAPI app through ``launch(app_kwargs=...)``,
refuses before any route runs:

- a ``Host`` that is not an IP address, a loopback name, the machine's own name,
  the ``--host`` value, or a name the operator allowed (``--allowed-host``,
  ``[app] allowed_hosts``).  An IP address cannot be rebound, a name can;
- a request with an ``Origin`` other than the app's own (the same host and port);
- a request body over :data:`~archzoo.registry.limits.MAX_REQUEST_BYTES` (HTTP 413);
- a client's sign-in after :data:`~archzoo.registry.limits.LOGIN_FAILURES` failures
  within a minute (HTTP 429), and every failed sign-in is answered only after a pause.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections import deque
from urllib.parse import urlsplit

from archzoo.registry.limits import LOGIN_FAILURE_DELAY_S, LOGIN_FAILURES, LOGIN_WINDOW_S, MAX_REQUEST_BYTES

LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
#: At most this many clients' failures are remembered (the oldest are forgotten first).
_MAX_CLIENTS = 10_000


def allowed_host_names(bind: str, extra: tuple[str, ...] = (), *, share: bool = False) -> frozenset[str]:
    """The host names the app answers besides IP addresses: loopback, this machine, ``bind``, ``extra``."""
    names = {*LOOPBACK_NAMES, bind, *extra}
    for own in (socket.gethostname(), socket.getfqdn()):
        names.add(own)
    if share:
        names.add("*.gradio.live")  # the share link's tunnel forwards its own host name
    return frozenset(name.strip().lower().rstrip(".") for name in names if name and name.strip())


def host_name(host_header: str) -> str:
    """``name:port``, ``[v6]:port`` or ``name`` -> the lower-case name without port."""
    text = host_header.strip().lower()
    if text.startswith("["):
        return text[1 : text.find("]")] if "]" in text else ""
    if text.count(":") > 1:  # a bare IPv6 address
        return text
    return text.rsplit(":", 1)[0].rstrip(".") if ":" in text else text.rstrip(".")


def host_allowed(name: str, allowed: frozenset[str]) -> bool:
    if not name:
        return False
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        pass
    if name in allowed:
        return True
    return any(rule.startswith("*.") and name.endswith(rule[1:]) for rule in allowed)


class LoginThrottle:
    """Failed sign-ins per client over a sliding window."""

    def __init__(self, failures: int = LOGIN_FAILURES, window_s: float = LOGIN_WINDOW_S) -> None:
        self.failures, self.window_s = failures, window_s
        self._seen: dict[str, deque[float]] = {}

    def blocked_for(self, client: str) -> float:
        """Seconds until ``client`` may try again (0: now)."""
        recent = self._recent(client)
        if len(recent) < self.failures:
            return 0.0
        return max(0.0, recent[0] + self.window_s - time.monotonic())

    def failed(self, client: str) -> None:
        if client not in self._seen and len(self._seen) >= _MAX_CLIENTS:
            self._seen.pop(next(iter(self._seen)))
        self._recent(client).append(time.monotonic())

    def _recent(self, client: str) -> deque[float]:
        recent = self._seen.setdefault(client, deque(maxlen=self.failures))
        while recent and recent[0] + self.window_s < time.monotonic():
            recent.popleft()
        return recent


class RequestGuard:
    """ASGI middleware: Host and Origin checks, and sign-in throttling (see the module's docstring)."""

    def __init__(self, app, *, allowed_hosts: frozenset[str], throttle: LoginThrottle | None = None) -> None:
        self.app = app
        self.allowed_hosts = allowed_hosts
        self.throttle = throttle or LoginThrottle()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        host = headers.get("host", "")
        if not host_allowed(host_name(host), self.allowed_hosts):
            await _refuse(scope, send, 421, "This archzoo app does not answer for that host name.")
            return
        origin = headers.get("origin")
        if origin is not None and urlsplit(origin).netloc.lower() != host.strip().lower():
            await _refuse(scope, send, 403, "Cross-origin requests to this archzoo app are refused.")
            return
        if scope["type"] == "http":
            declared = headers.get("content-length", "0")
            if not declared.isdigit() or int(declared) > MAX_REQUEST_BYTES:
                await _refuse(
                    scope, send, 413, f"A request to this archzoo app may carry at most {MAX_REQUEST_BYTES:,} bytes."
                )
                return
            receive = _capped(receive, MAX_REQUEST_BYTES)
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"].rstrip("/").endswith("/login"):
            await self._login(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _login(self, scope, receive, send) -> None:
        client = (scope.get("client") or ("?", 0))[0]
        wait = self.throttle.blocked_for(client)
        if wait > 0:
            await _refuse(
                scope, send, 429, f"Too many failed sign-ins: try again in {int(wait) + 1} s.", retry_after=wait
            )
            return
        status: list[int] = []

        async def watch(message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
                if message["status"] in (400, 401, 403):
                    self.throttle.failed(client)
                    await asyncio.sleep(LOGIN_FAILURE_DELAY_S)
            await send(message)

        await self.app(scope, receive, watch)


def _capped(receive, limit: int):
    """``receive`` that ends the request (as if the client went away) once its body passes
    ``limit`` bytes: a body sent without a length is held to the same limit."""
    seen = 0

    async def capped():
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                return {"type": "http.disconnect"}
        return message

    return capped


async def _refuse(scope, send, status: int, text: str, *, retry_after: float | None = None) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    body = text.encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    if retry_after is not None:
        headers.append((b"retry-after", str(int(retry_after) + 1).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
