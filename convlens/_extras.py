"""Optional features check their extra's packages up front and say how to install them."""

from __future__ import annotations

import importlib

from convlens.errors import MissingExtra

EXTRAS: dict[str, tuple[str, ...]] = {
    "export": ("onnx", "onnxruntime", "onnxscript"),
    "tensorboard": ("tensorboard",),
}


def require_extra(extra: str, purpose: str) -> None:
    """Import every package of ``extra``; raise :class:`MissingExtra` naming the missing ones and the fix.

    Args:
        extra: a key of :data:`EXTRAS` (``export``, ``tensorboard``).
        purpose: what needs them, for the message (``ONNX export``).
    """
    missing = []
    for module in EXTRAS[extra]:
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise MissingExtra(
            f"{purpose} needs {', '.join(EXTRAS[extra])} (missing: {', '.join(missing)}): "
            f"pip install 'convlens[{extra}]'"
        )
