"""Looking inside a network, in memory: its layers, the activations of one photo, filter patterns of a layer.

The file-based actions (:func:`convlens.service.activations`, :func:`convlens.service.filters`) write PNG files
for the CLI; these return arrays for a server or a notebook, built on the same library pieces.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from convlens import _reporting
from convlens._reporting import Reporter, use_reporter
from convlens.errors import ConfigError
from convlens.models.loaded import LoadedModel

PER_ROW = 16  # channels per row of an activation grid (the seeds' images_per_row)
FILTER_CHUNK = 8  # filters optimised together between two progress steps


@dataclass
class LayerActivation:
    """One layer's output for one photo.

    Attributes:
        layer: the layer name.
        shape: ``(C, H, W)`` of the output.
        grid: uint8 ``(rows * H, PER_ROW * W)``: every channel normalised as the seeds do, ``PER_ROW`` a row.
        channels: float32 ``(C, H, W)``: the raw output, for one-channel views (:func:`channel_image`).
    """

    layer: str
    shape: tuple[int, int, int]
    grid: np.ndarray
    channels: np.ndarray


def spatial_layers(loaded: LoadedModel, limit: int = 200) -> list[str]:
    """The named layers with a spatial ``(B, C, H, W)`` output, in forward order (the names ``--layer`` takes)."""
    import torch

    from convlens.explain.activations import default_layers

    _, height, width = loaded.cfg.get("input_size", (3, 224, 224))
    probe = torch.zeros(1, loaded.channels, int(height), int(width), device=loaded.device)
    with loaded.lock:
        return default_layers(loaded.model, probe, count=limit)


def photo_activations(
    loaded: LoadedModel, photo: np.ndarray, layers: list[str] | None = None, count: int = 8
) -> list[LayerActivation]:
    """One photo through the network: the outputs of ``layers`` (default the first ``count`` spatial ones)."""
    from convlens.explain.activations import capture_activations, channel_grid, default_layers
    from convlens.models.preprocess import model_input

    if not 1 <= count <= 64:
        raise ConfigError(f"count must be 1-64 layers; got {count}")
    x = model_input(photo, loaded.cfg)[None].to(loaded.device)
    with loaded.lock:
        names = layers or default_layers(loaded.model, x, count)
        acts = capture_activations(loaded.model, x, names)
    found = []
    for name, act in acts.items():
        if act.ndim != 4:
            continue
        channels = act[0].float().cpu().numpy()
        found.append(LayerActivation(name, tuple(channels.shape), channel_grid(act[0], PER_ROW), channels))
    return found


def channel_image(activation: LayerActivation, channel: int, min_side: int = 256) -> np.ndarray:
    """One channel coloured with viridis (the seeds' ``matshow``), enlarged to at least ``min_side`` pixels."""
    import torch

    from convlens.explain.activations import channel_view, upscale

    if not 0 <= channel < activation.shape[0]:
        raise ConfigError(f"channel {channel} is out of range: layer {activation.layer} has 0..{activation.shape[0] - 1}")
    return upscale(channel_view(torch.from_numpy(activation.channels[channel])), min_side)


def filter_patterns(
    loaded: LoadedModel,
    layer: str | None = None,
    count: int = 64,
    size: int = 64,
    steps: int = 40,
    reporter: Reporter | None = None,
) -> tuple[str, np.ndarray]:
    """The seeds' filter patterns (gradient ascent from grey noise) of the first ``count`` filters of a layer
    (fewer when the layer has fewer), as an 8-a-row grid with 5-px margins: ``(layer, uint8 grid)``.

    Filters are optimised ``FILTER_CHUNK`` at a time (the same math as all at once), so a reporter sees
    progress and may stop the work between chunks by raising :class:`convlens.errors.Cancelled`.
    """
    import torch

    from convlens.explain.activations import capture_activations
    from convlens.explain.filters import grey_noise, middle_conv_layer, pattern_grid, seed_patterns

    if not (1 <= count <= 256 and 8 <= size <= 256 and 1 <= steps <= 1000):
        raise ConfigError("filter patterns need count 1-256, size 8-256 and steps 1-1000")
    with use_reporter(reporter), loaded.lock:
        # the probe runs the whole network, so it has the network's input size (a flatten layer needs it);
        # the patterns themselves stop at the layer and may have any size
        _, height, width = loaded.cfg.get("input_size", (loaded.channels, size, size))
        probe = torch.rand(1, loaded.channels, int(height), int(width), device=loaded.device)
        name = layer or middle_conv_layer(loaded.model, probe)
        output = capture_activations(loaded.model, probe, [name]).get(name)
        if output is None or output.ndim != 4:
            raise ConfigError(f"layer {name} has no spatial output (channels x height x width); choose a conv layer")
        count = min(count, int(output.shape[1]))
        noise = grey_noise(count, loaded.cfg, size)
        chunks = [list(range(i, min(count, i + FILTER_CHUNK))) for i in range(0, count, FILTER_CHUNK)]
        patterns = [
            seed_patterns(loaded.model, name, chunk, loaded.cfg, size, steps, init=noise[chunk[0] : chunk[-1] + 1])
            for chunk in _reporting.track(chunks, f"filter patterns of {name}")
        ]
    return name, pattern_grid(np.concatenate(patterns))
