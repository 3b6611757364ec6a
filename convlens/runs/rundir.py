"""``RunDir``: the one owner of a run folder's files (names, checkpoint writes and reads, history, metrics)."""

from __future__ import annotations

import csv
import fnmatch
import io
import json
import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from convlens._io import atomic_path, write_json_atomic, write_text_atomic
from convlens.errors import CheckpointError, RunError
from convlens.runs import _files as F

log = logging.getLogger(__name__)

_MODES = ("scratch", "features", "frozen", "finetune")
# config.json fields and the types they must have when present (a damaged file gets a clear error)
_FIELD_TYPES: dict[str, type | tuple[type, ...]] = {
    "model": str,
    "num_classes": int,
    "input_size": list,
    "model_kwargs": dict,
    "classes": list,
    "label_mode": str,
    "mode": str,
    "train": dict,
    "pretrained_cfg": dict,
}


class RunDir:
    """A run folder; every file name of a run is known here and nowhere else.

    Args:
        path: the folder (``--out`` of ``convlens train``), or its ``model.safetensors``. Stored resolved, so
            that a run is the same run however its path is spelled.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        path = Path(path).expanduser()
        if path.name == F.WEIGHTS and not path.is_dir():
            path = path.parent
        self.path = path.resolve()

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    def __fspath__(self) -> str:
        return str(self.path)

    # --- names ----------------------------------------------------------------------------------------
    def file(self, name: str) -> Path:
        """A file of the run by its plain name (``curves.png``, ``confusion_test.png``)."""
        return self.path / name

    @property
    def config_path(self) -> Path:
        return self.path / F.CONFIG

    @property
    def weights_path(self) -> Path:
        return self.path / F.WEIGHTS

    @property
    def best(self) -> RunDir:
        """The checkpoint of the epoch with the lowest validation loss."""
        return RunDir(self.path / F.BEST)

    @property
    def report_path(self) -> Path:
        return self.path / F.REPORT

    @property
    def tensorboard_dir(self) -> Path:
        return self.path / F.TENSORBOARD

    def is_run(self) -> bool:
        """Whether the folder holds a convlens checkpoint (a ``config.json``)."""
        return self.config_path.is_file()

    # --- config and weights: the one writer and the one reader --------------------------------------------
    def read_config(self) -> dict[str, Any]:
        """``config.json``, checked: a missing, unparsable or wrongly typed file raises :class:`CheckpointError`."""
        if not self.config_path.is_file():
            raise CheckpointError(
                f"{self.path} is not a checkpoint: it holds no {F.CONFIG}; give the folder of a convlens run "
                f"(the --out of `convlens train`)"
            )
        try:
            config = json.loads(self.config_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CheckpointError(
                f"{self.config_path} is not readable JSON ({exc}); re-run training"
            ) from None
        return _validated(config, self.config_path)

    def write_checkpoint(self, model: Any, config: dict[str, Any]) -> None:
        """Write ``model.safetensors`` and ``config.json`` atomically (the weights first).

        A model built by :func:`convlens.models.create` records how to rebuild it (``model``, ``num_classes``,
        ``input_size``, ``model_kwargs``, ``pretrained_cfg``); ``config`` adds to that and wins on conflicts.
        """
        from convlens.models.checkpoint import model_config

        merged = {**(model_config(model) if getattr(model, "model_name", None) else {}), **config}
        merged = {k: v for k, v in merged.items() if v is not None}
        self.write_weights(model.state_dict())
        write_json_atomic(self.config_path, json.loads(json.dumps(merged, default=str)))

    def write_weights(self, state: dict[str, Any], folder: Path | None = None) -> Path:
        """A state dict as ``model.safetensors`` (in ``folder``, default the run folder), atomically."""
        from safetensors.torch import save_file

        path = (folder or self.path) / F.WEIGHTS
        tensors = {k: v.detach().cpu().contiguous() for k, v in state.items()}
        with atomic_path(path) as tmp:
            save_file(tensors, str(tmp), metadata={"format": "pt"})
        return path

    def read_weights(self, path: Path | None = None) -> dict[str, Any]:
        """The tensors of ``model.safetensors`` (never unpickled); a damaged file raises CheckpointError."""
        return read_safetensors(path or self.weights_path)

    def load(self, best: bool = False) -> tuple[Any, dict[str, Any]]:
        """The trained model (eval mode) and ``config.json``: see :func:`convlens.runs.load_run`."""
        from convlens.runs._load import load_run

        return load_run(self, best=best)

    # --- history, metrics, predictions ------------------------------------------------------------------
    def history(self) -> list[dict[str, float]]:
        """One dict per finished epoch (empty when none finished yet)."""
        path = self.path / F.HISTORY_JSON
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            raise CheckpointError(f"{path} is damaged ({exc}); it is rewritten by the next epoch") from None
        return rows if isinstance(rows, list) else []

    def write_history(self, history: list[dict[str, float]]) -> None:
        """``history.csv`` and ``history.json``, atomically."""
        columns = list(dict.fromkeys(k for row in history for k in row))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(history)
        write_text_atomic(self.path / F.HISTORY_CSV, buffer.getvalue())
        write_json_atomic(self.path / F.HISTORY_JSON, history)

    def write_curves(self, history: list[dict[str, float]], title: str = "") -> list[Path]:
        """``curves.png`` and ``curves_smoothed.png`` (EMA 0.8, as seed 004)."""
        from convlens.report import plot_curves

        return [
            plot_curves(history, self.path / F.CURVES, title=title),
            plot_curves(history, self.path / F.CURVES_SMOOTHED, smooth=0.8, title=title),
        ]

    def write_json(self, kind: str, split: str, payload: dict[str, Any]) -> Path:
        """``<kind>_<split>.json`` (``metrics`` or ``predictions``); metrics also become ``metrics.json``."""
        path = self.path / f"{kind}_{split}.json"
        write_json_atomic(path, payload)
        if kind == "metrics":
            write_json_atomic(self.path / F.METRICS, payload)
        return path

    def read_json(self, kind: str, split: str | None = None) -> dict[str, Any] | None:
        """``<kind>_<split>.json`` (or ``metrics.json`` without a split), ``None`` when absent."""
        path = self.path / (f"{kind}_{split}.json" if split else F.METRICS)
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise CheckpointError(f"{path} is damaged ({exc}); run `convlens evaluate` again") from None

    def evaluated_splits(self) -> list[str]:
        """The splits that ``convlens evaluate`` has written metrics for, in train/validation/test order."""
        found = {p.name[len("metrics_") : -len(".json")] for p in self.path.glob("metrics_*.json")}
        order = ["train", "validation", "test"]
        return sorted(found, key=lambda s: (order.index(s) if s in order else 3, s))

    # --- training: checks, lock, overwrite ---------------------------------------------------------------
    def own_files(self) -> list[Path]:
        """The files and folders of this folder that a run writes."""
        if not self.path.is_dir():
            return []
        return [p for p in self.path.iterdir() if any(fnmatch.fnmatch(p.name, pat) for pat in F.OWN_PATTERNS)]

    def foreign_files(self) -> list[Path]:
        """What the folder holds that no run wrote (never removed by convlens)."""
        if not self.path.is_dir():
            return []
        own = set(self.own_files())
        return sorted(p for p in self.path.iterdir() if p not in own)

    def clear(self) -> None:
        """Remove what a run wrote (``--overwrite``); the user's own files stay."""
        for path in self.own_files():
            if path.name == F.LOCK:
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the run folder for one writer; a second ``convlens train`` into it gets a RunError."""
        if self.path.exists() and not self.path.is_dir():
            raise RunError(f"--out {self.path} is a file; give a folder for the run")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunError(
                f"cannot create the run folder {self.path} ({exc.strerror or exc}); choose another --out"
            ) from None
        handle = open(self.path / F.LOCK, "a+")  # noqa: SIM115 - held for the duration
        try:
            _try_lock(handle, self.path)
            yield
        finally:
            _unlock(handle)
            handle.close()

    # --- resume state ------------------------------------------------------------------------------------
    def state(self) -> Any:
        """The resume state of this run (see :class:`convlens.runs._state.ResumeState`)."""
        from convlens.runs._state import ResumeState

        return ResumeState(self)


def read_safetensors(path: Path) -> dict[str, Any]:
    """Tensors of a safetensors file; anything else (a pickle, a truncated file) raises CheckpointError."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    if not path.is_file():
        raise CheckpointError(f"{path} does not exist; give the folder of a finished run")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(
            f"{path} is not a readable safetensors file ({exc}); convlens never unpickles files — re-run training"
        ) from None


