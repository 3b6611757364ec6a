"""Run the app with uvicorn: bind first (so port 0 means a free port), say where it listens, serve until stopped."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from convlens.web.settings import WebSettings, is_wildcard


def url_of(settings: WebSettings, port: int) -> str:
    """The address to open, with the token when the server needs one."""
    host = settings.host
    if is_wildcard(host):
        host = socket.gethostname()
    shown = f"[{host}]" if ":" in host else host
    query = f"?token={quote(settings.token)}" if settings.token else ""
    return f"http://{shown}:{port}/{query}"


def serve(settings: WebSettings, announce: Callable[[str], None]) -> None:
    """Serve ``settings`` until interrupted; ``announce`` gets the address once the socket is bound."""
    import uvicorn

    from convlens.web.app import create_app

    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=5,
    )
    sock = listening_socket(config)
    settings.port = sock.getsockname()[1]
    announce(url_of(settings, settings.port))
    uvicorn.Server(config).run(sockets=[sock])


def listening_socket(config: Any) -> socket.socket:
    """The socket uvicorn's ``config`` binds, marked as TCP.

    ``Config.bind_socket`` leaves the socket's ``proto`` at 0; accepted connections inherit it, and asyncio sets
    ``TCP_NODELAY`` only on sockets whose ``proto`` is TCP. Without it every request on a kept-alive connection
    after the first waited ~40 ms for the client's delayed ACK (uvicorn issue #3149): most of what the API added
    to a Lite0 predict on a kept-alive connection.
    """
    sock = config.bind_socket()
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto != socket.IPPROTO_TCP:
        sock = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
    return sock
