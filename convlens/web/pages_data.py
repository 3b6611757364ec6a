"""The Data page: the served data folder's splits and counts, thumbnails per class, skipped files, every file
checked on request, and the book's augmentation of a photo (re-roll for new draws)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse

from convlens import service
from convlens.errors import DataError
from convlens.report.html import images
from convlens.service.samples import DataLayout, data_layout
from convlens.web import pages_jobs, render
from convlens.web.api import MAX_NAME, state_of
from convlens.web.state import AppState

router = APIRouter(include_in_schema=False)

THUMBS_PER_CLASS = 8
CLASSES_SHOWN = 24
THUMB_SIDE = 96


@router.get("/data", response_class=HTMLResponse)
async def data_page(request: Request) -> HTMLResponse:
    state = state_of(request)
    layout, thumbs = await state.run(thumbnails, state)
    models = await state.run(state.models.choices)
    return render.page(
        "data.html", "Data", active="/data", layout=layout, thumbs=thumbs, name=state.settings.data,
        shown=CLASSES_SHOWN, models=models, classes=list(dict.fromkeys(c for by_class in layout.files.values() for c in by_class)),
    )


def layout_of(state: AppState) -> DataLayout:
    """The data folder's layout, listed once per server (``Check every file`` lists it again)."""
    found = state.cache.get("data-layout")
    if found is None:
        found = data_layout(state.settings.data)
        state.cache.put("data-layout", found)
    return found


def thumbnails(state: AppState) -> tuple[DataLayout, dict[str, dict[str, list[Any]]]]:
    """``(layout, {split: {class: [(index, Picture)]}})``: the first photos of each class."""
    layout = layout_of(state)
    thumbs: dict[str, dict[str, list[Any]]] = {}
    for split, by_class in layout.files.items():
        thumbs[split] = {}
        for cls, paths in list(by_class.items())[:CLASSES_SHOWN]:
            pictures = [(i, images.picture(p, f"{cls} photo {i}", max_side=THUMB_SIDE)) for i, p in enumerate(paths[:THUMBS_PER_CLASS])]
            thumbs[split][cls] = [(i, pic) for i, pic in pictures if pic is not None]
    return layout, thumbs


@router.get("/data/augment", response_class=HTMLResponse)
async def augment(
    request: Request,
    split: str = Query(..., max_length=MAX_NAME),
    cls: str = Query(..., max_length=MAX_NAME),
    index: int = Query(..., ge=0, le=10_000_000),
    seed: int = Query(0, ge=0, le=2**31 - 1),
) -> HTMLResponse:
    """Eight augmented copies of one photo with the book's settings (the original framed in red)."""
    state = state_of(request)

    def work() -> tuple[str, str, str]:
        photo = layout_of(state).photo(split, cls, index)
        folder = Path(tempfile.mkdtemp(dir=state.work_dir))
        try:
            result = service.augment_preview(service.PreviewOptions(photo, folder / "sheet.jpg", seed=seed))
            return render.data_uri(result.path.read_bytes(), "image/jpeg"), result.description, photo.name
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    uri, description, name = await state.run(work)
    return render.fragment(
        "augment.html", uri=uri, description=description, name=name, split=split, cls=cls, index=index, seed=seed
    )


@router.post("/data/check", response_class=HTMLResponse)
async def check(request: Request) -> HTMLResponse:
    """Decode every file of the folder (a job): sizes and colour modes per class, unreadable and odd files."""
    state = state_of(request)

    def work(reporter: Any) -> dict[str, Any]:
        info = service.info(state.settings.data, reporter=reporter)
        return {"html": render.render("data_check.html", info=info)}

    return await pages_jobs.start(state, "data-check", f"Checking every file of {state.settings.data}", work)


@router.post("/data/predict", response_class=HTMLResponse)
async def predict_class(
    request: Request,
    split: str = Form(..., max_length=MAX_NAME),
    cls: str = Form(..., max_length=MAX_NAME),
    model: str = Form("", max_length=MAX_NAME),
) -> HTMLResponse:
    """Run a model over every photo of one class folder (a job: progress per batch, cancellable)."""
    state = state_of(request)
    state.models.resolve(model)
    paths = layout_of(state).files.get(split, {}).get(cls)
    if not paths:
        raise DataError(f"no class {cls!r} in split {split!r} of {state.settings.data}")

    def work(reporter: Any) -> dict[str, Any]:
        loaded = state.models.get(model)
        options = service.PredictOptions(images=list(paths), topk=1)
        result = service.predict(options, reporter=reporter, loaded=loaded)
        known = cls in (loaded.classes or [])
        right = sum(r["top"][0]["label"] == cls for r in result.records) if known else None
        html = render.render("data_predict.html", result=result, cls=cls, split=split, right=right, model=model)
        return {"html": html}

    return await pages_jobs.start(state, "predict", f"Predicting {split}/{cls} ({len(paths)} photos)", work)
