"""The JSON API: the same service calls as the CLI (``/openapi.json``; a readable list at ``/docs``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from convlens.errors import DataError
from convlens.service import interactive
from convlens.service import runs as run_listing
from convlens.web import render
from convlens.web.state import AppState

router = APIRouter()

MAX_NAME = 200  # longest model, class, layer or method name accepted


class TopClass(BaseModel):
    label: str
    wnid: str = Field(description="ImageNet WordNet id for ImageNet heads, else the class name")
    prob: float


class PredictResponse(BaseModel):
    model: str
    top: list[TopClass]


class ExplainResponse(BaseModel):
    method: str
    model: str
    class_: str = Field(alias="class", description="the class explained")
    class_index: int
    layer: str
    score: float
    overlay: str = Field(description="data:image/png;base64,... at the photo's own size")
    peak: tuple[int, int] = Field(description="[x, y] of the map's maximum, in the photo's pixels")


class RunRow(BaseModel):
    name: str
    model: str
    mode: str
    state: str = Field(description="training (a convlens train holds the run's lock), done or stopped")
    epochs_done: int
    epochs: int | None
    best_val_acc: float | None
    test_acc: float | None
    evaluated: list[str]


def state_of(request: Request) -> AppState:
    return request.app.state.convlens


@router.get("/healthz", tags=["server"])
async def healthz() -> dict[str, str]:
    """200 while the server runs (the one path that needs no token)."""
    return {"status": "ok"}


@router.get("/api/models", tags=["models"])
async def models(request: Request) -> list[dict[str, str]]:
    """The models to choose from: the default pretrained model, then the runs."""
    state = state_of(request)
    choices = await state.run(state.models.choices)
    return [{"value": value, "label": label} for value, label in choices]


@router.post("/api/predict", response_model=PredictResponse, tags=["photos"])
async def predict(
    request: Request,
    response: Response,
    image: UploadFile = File(..., description="a photo (JPEG, PNG, WebP...)"),
    model: str = Form("", max_length=MAX_NAME, description="efficientnet_lite0 (default) or a run name"),
    topk: int = Form(5, ge=1, le=1000),
) -> dict[str, Any]:
    """Top-k classes of one photo."""
    state = state_of(request)
    key = state.models.resolve(model)
    with state.upload(image) as save:

        def work() -> list[dict[str, Any]]:  # one worker does it all: copy, decode, compute
            loaded = state.models.get(key)
            photo = interactive.open_photo(save(), loaded.channels, state.settings.max_pixels)
            return interactive.classify(loaded, photo, topk)

        top = await state.run_timed(work, response)
    return {"model": key.name, "top": [{"label": t["label"], "wnid": t["wnid"], "prob": t["prob"]} for t in top]}


@router.post("/api/explain", response_model=ExplainResponse, response_model_by_alias=True, tags=["photos"])
async def explain(
    request: Request,
    response: Response,
    image: UploadFile = File(...),
    method: str = Form("gradcam", max_length=MAX_NAME),
    model: str = Form("", max_length=MAX_NAME),
    class_: str = Form("", alias="class", max_length=MAX_NAME, description="index, name or wnid; default the top class"),
    layer: str = Form("", max_length=MAX_NAME, description="default: the last conv layer"),
    cmap: str = Form("jet", max_length=20),
    opacity: float = Form(0.4, ge=0.0, le=1.0),
) -> dict[str, Any]:
    """A class activation map of one photo, laid over it at its own size."""
    state = state_of(request)
    key = state.models.resolve(model)
    if cmap not in interactive.colormaps():
        raise DataError(f"cmap {cmap!r} is not one of: {', '.join(interactive.colormaps())}")
    with state.upload(image) as save:

        def work() -> tuple[Any, str]:
            loaded = state.models.get(key)
            photo = interactive.open_photo(save(), loaded.channels, state.settings.max_pixels)
            [found] = interactive.explain_photo(loaded, photo, [method], class_ or None, layer or None)
            overlay = interactive.overlay_photo(photo, found.heatmap, cmap, opacity)
            return found, render.data_uri(render.png_stored(overlay))

        found, overlay = await state.run_timed(work, response)
    return {
        "method": found.method,
        "model": key.name,
        "class": found.class_name,
        "class_index": found.cls,
        "layer": found.layer,
        "score": found.score,
        "overlay": overlay,
        "peak": list(found.peak),
    }


@router.get("/api/runs", response_model=list[RunRow], tags=["runs"])
async def runs(request: Request) -> list[dict[str, Any]]:
    """The runs under ``--runs``, newest first."""
    state = state_of(request)
    found = await state.run(run_listing.list_runs, state.settings.runs)
    return [{k: v for k, v in vars(r).items() if k not in ("path", "modified")} for r in found]


@router.get("/api/runs/{name}", tags=["runs"])
async def run(request: Request, name: str) -> dict[str, Any]:
    """A run's config, history and metrics per evaluated split."""
    state = state_of(request)
    return await state.run(run_listing.run_details, find_run(state, name))


@router.get("/api/jobs/{job_id}", tags=["jobs"])
async def job(request: Request, job_id: str) -> dict[str, Any]:
    """A job's state, progress and messages."""
    return job_or_404(state_of(request), job_id).to_json()


@router.post("/api/jobs/{job_id}/cancel", tags=["jobs"])
async def cancel(request: Request, job_id: str) -> dict[str, Any]:
    """Stop a job (queued: never starts; running: stops at its next progress step)."""
    state = state_of(request)
    job_or_404(state, job_id)
    return state.jobs.cancel(job_id).to_json()


@router.get("/api/jobs/{job_id}/result.png", tags=["jobs"])
async def job_image(request: Request, job_id: str) -> Response:
    """The picture a finished job made (filter patterns)."""
    found = job_or_404(state_of(request), job_id)
    if found.state != "done" or not isinstance(found.result, dict) or "png" not in found.result:
        raise HTTPException(404, f"job {job_id} has no picture (state: {found.state})")
    return Response(found.result["png"], media_type="image/png")


def find_run(state: AppState, name: str) -> Any:
    """The folder of run ``name`` under ``--runs``; anything else (traversal, links, not a run) is a 404."""
    try:
        return run_listing.find_run(state.settings.runs, name)
    except DataError as exc:
        raise HTTPException(404, str(exc)) from None


def job_or_404(state: AppState, job_id: str) -> Any:
    found = state.jobs.get(job_id)
    if found is None:
        raise HTTPException(404, f"no job {job_id[:40]!r} (the server keeps the latest jobs only)")
    return found
