"""What a ``convlens serve`` server serves and how it guards itself."""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from convlens.errors import ConfigError

MB = 1024 * 1024


@dataclass
class WebSettings:
    """The server's options (``convlens serve``).

    Attributes:
        runs: the folder whose run folders the Runs page lists (``./runs``).
        data: the data folder of the Data page (a folder, or a built-in pool: ``pets-mini``).
        host: the address to bind; anything but a loopback address needs ``token``.
        port: the TCP port (0: any free port).
        token: the access token; generated when the host is not loopback and none is given.
        max_upload: largest accepted upload, in bytes (larger: 413).
        max_pixels: largest accepted photo, in pixels (the decompression-bomb guard of uploads).
        workers: requests computed at once (predict, explain...), off the event loop.
        job_workers: long jobs run at once (filter patterns, Score-CAM, a run's report).
        models_in_memory: loaded models kept (least recently used dropped first).
        default_model: the model of the Explain page and of the API when none is chosen.
    """

    runs: Path = Path("runs")
    data: str = "pets-mini"
    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    max_upload: int = 20 * MB
    max_pixels: int = 50_000_000
    workers: int = 2
    job_workers: int = 1
    models_in_memory: int = 3
    default_model: str = "efficientnet_lite0"
    allowed_hosts: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.runs = Path(self.runs).expanduser()
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"--port {self.port} must be between 0 and 65535")
        if self.max_upload < 1024:
            raise ConfigError("the upload limit must be at least 1 KB")
        if self.token is not None and len(self.token) < 8:
            raise ConfigError("--token must be at least 8 characters (or leave it out to get a generated one)")
        if self.token is None and not is_loopback(self.host):
            self.token = secrets.token_urlsafe(24)

    @property
    def needs_token(self) -> bool:
        return bool(self.token)


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (``127.0.0.1``, ``::1``, ``localhost``)."""
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def is_wildcard(host: str) -> bool:
    """Whether ``host`` binds every interface (``0.0.0.0``, ``::``)."""
    return host.strip("[]") in ("0.0.0.0", "::", "")
