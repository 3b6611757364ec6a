"""The Runs pages: the runs under ``--runs``, a run's report (live while it trains), a comparison of runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from convlens.errors import ConvlensError
from convlens.report.html import build_comparison
from convlens.service import runs as run_listing
from convlens.web import pages_jobs, render
from convlens.web.api import find_run, state_of
from convlens.web.state import AppState

router = APIRouter(include_in_schema=False)

MAX_COMPARED = 8
STOP_POLLING = 286  # htmx stops polling an element whose answer has this status


@router.get("/runs", response_class=HTMLResponse)
async def runs_page(request: Request) -> HTMLResponse:
    state = state_of(request)
    found = await state.run(run_listing.list_runs, state.settings.runs)
    return render.page("runs.html", "Runs", active="/runs", runs=found, root=state.settings.runs.resolve())


@router.get("/runs/table", response_class=HTMLResponse)
async def runs_table(request: Request) -> HTMLResponse:
    """The table alone (the page refreshes it every few seconds: states and accuracies change)."""
    state = state_of(request)
    found = await state.run(run_listing.list_runs, state.settings.runs)
    return render.fragment("runs_table.html", runs=found)


@router.get("/runs/compare", response_class=HTMLResponse)
async def compare(request: Request, run: list[str] = Query([], max_length=MAX_COMPARED)) -> HTMLResponse:
    """Several runs on one page: overlaid curves and a metrics table."""
    state = state_of(request)
    names = list(dict.fromkeys(n for n in run if n))
    if len(names) < 2:
        raise ConvlensError("tick at least two runs to compare")
    folders = [find_run(state, name) for name in names]
    view = await state.run(build_comparison, folders)
    return render.page("compare.html", "Compare runs", active="/runs", comparison=view)


@router.get("/runs/{name}", response_class=HTMLResponse)
async def run_page(request: Request, name: str) -> HTMLResponse:
    """A run's report. Built once per state of its files (Grad-CAM of the images it shows), as a job."""
    state = state_of(request)
    folder = find_run(state, name)
    summary = await state.run(run_listing.summarise_folder, folder)
    key = f"report:{folder}:{files_version(folder)}"
    cached = state.cache.get(key)
    body = cached if cached is not None else (await start_report(state, folder, name, key)).body.decode()
    return render.page("run.html", f"Run {name}", active="/runs", summary=summary, body=body)


async def start_report(state: AppState, folder: Path, name: str, key: str) -> HTMLResponse:
    def work(reporter: Any) -> dict[str, Any]:
        # the run's own model, even when a registry model has the run's name
        view = run_listing.report_view(folder, lambda: state.models.get(state.models.run_key(folder)), reporter=reporter)
        html = render.render("run_report.html", view=view, name=name)
        state.cache.put(key, html)
        return {"html": html}

    return await pages_jobs.start(state, "report", f"Preparing the report of {name}", work)


@router.get("/runs/{name}/curves", response_class=HTMLResponse)
async def live_curves(request: Request, name: str) -> HTMLResponse:
    """The curves as ``history.json`` has them now; polling stops once the run is no longer training."""
    state = state_of(request)
    folder = find_run(state, name)
    summary = await state.run(run_listing.summarise_folder, folder)
    curves = await state.run(run_listing.history_curves, folder)
    status = 200 if summary.state == "training" else STOP_POLLING
    return render.fragment("run_curves.html", status=status, curves=curves, summary=summary)


def files_version(folder: Path) -> str:
    """Changes whenever a file the report reads changes (size and modification time of each)."""
    parts = []
    for path in sorted(folder.glob("*.json")):
        try:
            st = path.stat()
        except OSError:
            continue
        parts.append(f"{path.name}:{st.st_size}:{st.st_mtime_ns}")
    return str(hash("|".join(parts)))
