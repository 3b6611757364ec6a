"""A small name -> factory registry shared by models and explainers.

A name is written once, where the thing is defined; the CLI choices, the web
app's menus and the parametrised tests all read the registry.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from convlens.errors import UnknownName

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered thing with free-form metadata (family, description, ...)."""

    name: str
    obj: T
    meta: dict[str, Any] = field(default_factory=dict)


class Registry(Generic[T]):
    """Maps names to objects; raises :class:`UnknownName` listing the choices."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}

    def register(self, name: str, **meta: Any) -> Callable[[T], T]:
        """Decorator that registers ``obj`` under ``name``."""

        def decorate(obj: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = Entry(name, obj, dict(meta))
            return obj

        return decorate

    def get(self, name: str) -> T:
        return self.entry(name).obj

    def entry(self, name: str) -> Entry[T]:
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownName(self.unknown_message(name)) from None

    def unknown_message(self, name: str) -> str:
        """``unknown model 'small_convnt'; did you mean 'small_convnet'? choose one of: ...``."""
        choices = ", ".join(self.names()) or "(none registered)"
        return f"unknown {self.kind} {name!r}; {self.did_you_mean(name)}choose one of: {choices}"

    def did_you_mean(self, name: str) -> str:
        """``"did you mean 'small_convnet'? "`` for a near miss (a typo, a case slip, a prefix), else ``""``."""
        names, text = self.names(), str(name)
        close = difflib.get_close_matches(text, names, n=3, cutoff=0.6)
        if not close:
            close = [n for n in names if n.lower() == text.lower()] or [
                n for n in names if text and n.lower().startswith(text.lower())
            ][:3]
        if not close:
            return ""
        quoted = [repr(c) for c in close]
        listed = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
        return f"did you mean {listed}? "

    def names(self) -> list[str]:
        return sorted(self._entries)

    def entries(self) -> Iterator[Entry[T]]:
        return iter(sorted(self._entries.values(), key=lambda e: e.name))

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)
