"""Progress and messages without printing: the ``Reporter`` protocol and the current reporter.

Library code calls :func:`message`, :func:`warn`, :func:`track` and :func:`task`; they go to the reporter
installed for the current context (:func:`use_reporter`), which is silent by default. The CLI installs one
that draws rich bars on stderr, the web app one that feeds an event stream, tests a quiet one. The current
reporter lives in a :class:`contextvars.ContextVar`, so threads and asyncio tasks never see each other's.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Protocol, TypeVar, runtime_checkable

T = TypeVar("T")


class Task(Protocol):
    """One progress bar: ``advance`` it, then ``close`` it."""

    def advance(self, steps: int = 1, info: str = "") -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class Reporter(Protocol):
    """Where progress and messages go.

    ``message(text, level)`` gets plain text (never markup; ``level`` is ``info`` or ``warning``);
    ``task(description, total)`` starts a progress bar (``total`` may be ``None``). A reporter may raise
    :class:`convlens.errors.Cancelled` from ``Task.advance`` to stop a long job.
    """

    def message(self, text: str, level: str = "info") -> None: ...

    def task(self, description: str, total: int | None = None) -> Task: ...


class _NullTask:
    def advance(self, steps: int = 1, info: str = "") -> None:
        """Nothing to draw."""

    def close(self) -> None:
        """Nothing to release."""


class QuietReporter:
    """Prints nothing, draws nothing (tests, notebooks that only want results)."""

    def message(self, text: str, level: str = "info") -> None:
        """Dropped."""

    def task(self, description: str, total: int | None = None) -> Task:
        return _NullTask()


class CollectingReporter(QuietReporter):
    """Keeps the messages (``messages``: list of ``(level, text)``); draws nothing."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []

    def message(self, text: str, level: str = "info") -> None:
        self.messages.append((level, text))


_QUIET = QuietReporter()
_current: contextvars.ContextVar[Reporter | None] = contextvars.ContextVar("convlens_reporter", default=None)


def current() -> Reporter:
    """The reporter of this context (silent unless a front end installed one)."""
    return _current.get() or _QUIET


@contextmanager
def use_reporter(reporter: Reporter | None) -> Iterator[Reporter]:
    """Install ``reporter`` for the duration (``None`` keeps the current one)."""
    if reporter is None:
        yield current()
        return
    token = _current.set(reporter)
    try:
        yield reporter
    finally:
        _current.reset(token)


def message(text: str) -> None:
    """Tell the user something worth knowing (not a diagnostic: use ``logging`` for those)."""
    current().message(text, "info")


def warn(text: str) -> None:
    """Tell the user something went less well than asked (files skipped, a fallback taken)."""
    current().message(text, "warning")


def task(description: str, total: int | None = None, enabled: bool = True) -> Task:
    """A progress bar of the current reporter (a silent one when ``enabled`` is false)."""
    return current().task(description, total) if enabled else _NullTask()


def track(
    items: Iterable[T], description: str, total: int | None = None, enabled: bool = True
) -> Iterator[T]:
    """Iterate with a progress bar; the bar is closed however the loop ends."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    bar = task(description, total, enabled)
    try:
        for item in items:
            yield item
            bar.advance()
    finally:
        bar.close()
