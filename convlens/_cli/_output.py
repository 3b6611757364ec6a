"""What the CLI prints: plain text that is safe to show (no markup parsed, no terminal control codes),
and the rich reporter that draws progress bars and messages on stderr."""

from __future__ import annotations

import re
from typing import Any

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from convlens._cli._console import console, err_console

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def safe(text: Any) -> str:
    """``text`` as it can be shown: control characters (terminal escapes included) as ``\\x1b`` instead of acted
    on, and bytes of file names that are not UTF-8 (surrogate escapes) as ``\\udcXX``."""
    text = str(text).encode("utf-8", "backslashreplace").decode("utf-8")
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def echo(text: Any = "", style: str | None = None) -> None:
    """One line (or several) on stdout; user strings are never read as markup."""
    console.print(Text(safe(text), style=style or ""), highlight=False, soft_wrap=True)


def echo_err(text: Any, style: str | None = None) -> None:
    """One line (or several) on stderr."""
    err_console.print(Text(safe(text), style=style or ""), highlight=False, soft_wrap=True)


def cell(value: Any) -> Text:
    """A table cell that shows ``value`` literally."""
    return Text(safe(value))


class _Bar:
    def __init__(self, description: str, total: int | None) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[info]}"),
            console=err_console,
            transient=True,
        )
        self._progress.start()
        self._task = self._progress.add_task(safe(description), total=total, info="")
        self._total, self._done = total, 0

    def advance(self, steps: int = 1, info: str = "") -> None:
        self._done += steps
        last = self._total is not None and self._done >= self._total  # draw N/N now, not at the next tick
        self._progress.update(self._task, advance=steps, info=safe(info), refresh=last)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


class _NoBar:
    def advance(self, steps: int = 1, info: str = "") -> None:
        pass

    def close(self) -> None:
        pass


class RichReporter:
    """The CLI's reporter: transient progress bars and messages on stderr (warnings in yellow)."""

    def __init__(self, progress: bool = True) -> None:
        self.progress = progress and err_console.is_terminal

    def message(self, text: str, level: str = "info") -> None:
        if level == "warning":
            echo_err(f"warning: {text}", "yellow")
        else:
            echo_err(text)

    def task(self, description: str, total: int | None = None) -> Any:
        return _Bar(description, total) if self.progress else _NoBar()
