"""The ``convlens`` command line: thin commands that call the library and print.

Each area registers its commands from ``convlens/_cli/<area>.py``; this module only
builds the root app and turns library errors into one red line.
"""

from __future__ import annotations

import logging
import sys

import typer

from convlens import __version__
from convlens._cli import data as _data_cli
from convlens._cli import explain as _explain_cli
from convlens._cli import export as _export_cli
from convlens._cli import models as _models_cli
from convlens._cli import report as _report_cli
from convlens._cli import train as _train_cli
from convlens._cli import web as _web_cli
from convlens._cli._output import RichReporter, echo, echo_err
from convlens._cli._typer import App
from convlens._reporting import use_reporter
from convlens.errors import ConvlensError

app = App(
    name="convlens",
    help="Train convolutional image classifiers and see what they learned (split, train, "
    "transfer-learn, evaluate, explain), offline, on PyTorch.",
    pretty_exceptions_enable=False,
    add_completion=False,
)

_state = {"debug": False}


def _print_version(value: bool) -> None:
    if value:
        echo(f"convlens {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks instead of one-line errors."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log diagnostics to stderr."),
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    _state["debug"] = debug
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, format="%(name)s: %(message)s")


for _module in (_data_cli, _models_cli, _train_cli, _explain_cli, _report_cli, _export_cli, _web_cli):
    _module.register(app)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script and ``python -m convlens``."""
    args = sys.argv[1:] if argv is None else argv
    _state["debug"] = "--debug" in args
    try:
        with use_reporter(RichReporter(progress="--no-progress" not in args)):
            app(args=args, prog_name="convlens")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except ConvlensError as exc:
        if _state["debug"]:
            raise
        echo_err(f"error: {exc}", "bold red")
        return exc.exit_code
    except KeyboardInterrupt:
        echo_err("Interrupted.", "red")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
