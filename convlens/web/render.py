"""Pages and fragments from the report's Jinja2 environment (its templates, filters and CSS) plus the app's own
templates, and the small image encodings the pages use."""

from __future__ import annotations

import base64
import functools
import io
import struct
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, PackageLoader
from PIL import Image

from convlens.report.html import images
from convlens.report.html.render import environment as report_environment

# The app loads its own script and styles; pictures are data: URIs or its own URLs; nothing else is fetched.
# The page repeats it in a <meta>, where frame-ancestors is not allowed (the header carries that one).
META_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'"
)
CSP = META_CSP + "; frame-ancestors 'none'"
NAV = (("/", "Explain"), ("/runs", "Runs"), ("/inside", "Look inside"), ("/data", "Data"), ("/docs", "API"))


@dataclass
class PageView:
    """What ``base.html`` reads of a view."""

    title: str
    generated: str = ""


@functools.lru_cache(maxsize=1)
def environment() -> Environment:
    """The report's environment with the app's templates in front (``convlens/web/templates``)."""
    base = report_environment()
    return base.overlay(loader=ChoiceLoader([PackageLoader("convlens.web", "templates"), base.loader]))


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(csp=META_CSP, nav=NAV, css="", **context)


def page(template: str, title: str, status: int = 200, active: str = "", **context: Any) -> HTMLResponse:
    """A full page of the app (extends ``app_base.html``)."""
    html = render(template, view=PageView(f"{title} · convlens"), active=active, **context)
    return HTMLResponse(html, status, headers={"Content-Security-Policy": CSP, "Cache-Control": "no-store"})


def fragment(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A piece of a page that htmx swaps in."""
    return HTMLResponse(render(template, **context), status, headers={"Cache-Control": "no-store"})


def error_page(status: int, message: str) -> HTMLResponse:
    return page("error.html", f"Error {status}", status=status, status_code=status, message=message)


def png_bytes(array: np.ndarray) -> bytes:
    """Lossless PNG of a uint8 ``(H, W)`` or ``(H, W, 3)`` array."""
    buffer = io.BytesIO()
    # level 1: the overlay of a photo is encoded per request; higher levels cost more time than they save bytes
    Image.fromarray(np.ascontiguousarray(array)).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def png_stored(array: np.ndarray) -> bytes:
    """A uint8 ``(H, W, 3)`` or ``(H, W)`` array as a PNG without compression (filter none, deflate level 0).

    For the API's overlays: 1.3x the bytes of a compressed PNG, but encoded 10-15x faster than PIL's encoder
    at level 1, whose cost was as large as the Grad-CAM itself (the bytes only cross the loopback).
    """
    array = np.ascontiguousarray(array, dtype=np.uint8)
    height, width = array.shape[:2]
    colour = 2 if array.ndim == 3 else 0
    rows = np.zeros((height, array[0].size + 1), np.uint8)  # a filter byte (0: none) before every row
    rows[:, 1:] = array.reshape(height, -1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows.tobytes(), 0)) + chunk(b"IEND", b"")


def data_uri(body: bytes, media_type: str = "image/png") -> str:
    return f"data:{media_type};base64," + base64.b64encode(body).decode("ascii")


def png_uri(array: np.ndarray) -> str:
    return data_uri(png_bytes(array))


def grey_map(heatmap: np.ndarray) -> np.ndarray:
    """A map in [0, 1] as a uint8 grey image (the browser colours and blends it)."""
    return np.round(np.clip(heatmap, 0.0, 1.0) * 255).astype(np.uint8)


def jpeg_uri(array: np.ndarray, max_side: int, quality: int = 88) -> str:
    """A photo as a JPEG ``data:`` URI no larger than ``max_side`` (the report's thumbnail encoder)."""
    return images.encode(images.thumbnail(array, max_side), "jpeg", quality)


def npy_bytes(array: np.ndarray) -> bytes:
    """A float32 array as the bytes of a ``.npy`` file (what ``convlens explain`` writes)."""
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array, dtype=np.float32))
    return buffer.getvalue()
