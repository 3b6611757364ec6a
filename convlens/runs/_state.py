"""The resume state of a run, committed atomically as a set.

Each epoch writes ``resume/epoch-NNNN/`` (the weights and ``train_state.safetensors``: optimizer tensors and
RNG states), then the manifest ``train_state.json`` (epoch, history, callback states, optimizer settings, the
SHA-256 of both files) pointing at it, and only then removes the older step folders. A kill at any moment
leaves the previous manifest and the folder it points at intact, so ``--resume`` always finds a complete set;
half-written files and unreferenced folders are removed when the run resumes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convlens._io import atomic_path, write_json_atomic
from convlens.errors import CheckpointError
from convlens.runs import _files as F

if TYPE_CHECKING:
    from convlens.runs.rundir import RunDir

log = logging.getLogger(__name__)


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class ResumeState:
    """Writes and reads the resume state of one :class:`RunDir`."""

    def __init__(self, run: RunDir) -> None:
        self.run = run
        self.manifest = run.path / F.STATE_JSON

    def exists(self) -> bool:
        """Whether a finished epoch left a resumable state."""
        return self.manifest.is_file()

    def save(self, weights: dict[str, Any], tensors: dict[str, Any], info: dict[str, Any]) -> None:
        """Commit one epoch's state: step folder first, manifest last, then drop the older steps."""
        from safetensors.torch import save_file

        relative = f"{F.RESUME}/epoch-{int(info['epoch']):04d}"
        step = self.run.path / relative
        step.mkdir(parents=True, exist_ok=True)
        self.run.write_weights(weights, folder=step)
        with atomic_path(step / F.STATE_TENSORS) as tmp:
            save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, str(tmp))
        hashes = {f"{relative}/{name}": sha256(step / name) for name in (F.WEIGHTS, F.STATE_TENSORS)}
        write_json_atomic(self.manifest, {**info, "step": relative, "sha256": hashes})
        self._remove_steps(keep=relative)

    def load(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """``(info, state tensors, model weights)`` of the last committed epoch, verified by SHA-256."""
        info = self._read_manifest()
        folder = self._step_folder(info)
        for name, expected in info["sha256"].items():
            path = self.run.path / name
            if not path.is_file() or sha256(path) != expected:
                raise CheckpointError(
                    f"{path} does not match {self.manifest} (the run was stopped while a checkpoint was written "
                    f"and the files were changed since); start again with --overwrite"
                )
        from convlens.runs.rundir import read_safetensors

        return info, read_safetensors(folder / F.STATE_TENSORS), read_safetensors(folder / F.WEIGHTS)

    def clean_orphans(self) -> list[Path]:
        """Remove half-written temporary files and step folders no manifest points at; returns what went."""
        keep = None
        if self.exists():
            try:
                keep = self._read_manifest().get("step")
            except CheckpointError:
                keep = None
        removed = []
        for folder in (self.run.path, self.run.path / F.BEST, *self._steps()):
            removed += [p for p in folder.glob(".*.tmp-*") if p.is_file()]
        for path in removed:
            path.unlink(missing_ok=True)
        removed += self._remove_steps(keep=keep)
        if removed:
            log.info("removed %d file(s) left by an interrupted checkpoint write", len(removed))
        return removed

    def _steps(self) -> list[Path]:
        root = self.run.path / F.RESUME
        return sorted(p for p in root.glob("epoch-*") if p.is_dir()) if root.is_dir() else []

    def _remove_steps(self, keep: str | None) -> list[Path]:
        gone = [p for p in self._steps() if p.relative_to(self.run.path).as_posix() != keep]
        for path in gone:
            shutil.rmtree(path, ignore_errors=True)
        return gone

    def _read_manifest(self) -> dict[str, Any]:
        if not self.exists():
            raise CheckpointError(
                f"{self.run.path} has no {F.STATE_JSON}; it is not a resumable run (drop --resume to start anew)"
            )
        try:
            info = json.loads(self.manifest.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise CheckpointError(
                f"{self.manifest} is damaged ({exc}); start again with --overwrite"
            ) from None
        required = {"epoch": int, "history": list, "sha256": dict, "optimizer": dict, "rng": dict}
        if not isinstance(info, dict) or any(not isinstance(info.get(k), t) for k, t in required.items()):
            raise CheckpointError(
                f"{self.manifest} is damaged (fields missing); start again with --overwrite"
            )
        return info

    def _step_folder(self, info: dict[str, Any]) -> Path:
        if "step" not in info:  # runs written before step folders: the files sit in the run folder
            return self.run.path
        folder = (self.run.path / str(info["step"])).resolve()
        if folder.parent != (self.run.path / F.RESUME).resolve():
            raise CheckpointError(
                f"{self.manifest} points outside the run folder; start again with --overwrite"
            )
        return folder
