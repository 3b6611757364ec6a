"""Run a training and die like ``kill -9`` at a chosen point of epoch 2's checkpoint write (a test helper).

Usage: python _kill_worker.py DATA OUT EPOCHS POINT, POINT one of ``step-weights`` (while the resume state's
weights are being written), ``manifest`` (after the step folder, before the manifest), ``top-weights`` (while
the run's own model.safetensors is being written).
"""

from __future__ import annotations

import os
import sys

import safetensors.torch

from convlens.runs import _state
from convlens.train import TrainConfig, train

data, out, epochs, point = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
real_save, real_manifest = safetensors.torch.save_file, _state.write_json_atomic


top_writes = [0]


def save_file(tensors, filename, metadata=None):
    real_save(tensors, filename, metadata=metadata)
    name, parent = os.path.basename(filename), os.path.dirname(os.path.abspath(filename))
    if "model" in name and parent == os.path.abspath(out):
        top_writes[0] += 1
    if (point == "step-weights" and "epoch-0002" in str(filename) and "model" in name) or (
        point == "top-weights" and top_writes[0] == 2
    ):
        os._exit(137)  # the temporary file is written, never renamed: as a kill -9 would leave it


def manifest(path, obj, indent=2):
    if point == "manifest" and obj.get("epoch") == 2:
        os._exit(137)
    real_manifest(path, obj, indent)


safetensors.torch.save_file = save_file
_state.write_json_atomic = manifest
train(
    TrainConfig(
        data=data,
        model="mnist_tf",
        out=out,
        image_size=32,
        batch_size=4,
        epochs=epochs,
        augment="book",
        dropout=0.3,
        lr=1e-3,
        progress=False,
    )
)
