"""The training state for ``--resume`` as tensors + JSON (never pickle): the optimizer and the RNG states.

How the state is committed to disk (step folder, manifest written last) is the run folder's business:
:class:`convlens.runs._state.ResumeState`.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from convlens.runs._files import STATE_JSON, STATE_TENSORS  # noqa: F401  (re-exported)

if TYPE_CHECKING:
    from convlens.train.events import Callback


def flatten_optimizer(state_dict: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split an optimizer ``state_dict`` into named tensors and JSON-ready values."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, slot in state_dict["state"].items():
        for key, value in slot.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim.{index}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(index), {})[key] = value
    return tensors, {"param_groups": state_dict["param_groups"], "scalars": scalars}


def unflatten_optimizer(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> dict[str, Any]:
    """Inverse of :func:`flatten_optimizer`."""
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        if name.startswith("optim."):
            _, index, key = name.split(".", 2)
            state.setdefault(int(index), {})[key] = value
    for index, values in meta["scalars"].items():
        state.setdefault(int(index), {}).update(values)
    return {"state": state, "param_groups": meta["param_groups"]}


def capture_rng() -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The torch, numpy and Python RNG states as tensors + JSON."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    tensors = {"rng.torch": torch.get_rng_state(), "rng.numpy": torch.from_numpy(keys.astype(np.int64))}
    meta = {
        "numpy": [kind, int(pos), int(has_gauss), float(cached)],
        "python": [version, list(internal), gauss_next],
    }
    return tensors, meta


def restore_rng(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    """Inverse of :func:`capture_rng`."""
    torch.set_rng_state(tensors["rng.torch"])
    kind, pos, has_gauss, cached = meta["numpy"]
    np.random.set_state((kind, tensors["rng.numpy"].numpy().astype(np.uint32), pos, has_gauss, cached))
    version, internal, gauss_next = meta["python"]
    random.setstate((version, tuple(internal), gauss_next))


def callback_tensors(callbacks: Iterable[Callback]) -> dict[str, torch.Tensor]:
    """Every callback's :meth:`~Callback.state_tensors`, named ``callback.<class>.<name>``."""
    return {
        f"callback.{type(cb).__name__}.{name}": value
        for cb in callbacks
        for name, value in cb.state_tensors().items()
    }


def tensors_of(callback: Callback, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Inverse of :func:`callback_tensors` for one callback."""
    prefix = f"callback.{type(callback).__name__}."
    return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}


def training_state(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The optimizer's and the RNGs' state as ``(tensors, JSON-ready values)``."""
    opt_tensors, opt_meta = flatten_optimizer(optimizer.state_dict())
    rng_tensors, rng_meta = capture_rng()
    return {**opt_tensors, **rng_tensors}, {"optimizer": opt_meta, "rng": rng_meta}
