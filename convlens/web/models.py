"""The models a server keeps in memory: a small LRU of :class:`LoadedModel` keyed by model name or run.

A model is loaded once and shared by every request (its own lock serialises the requests that use it); a
run's model is loaded again only when training has written new weights since.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from convlens import service
from convlens.errors import ConfigError, DataError, UnknownName
from convlens.service import runs as run_listing

DEFAULT_MODEL = "efficientnet_lite0"


@dataclass(frozen=True)
class ModelKey:
    """Where a model comes from: a registry ``name`` (``run`` is ``None``) or the run folder ``run``."""

    name: str
    run: Path | None = None
    version: int = 0  # the run's weights file mtime: new weights, new key

    @property
    def label(self) -> str:
        return f"run {self.name}" if self.run else self.name


class ModelCache:
    """At most ``capacity`` models in memory, least recently used dropped first.

    Args:
        runs_root: the served runs folder (run names resolve only inside it).
        capacity: models kept loaded.
        default: the model of an empty choice.
    """

    def __init__(self, runs_root: Path, capacity: int = 3, default: str = DEFAULT_MODEL) -> None:
        self.runs_root, self.capacity, self.default = Path(runs_root), capacity, default
        self._models: OrderedDict[ModelKey, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[ModelKey, threading.Lock] = {}
        self.loads = 0  # how many times a model was loaded (tests check that requests reuse models)

    def resolve(self, choice: str | None) -> ModelKey:
        """The key of a model choice: a pretrained registry model, or the name of a run under ``runs_root``.

        Raises:
            UnknownName: neither (the message lists what can be chosen).
            ConfigError: a registry model without pretrained weights (train it, then choose its run).
        """
        name = (choice or self.default).strip()
        entries = {m.name: m for m in service.list_models()}
        if name in entries:
            if not entries[name].weights:
                raise ConfigError(f"model {name!r} has no pretrained weights; train it and choose its run instead")
            return ModelKey(name)
        try:
            folder = run_listing.find_run(self.runs_root, name)
        except DataError:
            runs = [r.name for r in run_listing.list_runs(self.runs_root)][:10]
            raise UnknownName(
                f"unknown model {name[:80]!r}: choose {self.default} (or another pretrained model) or a run "
                f"under {self.runs_root}" + (f" ({', '.join(runs)})" if runs else "")
            ) from None
        return self.run_key(folder)

    @staticmethod
    def run_key(folder: Path) -> ModelKey:
        """The key of the model of the run folder ``folder`` (found inside ``runs_root`` by the caller)."""
        weights = folder / "model.safetensors"
        version = weights.stat().st_mtime_ns if weights.exists() else 0
        return ModelKey(folder.name, folder, version)

    def get(self, choice: str | ModelKey | None) -> Any:
        """The loaded model of ``choice``, a name or a key (blocking: call it from a worker thread)."""
        key = choice if isinstance(choice, ModelKey) else self.resolve(choice)
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
            loading = self._loading.setdefault(key, threading.Lock())
        with loading:  # one load per key, however many requests ask at once
            with self._lock:
                if key in self._models:
                    return self._models[key]
            loaded = self._load(key)
            with self._lock:
                self._drop_older_versions(key)
                self._models[key] = loaded
                while len(self._models) > self.capacity:
                    self._models.popitem(last=False)
                self._loading.pop(key, None)
        return loaded

    def _load(self, key: ModelKey) -> Any:
        self.loads += 1
        if key.run is not None:
            return service.load_model(checkpoint=key.run)
        return service.load_model(key.name)

    def _drop_older_versions(self, key: ModelKey) -> None:
        for old in [k for k in self._models if k.run is not None and k.run == key.run and k != key]:
            del self._models[old]

    def choices(self) -> list[tuple[str, str]]:
        """``(value, label)`` of the models a page offers: the default model, then every run."""
        found = [(self.default, f"{self.default} (ImageNet)")]
        for run in run_listing.list_runs(self.runs_root):
            found.append((run.name, f"run {run.name} ({run.model or '?'}, {run.mode or '?'})"))
        return found
