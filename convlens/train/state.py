"""The training state for ``--resume``, written without pickle: tensors in safetensors, the rest in JSON.

``train_state.safetensors`` holds the optimizer's tensors and the torch/numpy RNG states;
``train_state.json`` holds the epoch, history, callback states, optimizer hyper-parameters, the Python RNG
and the SHA-256 of the files it goes with. It is written last, so a kill at any moment leaves either a
complete set or a set whose hashes disagree (detected on resume); every single file is written atomically.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from convlens._io import atomic_path, write_json_atomic
from convlens.errors import CheckpointError

STATE_TENSORS = "train_state.safetensors"
STATE_JSON = "train_state.json"


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


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_state(
    run_dir: Path, optimizer: torch.optim.Optimizer, info: dict[str, Any], guards: list[str]
) -> None:
    """Write the training state; ``guards`` are files (e.g. ``model.safetensors``) it must match on resume."""
    opt_tensors, opt_meta = flatten_optimizer(optimizer.state_dict())
    rng_tensors, rng_meta = capture_rng()
    with atomic_path(run_dir / STATE_TENSORS) as tmp:
        save_file({**opt_tensors, **rng_tensors}, str(tmp))
    hashes = {name: sha256(run_dir / name) for name in [*guards, STATE_TENSORS]}
    write_json_atomic(
        run_dir / STATE_JSON, {**info, "optimizer": opt_meta, "rng": rng_meta, "sha256": hashes}
    )


def load_state(run_dir: Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Read and verify the training state; raise :class:`CheckpointError` when it is missing or torn."""
    json_path = run_dir / STATE_JSON
    if not json_path.is_file():
        raise CheckpointError(
            f"{run_dir} has no {STATE_JSON}; it is not a resumable run (drop --resume to start anew)"
        )
    info = json.loads(json_path.read_text(encoding="utf-8"))
    for name, expected in info["sha256"].items():
        path = run_dir / name
        if not path.is_file() or sha256(path) != expected:
            raise CheckpointError(
                f"{path} does not match {json_path} (the run was stopped while a checkpoint was written); "
                f"start again without --resume, or resume from a copy of {run_dir / 'best'}"
            )
    return info, load_file(str(run_dir / STATE_TENSORS))
