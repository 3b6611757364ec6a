"""Jobs on the pages: start one, answer with its result when it is quick, else a panel that polls its progress."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from convlens.web import render
from convlens.web.api import job_or_404, state_of
from convlens.web.jobs import CANCELLED, DONE, FAILED, Job, JobReporter
from convlens.web.state import AppState

router = APIRouter(include_in_schema=False)

QUICK_S = 4.0  # a job done within this answers the request itself; a longer one shows a progress panel


async def start(state: AppState, kind: str, title: str, work: Callable[[JobReporter], dict[str, Any]]) -> HTMLResponse:
    """Run ``work`` as a job; ``work`` returns ``{"html": fragment, ...}``. The answer is the fragment when
    the job finishes within ``QUICK_S`` seconds, else the job's progress panel."""
    job = state.jobs.submit(kind, title, work)
    deadline = time.monotonic() + QUICK_S
    while job.state not in (DONE, FAILED, CANCELLED) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return panel(job)


def panel(job: Job) -> HTMLResponse:
    """The job's result when done, its error when failed, else the polling progress panel."""
    if job.state == DONE:
        return HTMLResponse(job.result["html"], headers={"Cache-Control": "no-store"})
    if job.state in (FAILED, CANCELLED):
        # 200, not 4xx: the panel request itself went well, and htmx swaps it in place of the panel
        return render.fragment("job_end.html", job=job)
    return render.fragment("job.html", job=job)


@router.get("/jobs/{job_id}/panel")
async def job_panel(request: Request, job_id: str) -> HTMLResponse:
    """What the page shows of a job now (polled every second while it runs)."""
    return panel(job_or_404(state_of(request), job_id))
