"""Run the app with uvicorn: bind first (so port 0 means a free port), say where it listens, serve until stopped."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from convlens.web.settings import WebSettings, is_wildcard


def url_of(settings: WebSettings, port: int) -> str:
    """The address to open, with the token when the server needs one."""
    host = settings.host
    if is_wildcard(host):
        import socket

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
    sock = config.bind_socket()
    settings.port = sock.getsockname()[1]
    announce(url_of(settings, settings.port))
    uvicorn.Server(config).run(sockets=[sock])
