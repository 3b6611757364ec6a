"""The Explain page (the start page): a photo in, top-k classes and class activation maps side by side out.

The server sends each map as a grey PNG with the photo; the page colours and blends them (``app.js``), so the
opacity and the colormap change without a new computation.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import numpy as np
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException

from convlens.errors import ConfigError, DataError
from convlens.service import interactive
from convlens.service.inside import spatial_layers
from convlens.web import pages_jobs, render
from convlens.web.api import MAX_NAME, state_of
from convlens.web.state import AppState, StoredPhoto

router = APIRouter(include_in_schema=False)

DISPLAY_SIDE = 1024  # the photo the page blends maps over
MAX_METHODS = 6
RESULTS_PER_PHOTO = 24


@router.get("/", response_class=HTMLResponse)
async def explain_page(request: Request) -> HTMLResponse:
    state = state_of(request)
    choices = await state.run(state.models.choices)
    return render.page(
        "explain.html",
        "Explain",
        active="/",
        models=choices,
        methods=interactive.methods(),
        cmaps=interactive.colormaps(),
        luts=json.dumps({c: interactive.colormap_table(c).ravel().tolist() for c in interactive.colormaps()}),
    )


@router.get("/explain/options", response_class=HTMLResponse)
async def model_options(request: Request, model: str = "") -> HTMLResponse:
    """The class and layer names of a model, as datalists for the form."""
    state = state_of(request)
    classes, layers = await state.run(model_names, state, model[:MAX_NAME])
    return render.fragment("explain_options.html", classes=classes, layers=layers)


def model_names(state: AppState, choice: str) -> tuple[list[tuple[str, str]], list[str]]:
    """``([(value, label) per class], [layer names])`` of a model; layers are cached per model."""
    key = state.models.resolve(choice)
    loaded = state.models.get(choice)
    values = loaded.wnids or loaded.class_names()
    classes = list(zip(values, loaded.class_names()))
    layers = state.cache.get(f"layers:{key}")
    if layers is None:
        layers = spatial_layers(loaded)
        state.cache.put(f"layers:{key}", layers)
    return classes, layers


@router.post("/explain", response_class=HTMLResponse)
async def explain(
    request: Request,
    image: UploadFile | None = File(None),
    photo: str = Form("", max_length=64),
    model: str = Form("", max_length=MAX_NAME),
    methods: list[str] = Form(["gradcam"]),
    class_: str = Form("", alias="class", max_length=MAX_NAME),
    layer: str = Form("", max_length=MAX_NAME),
    topk: int = Form(5, ge=1, le=50),
) -> HTMLResponse:
    """Explain the chosen photo (a new upload, or the photo already on the server) with every chosen method."""
    state = state_of(request)
    state.models.resolve(model)
    chosen = list(dict.fromkeys(m for m in methods if m))
    if not chosen or len(chosen) > MAX_METHODS:
        raise ConfigError(f"choose 1 to {MAX_METHODS} methods")
    known = interactive.methods()
    unknown = [m for m in chosen if m not in known]
    if unknown:
        raise ConfigError(f"unknown method {unknown[0][:40]!r}; choose from {', '.join(known)}")
    stored = await photo_of(state, image, photo)
    work = explain_work(state, stored, model, chosen, class_.strip(), layer.strip(), topk)
    return await pages_jobs.start(state, "explain", f"Explaining {stored.name}", work)


async def photo_of(state: AppState, image: UploadFile | None, photo_id: str) -> StoredPhoto:
    """The photo of a request: a new upload (decoded, kept for later requests) or one kept earlier."""
    if image is not None and image.filename:
        with state.upload(image) as save:
            decoded = await state.run(lambda: interactive.open_photo(save(), 3, state.settings.max_pixels))
        return state.store_photo(image.filename, decoded)
    if photo_id:
        return state.photo(photo_id)
    raise DataError("choose a photo first (or drop one on the page)")


def explain_work(
    state: AppState, stored: StoredPhoto, choice: str, methods: list[str], target: str, layer: str, topk: int
) -> Any:
    """The job: top-k, then each method's map; the result fragment is rendered in the worker."""

    def work(reporter: Any) -> dict[str, Any]:
        key = state.models.resolve(choice)
        loaded = state.models.get(choice)
        pixels = for_model(stored.photo, loaded.channels)
        top = interactive.classify(loaded, pixels, topk)
        found = interactive.explain_photo(loaded, pixels, methods, target or None, layer or None, reporter=reporter)
        results = []
        for item in found:
            result_id = secrets.token_urlsafe(8)
            stored.results[result_id] = (choice, key, item)
            results.append((result_id, item, render.png_uri(render.grey_map(item.heatmap))))
        for old in list(stored.results)[:-RESULTS_PER_PHOTO]:
            stored.results.pop(old, None)
        html = render.render(
            "explain_result.html",
            stored=stored,
            photo_uri=render.jpeg_uri(stored.photo, DISPLAY_SIDE),
            top=top,
            results=results,
            model=key.label,
            choice=choice,
            wnids=bool(loaded.wnids),
        )
        return {"html": html}

    return work


def for_model(photo: np.ndarray, channels: int) -> np.ndarray:
    """The RGB photo as the model reads it (grey for one-channel models)."""
    if channels != 1:
        return photo
    from PIL import Image

    return np.asarray(Image.fromarray(photo).convert("L"))


@router.get("/explain/{photo_id}/{result_id}.npy")
async def map_file(request: Request, photo_id: str, result_id: str) -> Response:
    """The map of one result as ``.npy`` (float32 in [0, 1] at the model's input size)."""
    item = result_of(state_of(request), photo_id, result_id)[2]
    name = f"{item.method}_{item.class_name}".replace("/", "_").replace('"', "")[:80]
    return Response(
        render.npy_bytes(item.heatmap),
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{name}.npy"'},
    )


@router.post("/explain/{photo_id}/faithfulness", response_class=HTMLResponse)
async def faithfulness(request: Request, photo_id: str, results: str = Form(..., max_length=400)) -> HTMLResponse:
    """Deletion / insertion AUC, average drop and increase in confidence of the maps shown."""
    state = state_of(request)
    chosen = [result_of(state, photo_id, r) for r in results.split(",")[:MAX_METHODS] if r]
    stored = state.photo(photo_id)

    def work() -> list[tuple[Any, dict[str, float]]]:
        rows = []
        for choice, key, item in chosen:
            if state.models.resolve(choice) != key:
                raise ConfigError(f"{key.label} has new weights since this map was made; explain the photo again")
            loaded = state.models.get(choice)
            rows.append((item, interactive.faithfulness(loaded, for_model(stored.photo, loaded.channels), item)))
        return rows

    return render.fragment("faithfulness.html", rows=await state.run(work))


def result_of(state: AppState, photo_id: str, result_id: str) -> tuple[str, Any, Any]:
    """A map made earlier (404 once the server has forgotten it)."""
    stored = state.photos.get(photo_id)
    found = stored.results.get(result_id) if stored is not None else None
    if found is None:
        raise HTTPException(404, "that map is no longer on the server; explain the photo again")
    return found
