"""Bad input gets a 4xx with a message that says what to change, as JSON (API), an HTML fragment (htmx) or a
page (a browser); only a bug is a 500."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from markupsafe import escape
from starlette.exceptions import HTTPException

from convlens import errors
from convlens.service.interactive import PhotoError
from convlens.web.jobs import TooManyJobs

log = logging.getLogger(__name__)

_PHOTO_STATUS = {"not_an_image": 415, "too_many_pixels": 413, "empty": 400, "corrupt": 422}
# Most specific first: the first class an error is an instance of decides.
_STATUS: tuple[tuple[type[errors.ConvlensError], int], ...] = (
    (TooManyJobs, 429),
    (errors.Cancelled, 409),
    (errors.RunError, 409),
    (errors.UnknownName, 422),
    (errors.WeightsNotFound, 422),
    (errors.CheckpointError, 422),
    (errors.ConfigError, 422),
    (errors.ExplainError, 422),
    (errors.DataError, 422),
)


def status_of(exc: errors.ConvlensError) -> int:
    """The HTTP status of a library error (all 4xx: the request asked for something that cannot be done)."""
    if isinstance(exc, PhotoError):
        return _PHOTO_STATUS.get(exc.kind, 422)
    return next((status for kind, status in _STATUS if isinstance(exc, kind)), 400)


def error_response(request: Request, status: int, message: str, detail: Any = None) -> Response:
    """The error in the form the client reads: an htmx fragment, a page, or JSON."""
    if request.headers.get("hx-request"):
        # htmx swaps 4xx answers too (see the htmx-config meta of the pages), so the message shows in place
        return HTMLResponse(f'<p class="error" role="alert">{escape(message)}</p>', status)
    if not request.url.path.startswith("/api") and "text/html" in request.headers.get("accept", ""):
        from convlens.web.render import error_page

        return error_page(status, message)
    body: dict[str, Any] = {"error": message, "status": status}
    if detail is not None:
        body["detail"] = detail
    return JSONResponse(body, status)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(errors.ConvlensError)
    async def _library(request: Request, exc: errors.ConvlensError) -> Response:
        return error_response(request, status_of(exc), str(exc))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "bad request"
        if exc.status_code == 404 and message == "Not Found":
            message = f"nothing at {request.url.path[:200]}"
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path[:200]}"
        response = error_response(request, exc.status_code, message)
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        problems = [_describe(e) for e in exc.errors()]
        return error_response(request, 422, "; ".join(problems) or "invalid request", problems)


def _describe(error: dict[str, Any]) -> str:
    where = ".".join(str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path"))
    return f"{where}: {error.get('msg', 'invalid')}" if where else str(error.get("msg", "invalid"))
