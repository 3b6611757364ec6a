"""The server's guard, an ASGI middleware in front of every request.

- ``Host`` must be the bound name or a loopback name (with a wildcard bind also an IP address or this
  machine's name): a page of another site that rebinds its DNS name to 127.0.0.1 is refused (DNS rebinding).
- Requests that change or compute something (POST...) from a page of another origin are refused (CSRF).
- With a token (required off loopback), every request but ``/healthz`` carries it: ``Authorization: token T``
  (or ``Bearer T``), ``X-Convlens-Token: T``, the ``convlens_token`` cookie, or ``?token=T`` (which sets the
  cookie, as Jupyter does). Missing: 401; wrong: 403.
- A body larger than the upload limit is refused with 413 before it is read (``Content-Length``) or as soon
  as it passes the limit (chunked).
- Responses get ``nosniff``, ``no-referrer`` and frame-denial headers.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import socket
from collections.abc import Awaitable, Callable
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.exceptions import HTTPException

from convlens.web.settings import WebSettings, is_loopback, is_wildcard

COOKIE = "convlens_token"
OPEN_PATHS = ("/healthz",)
SAFE_METHODS = (b"GET", b"HEAD", b"OPTIONS")
BODY_SLACK = 256 * 1024  # multipart boundaries and form fields on top of the file itself
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-resource-policy", b"same-origin"),
]

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class BodyTooLarge(HTTPException):
    """The request body passed the upload limit (413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request is larger than the {limit // (1024 * 1024)} MB upload limit")


class Guard:
    """The ASGI middleware described in the module docstring."""

    def __init__(self, app: Any, settings: WebSettings) -> None:
        self.app, self.settings = app, settings
        self.body_limit = settings.max_upload + BODY_SLACK
        self.names = allowed_names(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        refusal = self.refusal(scope, headers)
        if refusal is not None:
            await _send_json(send, *refusal)
            return
        cookie = self._token_from_query(scope) if self.settings.needs_token else None

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                extra = list(SECURITY_HEADERS)
                if cookie:
                    extra.append((b"set-cookie", f"{COOKIE}={cookie}; HttpOnly; SameSite=Strict; Path=/".encode()))
                message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)

        await self.app(scope, _limited(receive, self.body_limit), send_with_headers)

    def refusal(self, scope: Scope, headers: dict[str, str]) -> tuple[int, str] | None:
        """``(status, message)`` when the request must be refused, else ``None``."""
        host = headers.get("host", "")
        if not host_allowed(host, self.names, self.settings.host):
            return 403, f"refused Host {host[:100]!r}: use http://{self.settings.host}:{self.settings.port}/"
        if scope["method"].encode() not in SAFE_METHODS and not same_origin(headers, self.names, self.settings.host):
            return 403, "refused a request sent by a page of another site"
        if self.settings.needs_token and scope["path"] not in OPEN_PATHS:
            given = request_token(scope, headers)
            if given is None:
                return 401, "this server needs its access token: open the URL it printed (…/?token=…)"
            if not hmac.compare_digest(given.encode(), str(self.settings.token).encode()):
                return 403, "wrong access token"
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.body_limit:
            return 413, f"the request is larger than the {self.settings.max_upload // (1024 * 1024)} MB upload limit"
        return None

    def _token_from_query(self, scope: Scope) -> str | None:
        """The token given in the query string, to be kept in a cookie."""
        values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
        return values[0] if values and values[0] == self.settings.token else None


def allowed_names(settings: WebSettings) -> set[str]:
    """Host names the server answers to: loopback names, the bound name, and the given extra names."""
    names = {"localhost", "127.0.0.1", "::1", settings.host.strip("[]").lower()}
    names.update(h.lower() for h in settings.allowed_hosts)
    if is_wildcard(settings.host):
        names.update({socket.gethostname().lower(), socket.getfqdn().lower()})
    return names


def split_host(host: str) -> str:
    """The name of a ``Host`` header without its port (``[::1]:8000`` -> ``::1``)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else ""
    name, _, port = host.rpartition(":")
    return name if name and (port.isdigit() or not port) else host


def host_allowed(host: str, names: set[str], bound: str) -> bool:
    name = split_host(host).rstrip(".")
    if not name:
        return False
    if name in names or is_loopback(name):
        return True
    if is_wildcard(bound):  # an IP address cannot be a rebound DNS name
        try:
            ipaddress.ip_address(name)
            return True
        except ValueError:
            return False
    return False


def same_origin(headers: dict[str, str], names: set[str], bound: str) -> bool:
    """No ``Origin`` (not a browser page) or an origin of this server; cross-site fetches are refused."""
    if headers.get("sec-fetch-site") == "cross-site":
        return False
    origin = headers.get("origin")
    if origin is None:
        return True
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and host_allowed(parts.netloc, names, bound)


def request_token(scope: Scope, headers: dict[str, str]) -> str | None:
    auth = headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() in ("token", "bearer") and value.strip():
        return value.strip()
    if headers.get("x-convlens-token"):
        return headers["x-convlens-token"]
    cookies = SimpleCookie()
    try:
        cookies.load(headers.get("cookie", ""))
    except CookieError:  # a malformed cookie header carries no token
        cookies = SimpleCookie()
    if COOKIE in cookies:
        return cookies[COOKIE].value
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
    return values[0] if values else None


def _limited(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def wrapped() -> dict[str, Any]:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit - BODY_SLACK)
        return message

    return wrapped


async def _send_json(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message, "status": status}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + SECURITY_HEADERS})
    await send({"type": "http.response.body", "body": body})
