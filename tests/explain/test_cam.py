"""The CAM family: oracle tests (hand-written autograd, pytorch-grad-cam), registry-wide checks, resources."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from convlens.explain.cam import ExplainError, create_explainer, explainers
from convlens.explain.cam.base import normalise_maps

from .conftest import make_tiny

LAYER = "features.3"


def _hand_gradcam(model: nn.Module, x: torch.Tensor, cls: int) -> torch.Tensor:
    """Grad-CAM written out with plain autograd: features, score, grad, mean, weighted sum, ReLU, max-scale."""
    feats = model.features(x).detach().requires_grad_(True)
    score = model.fc(feats.mean(dim=(2, 3)))[:, cls].sum()
    (grad,) = torch.autograd.grad(score, feats)
    cam = torch.relu((grad.mean(dim=(2, 3))[:, :, None, None] * feats).sum(1)).detach()
    return normalise_maps(cam)


def test_gradcam_matches_hand_written_autograd(tiny, images):
    result = create_explainer("gradcam", tiny, layer=LAYER)(images, target=2)
    torch.testing.assert_close(result.maps, _hand_gradcam(tiny, images, 2), atol=1e-5, rtol=0)


def test_gradcam_on_a_gap_net_equals_cam(tiny, images):
    """With GAP + one linear layer, Grad-CAM's weights are W[c]/(h*w): the same map as CAM."""
    grad = create_explainer("gradcam", tiny, layer=LAYER)(images, target=1).maps
    cam = create_explainer("cam", tiny, layer=LAYER)(images, target=1).maps
    torch.testing.assert_close(grad, cam, atol=1e-5, rtol=0)


PEERS = {
    "gradcam": "GradCAM",
    "gradcam++": "GradCAMPlusPlus",
    "xgradcam": "XGradCAM",
    "layercam": "LayerCAM",
    "hirescam": "HiResCAM",
    "scorecam": "ScoreCAM",
}


@pytest.mark.parametrize("method", sorted(PEERS))
def test_matches_pytorch_grad_cam(method, tiny, images):
    pgc = pytest.importorskip("pytorch_grad_cam")
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    targets = [3, 0, 4]
    ours = create_explainer(method, tiny, layer=LAYER)(images, target=targets).maps.numpy()
    with getattr(pgc, PEERS[method])(model=tiny, target_layers=[tiny.features[3]]) as peer:
        theirs = peer(input_tensor=images.clone(), targets=[ClassifierOutputTarget(c) for c in targets])
    assert ours.max() == pytest.approx(1.0)
    np.testing.assert_allclose(ours, theirs, atol=1e-4)


def test_eigencam_matches_pytorch_grad_cam_projection_up_to_sign(tiny, images):
    pytest.importorskip("pytorch_grad_cam")
    from pytorch_grad_cam.utils.svd_on_activations import get_2d_projection

    result = create_explainer("eigencam", tiny, layer=LAYER)(images)
    theirs = get_2d_projection(tiny.features(images).detach().numpy())
    for ours, peer in zip(result.raw.numpy(), theirs):
        assert min(np.abs(ours - peer).max(), np.abs(ours + peer).max()) < 1e-4


@pytest.mark.parametrize("method", explainers.names())
def test_every_explainer_gives_finite_maps_in_unit_range(method, images):
    model = make_tiny()
    x = torch.rand(2, 3, 12, 10)
    result = create_explainer(method, model)(x)
    assert result.maps.shape == (2, 12, 10)
    assert torch.isfinite(result.maps).all()
    assert float(result.maps.min()) >= 0.0 and float(result.maps.max()) <= 1.0
    assert result.layer == LAYER  # automatic: the last conv layer, after its ReLU


def _hook_count(model: nn.Module) -> int:
    return sum(
        len(m._forward_hooks) + len(m._backward_hooks) + len(m._forward_pre_hooks) for m in model.modules()
    )


@pytest.mark.parametrize("method", ["gradcam", "guided-gradcam", "scorecam-fast"])
def test_hooks_removed_and_mode_restored_also_on_errors(method, images):
    model = make_tiny().train()
    model.fc.weight.requires_grad_(True)
    model.features[0].bias.requires_grad_(False)
    before = _hook_count(model)
    create_explainer(method, model)(images)
    assert _hook_count(model) == before and model.training
    with pytest.raises(ExplainError):
        create_explainer(method, model)(images, target=99)
    assert _hook_count(model) == before and model.training
    assert model.fc.weight.requires_grad and not model.features[0].bias.requires_grad
    assert all(p.grad is None for p in model.parameters())


def test_targets_predicted_given_and_per_sample(tiny, images):
    explain = create_explainer("gradcam", tiny)
    predicted = explain(images)
    assert predicted.classes.tolist() == tiny(images).argmax(1).tolist()
    assert explain(images, target=4).classes.tolist() == [4, 4, 4]
    per_sample = explain(images, target=[1, 2, 3])
    assert per_sample.classes.tolist() == [1, 2, 3]
    single = explain(images[1], target=2)
    torch.testing.assert_close(single.maps[0], per_sample.maps[1], atol=1e-5, rtol=0)


def test_single_logit_binary_model_explains_both_classes(images):
    """Class 1 uses +logit, class 0 uses -logit; the class-0 map is the class-1 map of the flipped model."""
    model = make_tiny(num_classes=1)
    flipped = make_tiny(num_classes=1)
    with torch.no_grad():
        flipped.fc.weight.neg_()
        flipped.fc.bias.neg_()
    for method in ("gradcam", "cam", "hirescam"):
        negative = create_explainer(method, model, layer=LAYER)(images, target=0)
        mirror = create_explainer(method, flipped, layer=LAYER)(images, target=1)
        torch.testing.assert_close(negative.maps, mirror.maps, atol=1e-5, rtol=0)
        torch.testing.assert_close(negative.scores, -model(images)[:, 0].detach(), atol=1e-5, rtol=0)
        positive = create_explainer(method, model, layer=LAYER)(images, target=1)
        assert not torch.allclose(positive.maps, negative.maps)
    predicted = create_explainer("gradcam", model)(images).classes
    assert predicted.tolist() == (model(images)[:, 0] > 0).long().tolist()


def test_fast_scorecam_with_all_channels_equals_exact(tiny, images):
    fast = create_explainer("scorecam-fast", tiny)
    fast.top_n = 16  # every channel of the layer
    exact = create_explainer("scorecam", tiny)
    torch.testing.assert_close(fast(images).maps, exact(images).maps, atol=1e-5, rtol=0)


def test_resnet18_layer_is_found_and_bad_layer_names_say_how_to_fix():
    torchvision = pytest.importorskip("torchvision")
    model = torchvision.models.resnet18(weights=None).eval()
    result = create_explainer("gradcam", model)(torch.rand(1, 3, 64, 64))
    assert result.layer == "layer4.1" and result.maps.shape == (1, 64, 64)
    with pytest.raises(Exception, match="choose one of"):
        create_explainer("gradcam", model, layer="nope")(torch.rand(1, 3, 64, 64))


def test_guided_backprop_matches_pytorch_grad_cam(tiny, images):
    pytest.importorskip("pytorch_grad_cam")
    import copy

    from pytorch_grad_cam import GuidedBackpropReLUModel

    ours = create_explainer("guided-backprop", tiny)(images[:1], target=2).extras["gradients"][0]
    theirs = GuidedBackpropReLUModel(copy.deepcopy(tiny))(images[:1].clone(), target_category=2)
    np.testing.assert_allclose(ours.permute(1, 2, 0).numpy(), theirs, atol=1e-6)
    assert np.abs(theirs).max() > 0
