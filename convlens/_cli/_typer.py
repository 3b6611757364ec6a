"""Typer, the way convlens' help reads: flags without a type column, help texts that need the library on demand.

Typer shows every option's type, ``<bool>`` for a flag too, which reads as if the flag took a value. A flag takes
none, so its type column is left empty. An option whose help lists registry names (``--method``: every explainer)
would import torch to build the help of *every* command; its text is filled in only when that command's own
``--help`` is drawn (``lazy_help``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import typer
from typer.core import TyperCommand, TyperGroup


def _usage(command: Any, ctx: Any) -> list[str]:
    """``[OPTIONS] SRC DST``, ``IMAGE...``, ``[OUT]``: plain upper-case names (Typer would write ``{SRC}``)."""
    pieces = [command.options_metavar] if command.options_metavar else []
    for param in command.get_params(ctx):
        if param.param_type_name != "argument":
            pieces += param.get_usage_pieces(ctx)
            continue
        name = param.metavar or param.name.upper()
        name += "..." if param.nargs != 1 and not name.endswith("...") else ""
        pieces.append(name if param.required else f"[{name}]")
    return pieces


def _polish(command: Any, ctx: Any) -> None:
    lazy = getattr(command, "lazy_help", {})
    for param in command.get_params(ctx):
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""  # Typer draws the metavar instead of the type: nothing for a flag
        if param.name in lazy:
            param.help = lazy[param.name]()


class Command(TyperCommand):
    """A command whose help shows flags without a value type and fills ``lazy_help`` texts when drawn."""

    lazy_help: ClassVar[dict[str, Callable[[], str]]] = {}

    def format_help(self, ctx: Any, formatter: Any) -> None:
        _polish(self, ctx)
        super().format_help(ctx, formatter)

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return _usage(self, ctx)


class Group(TyperGroup):
    """A group of commands whose help shows flags without a value type."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        _polish(self, ctx)
        super().format_help(ctx, formatter)


def with_lazy_help(**texts: Callable[[], str]) -> type[Command]:
    """A :class:`Command` class whose options ``texts`` (name -> function giving the help) are filled on demand."""
    return type("LazyHelpCommand", (Command,), {"lazy_help": dict(texts)})


def views_help() -> str:
    """``--tta``'s help, from the test-time views registry (``evaluate`` and ``predict``)."""
    from convlens.models.views import VIEWS

    return (
        f"Test-time views to average: {' | '.join(VIEWS)} (flip: each photo and its mirror image; "
        "not for digits or text)."
    )


class App(typer.Typer):
    """``typer.Typer`` whose groups and commands are :class:`Group` and :class:`Command` unless told otherwise."""

    def __init__(self, **options: Any) -> None:
        options.setdefault("cls", Group)
        options.setdefault("no_args_is_help", True)
        options.setdefault("context_settings", {"help_option_names": ["-h", "--help"]})
        super().__init__(**options)

    def command(self, *args: Any, cls: type[TyperCommand] | None = None, **options: Any) -> Any:
        return super().command(*args, cls=cls or Command, **options)
