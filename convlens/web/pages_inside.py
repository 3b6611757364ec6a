"""Look inside: the activations of a photo layer by layer (click a channel to enlarge it) and the filter
patterns of a layer (computed on demand as a job, then cached)."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException

from convlens.service import inside
from convlens.web import pages_jobs, render
from convlens.web.api import MAX_NAME, state_of
from convlens.web.pages_explain import for_model, model_names, photo_of
from convlens.web.state import AppState, LruStore

router = APIRouter(include_in_schema=False)
api_router = APIRouter()  # the JSON route of this page, listed in the OpenAPI document

GRID_SIDE = 1400  # activation grids wider than this are sent smaller (the page shows them at its width)


@router.get("/inside", response_class=HTMLResponse)
async def inside_page(request: Request) -> HTMLResponse:
    state = state_of(request)
    return render.page("inside.html", "Look inside", active="/inside", models=await state.run(state.models.choices))


@router.get("/inside/layers", response_class=HTMLResponse)
async def layer_options(request: Request, model: str = "") -> HTMLResponse:
    """The ``<option>``s of a model's layers (the middle conv layer is the default of filter patterns)."""
    state = state_of(request)
    _, layers = await state.run(model_names, state, model[:MAX_NAME])
    return render.fragment("layer_options.html", layers=layers)


@router.post("/inside/activations", response_class=HTMLResponse)
async def activations(
    request: Request,
    image: UploadFile | None = File(None),
    photo: str = Form("", max_length=64),
    model: str = Form("", max_length=MAX_NAME),
) -> HTMLResponse:
    """The first spatial layers' outputs for the photo, every channel normalised as in the book."""
    state = state_of(request)
    state.models.resolve(model)
    stored = await photo_of(state, image, photo)

    def work() -> tuple[str, list[Any]]:
        loaded = state.models.get(model)
        layers = inside.photo_activations(loaded, for_model(stored.photo, loaded.channels))
        activation_id = secrets.token_urlsafe(8)
        store(state).put(activation_id, layers)
        return activation_id, [(i, layer, render.png_uri(shrink_grid(layer.grid))) for i, layer in enumerate(layers)]

    activation_id, layers = await state.run(work)
    return render.fragment(
        "activations.html", activation_id=activation_id, layers=layers, per_row=inside.PER_ROW, stored=stored
    )


def store(state: AppState) -> LruStore:
    """Activations of the latest few photos (a photo's first layers are several MB)."""
    found = state.cache.get("activations")
    if found is None:
        found = LruStore(3)
        state.cache.put("activations", found)
    return found


def shrink_grid(grid: Any) -> Any:
    if grid.shape[1] <= GRID_SIDE:
        return grid
    step = -(-grid.shape[1] // GRID_SIDE)
    return grid[::step, ::step]


@router.get("/inside/{activation_id}/{layer_index}/{channel}.png")
async def channel(request: Request, activation_id: str, layer_index: int, channel: int) -> Response:
    """One channel of one layer, coloured and enlarged."""
    layers = store(state_of(request)).get(activation_id)
    if layers is None or not 0 <= layer_index < len(layers):
        raise HTTPException(404, "those activations are no longer on the server; show them again")
    layer = layers[layer_index]
    if not 0 <= channel < layer.shape[0]:
        raise HTTPException(404, f"layer {layer.layer} has channels 0..{layer.shape[0] - 1}")
    return Response(render.png_bytes(inside.channel_image(layer, channel)), media_type="image/png")


@router.post("/inside/filters", response_class=HTMLResponse)
async def filters(
    request: Request,
    model: str = Form("", max_length=MAX_NAME),
    layer: str = Form("", max_length=MAX_NAME),
    count: int = Form(64, ge=1, le=256),
    steps: int = Form(40, ge=1, le=200),
) -> HTMLResponse:
    """Filter patterns of a layer, from the cache or computed as a job (cancellable between chunks)."""
    state = state_of(request)
    key = f"filters:{state.models.resolve(model)}:{layer}:{count}:{steps}"
    cached = state.cache.get(key)
    if cached is not None:
        return render.fragment("filters.html", layer=cached[0], uri=cached[1], cached=True)
    return await pages_jobs.start(state, "filters", f"Filter patterns of {layer or 'the middle conv layer'}",
                                  filters_work(state, model, layer, count, steps, key))


def filters_work(state: AppState, model: str, layer: str, count: int, steps: int, key: str) -> Any:
    """The job of filter patterns; its result holds the grid as PNG bytes and the page fragment."""

    def work(reporter: Any) -> dict[str, Any]:
        loaded = state.models.get(model)
        name, grid = inside.filter_patterns(loaded, layer or None, count, steps=steps, reporter=reporter)
        png = render.png_bytes(grid)
        uri = render.data_uri(png)
        state.cache.put(key, (name, uri))
        return {"png": png, "layer": name, "html": render.render("filters.html", layer=name, uri=uri, cached=False)}

    return work


@api_router.post("/api/jobs/filters", status_code=202, tags=["jobs"])
async def filters_job(
    request: Request,
    model: str = Form("", max_length=MAX_NAME),
    layer: str = Form("", max_length=MAX_NAME),
    count: int = Form(64, ge=1, le=256),
    steps: int = Form(40, ge=1, le=200),
) -> dict[str, Any]:
    """Start computing filter patterns; poll ``/api/jobs/{id}``, then fetch ``/api/jobs/{id}/result.png``."""
    state = state_of(request)
    key = f"filters:{state.models.resolve(model)}:{layer}:{count}:{steps}"
    job = state.jobs.submit("filters", f"Filter patterns of {layer or 'the middle conv layer'}",
                            filters_work(state, model, layer, count, steps, key))
    return {**job.to_json(), "result": f"/api/jobs/{job.id}/result.png"}