def _validated(config: Any, path: Path) -> dict[str, Any]:
    if not isinstance(config, dict):
        raise CheckpointError(f"{path} must hold a JSON object, not {type(config).__name__}; re-run training")
    for key, kind in _FIELD_TYPES.items():
        if key in config and config[key] is not None and not isinstance(config[key], kind):
            raise CheckpointError(
                f"{path}: {key!r} must be a {getattr(kind, '__name__', kind)}, not {type(config[key]).__name__} "
                f"({str(config[key])[:60]!r}); the file is damaged — re-run training"
            )
    if config.get("mode", "scratch") not in _MODES:
        raise CheckpointError(f"{path}: mode {config['mode']!r} is not one of {', '.join(_MODES)}")
    size = config.get("input_size")
    if size is not None and (len(size) != 3 or not all(isinstance(v, int) and 0 < v < 100_000 for v in size)):
        raise CheckpointError(f"{path}: input_size {size!r} must be [channels, height, width]")
    if not all(isinstance(c, str) for c in config.get("classes") or []):
        raise CheckpointError(f"{path}: classes must be a list of names")
    return config


def _try_lock(handle: Any, path: Path) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock, as before
        return
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        raise RunError(
            f"another convlens process is writing {path}; wait for it to finish or train into another --out"
        ) from None


def _unlock(handle: Any) -> None:
    try:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    except (ImportError, OSError):  # pragma: no cover
        pass
