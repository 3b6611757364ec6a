"""convlens.models: one registry of networks under one contract (see docs/ARCHITECTURE.md).

``create(name, num_classes=..., pretrained=..., input_size=...)`` builds any registered network; every model
returns logits and has ``forward_features``, ``forward_head``, ``get_classifier``, ``reset_classifier``,
``layer_names()`` and ``pretrained_cfg``.
"""

from convlens.models import efficientnet_lite, resnet, small, torchvision_zoo, vgg  # noqa: F401  (registers the models)
from convlens.models._factory import create, register_model, registry
from convlens.models.checkpoint import load_checkpoint, save_checkpoint

__all__ = ["create", "load_checkpoint", "register_model", "registry", "save_checkpoint"]
