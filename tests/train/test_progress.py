"""What a person watches while training: a bar per epoch that ends at N/N, then a Keras-like epoch line."""

from __future__ import annotations

import re

import pytest

from convlens.train import TrainConfig, train

pytestmark = pytest.mark.usefixtures("models_contract")


class _Recorder:
    """A reporter that keeps every bar's total and advances, and every message."""

    def __init__(self) -> None:
        self.bars: list[dict] = []
        self.messages: list[str] = []

    def message(self, text: str, level: str = "info") -> None:
        self.messages.append(text)

    def task(self, description: str, total: int | None = None):
        bar = {"description": description, "total": total, "done": 0, "infos": []}
        self.bars.append(bar)

        class _Task:
            def advance(self, steps: int = 1, info: str = "") -> None:
                bar["done"] += steps
                bar["infos"].append(info)

            def close(self) -> None:
                bar["closed"] = True

        return _Task()


def test_each_epoch_bar_reaches_n_of_n_and_the_epoch_line_follows(image_folder, tmp_path):
    reporter = _Recorder()
    options = {"model": "mnist_cnn", "data": str(image_folder), "out": str(tmp_path / "run"), "image_size": 32}
    train(TrainConfig(**options, batch_size=3, epochs=2, lr=1e-3), reporter=reporter)
    epochs = [b for b in reporter.bars if b["description"].startswith("epoch ")]
    assert [b["description"] for b in epochs] == ["epoch 1/2", "epoch 2/2"]
    for bar in epochs:
        assert bar["total"] == 3 and bar["done"] == 3  # 8 images, batches of 3
        assert bar["infos"][-1].endswith("validating…") and bar["infos"][0].startswith("loss ")
    lines = [m for m in reporter.messages if m.startswith("epoch ")]
    assert len(lines) == 2
    assert re.match(r"epoch 2/2  \d+\.\ds  \d+ms/step  loss \d\.\d{4}  acc .* val_acc \d\.\d{4}", lines[1])
    assert reporter.messages[0].startswith("device ")  # device, precision and threads first
