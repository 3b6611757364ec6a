"""Long jobs (filter patterns, Score-CAM, a run's report): a small pool, progress the page polls, cancellation.

A job runs one callable in a worker thread with a :class:`JobReporter` installed: the service functions it
calls report their progress bars and messages to it, and its ``advance`` raises
:class:`convlens.errors.Cancelled` once the job was cancelled, so the work stops at the next step (what
cannot report progress stops when it returns, and its result is dropped).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from convlens.errors import Cancelled, ConvlensError

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
FINISHED = (DONE, FAILED, CANCELLED)


class TooManyJobs(ConvlensError):
    """More jobs are waiting than the server queues; try again when one has finished."""


@dataclass
class Progress:
    """One progress bar of a job."""

    description: str
    total: int | None = None
    completed: int = 0
    info: str = ""
    closed: bool = False


@dataclass
class Job:
    """What the page shows about a job: its state, progress bars, messages, and the result or the error."""

    id: str
    kind: str
    title: str
    state: str = QUEUED
    progress: list[Progress] = field(default_factory=list)
    messages: list[tuple[str, str]] = field(default_factory=list)
    result: Any = None
    error: str = ""
    created: float = field(default_factory=time.time)
    finished: float | None = None
    cancel_requested: bool = False

    @property
    def fraction(self) -> float | None:
        """Done share of the latest bar with a total (``None`` when unknown)."""
        bars = [p for p in self.progress if p.total]
        if self.state == DONE:
            return 1.0
        return min(1.0, bars[-1].completed / bars[-1].total) if bars else None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "state": self.state,
            "fraction": self.fraction,
            "progress": [vars(p) for p in self.progress],
            "messages": [{"level": level, "text": text} for level, text in self.messages[-20:]],
            "error": self.error,
        }


class _JobTask:
    def __init__(self, job: Job, bar: Progress) -> None:
        self.job, self.bar = job, bar

    def advance(self, steps: int = 1, info: str = "") -> None:
        self.bar.completed += steps
        self.bar.info = info
        if self.job.cancel_requested:
            raise Cancelled(f"job {self.job.id} was cancelled")

    def close(self) -> None:
        self.bar.closed = True


class JobReporter:
    """The :class:`convlens.Reporter` of one job: progress bars and messages become the job's events."""

    def __init__(self, job: Job) -> None:
        self.job = job

    def message(self, text: str, level: str = "info") -> None:
        self.job.messages.append((level, str(text)))

    def task(self, description: str, total: int | None = None) -> _JobTask:
        if self.job.cancel_requested:
            raise Cancelled(f"job {self.job.id} was cancelled")
        bar = Progress(str(description), total)
        self.job.progress.append(bar)
        return _JobTask(self.job, bar)


class JobRunner:
    """Runs jobs ``workers`` at a time, keeps at most ``queue`` waiting and the latest ``keep`` jobs."""

    def __init__(self, workers: int = 1, queue: int = 8, keep: int = 32) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="convlens-job")
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self.queue, self.keep = queue, keep

    def submit(self, kind: str, title: str, work: Callable[[JobReporter], Any]) -> Job:
        """Start ``work(reporter)`` in the pool; its return value becomes ``job.result``.

        Raises:
            TooManyJobs: ``queue`` jobs are already waiting.
        """
        with self._lock:
            waiting = sum(job.state == QUEUED for job in self._jobs.values())
            if waiting >= self.queue:
                raise TooManyJobs(f"{waiting} jobs are already waiting; try again when one has finished")
            job = Job(secrets.token_urlsafe(12), kind, title)
            self._jobs[job.id] = job
            self._forget_old()
        self._pool.submit(self._run, job, work)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def cancel(self, job_id: str) -> Job | None:
        """Ask a job to stop; a queued job never starts, a running one stops at its next progress step."""
        job = self.get(job_id)
        if job is not None and job.state not in FINISHED:
            job.cancel_requested = True
            if job.state == QUEUED:
                self._finish(job, CANCELLED)
        return job

    def shutdown(self) -> None:
        """Cancel everything and stop the workers (waits for the running steps to return)."""
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            self.cancel(job.id)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _run(self, job: Job, work: Callable[[JobReporter], Any]) -> None:
        if job.cancel_requested:
            return
        job.state = RUNNING
        try:
            result = work(JobReporter(job))
        except Cancelled:
            self._finish(job, CANCELLED)
        except ConvlensError as exc:
            job.error = str(exc)
            self._finish(job, FAILED)
        except Exception as exc:  # a bug: logged, and the job says so instead of vanishing with its thread
            log.exception("job %s (%s) failed", job.id, job.kind)
            job.error = f"internal error ({type(exc).__name__}); see the server log"
            self._finish(job, FAILED)
        else:
            if job.cancel_requested:
                self._finish(job, CANCELLED)
            else:
                job.result = result
                self._finish(job, DONE)

    @staticmethod
    def _finish(job: Job, state: str) -> None:
        job.state, job.finished = state, time.time()

    def _forget_old(self) -> None:
        finished = [job_id for job_id, job in self._jobs.items() if job.state in FINISHED]
        for job_id in finished[: max(0, len(self._jobs) - self.keep)]:
            del self._jobs[job_id]
