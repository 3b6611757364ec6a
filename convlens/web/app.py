"""The FastAPI application of ``convlens serve``: routes, the guard, error handlers, static files."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.responses import Response

import convlens
from convlens.report.html.render import stylesheet
from convlens.web import api, errors, pages_data, pages_explain, pages_inside, pages_jobs, pages_runs, render
from convlens.web.security import Guard
from convlens.web.settings import WebSettings
from convlens.web.state import AppState

STATIC = {  # name -> media type; the only files /static serves
    "htmx.min.js": "text/javascript",
    "htmx.LICENSE.txt": "text/plain",
    "app.js": "text/javascript",
    "app.css": "text/css",
}


def create_app(settings: WebSettings | None = None) -> FastAPI:
    """The app for ``settings`` (default: Lite0, ``pets-mini``, ``./runs``, loopback)."""
    settings = settings or WebSettings()
    state = AppState(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            state.close()

    app = FastAPI(
        title="convlens",
        version=convlens.__version__,
        description="See what a convnet sees: predictions, class activation maps, runs. Local and offline.",
        docs_url=None,  # Swagger UI loads its code from a CDN; /docs is an offline page instead
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.convlens = state
    errors.install(app)
    app.include_router(api.router)
    app.include_router(pages_inside.api_router)
    for module in (pages_explain, pages_jobs, pages_runs, pages_inside, pages_data):
        app.include_router(module.router)
    app.add_api_route("/static/{name}", static, methods=["GET"], include_in_schema=False)
    app.add_api_route("/docs", docs, methods=["GET"], include_in_schema=False)
    app.add_middleware(Guard, settings=settings)
    return app


async def static(name: str) -> Response:
    """The app's script, styles and the vendored htmx, from the package (no CDN)."""
    if name == "report.css":
        return await report_css()
    if name not in STATIC:
        from starlette.exceptions import HTTPException

        raise HTTPException(404, f"no static file {name[:60]!r}")
    body = resources.files("convlens.web").joinpath("static", name).read_bytes()
    return Response(body, media_type=STATIC[name], headers={"Cache-Control": "max-age=3600"})


async def report_css() -> Response:
    """The report's stylesheet, which the app's pages share."""
    return Response(stylesheet(), media_type="text/css", headers={"Cache-Control": "max-age=3600"})


async def docs(request: Request) -> Response:
    """The API, readable offline: every path with its parameters (the machine-readable spec is /openapi.json)."""
    schema = request.app.openapi()
    return render.page("docs.html", "API", active="/docs", schema=schema)
