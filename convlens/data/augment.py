"""Batched data augmentation with the meanings of Keras' ``ImageDataGenerator``.

Each image of a batch gets its own random affine transform (rotation, shift, shear, zoom,
horizontal flip); all of them are applied in one ``grid_sample`` call (bilinear, as Keras'
``order=1``). The matrices follow Keras 3's ``apply_affine_transform``: output pixel ``(x, y)``
reads the input at ``C @ R @ T @ S @ Z @ C^-1 @ (x, y)`` about the image centre, then the flip.

Parameter meanings (as in Keras):
    rotation: degrees; the angle is uniform in ``[-rotation, rotation]``.
    width_shift / height_shift: fractions of the width / height (uniform in ``[-f, f]``); the
        width shift moves columns, the height shift rows, as Keras documents them (Keras 3's code
        applies the sampled height shift along x; for square images and equal ranges, as in the
        book, the two agree in distribution).
    shear: shear angle in degrees, uniform in ``[-shear, shear]``. Keras >= 2.2 reads
        ``shear_range=0.2`` as 0.2 degrees; Keras 2.0/2.1 (the book's) read it as radians,
        about 11.5 degrees. ``Augmentation.preset("book")`` keeps today's Keras meaning.
    zoom: ``z`` means independent row and column factors uniform in ``[1 - z, 1 + z]``; a
        factor above 1 samples a larger area, so the content looks smaller (Keras' convention).
    horizontal_flip: mirror left-right with probability 0.5.
    fill_mode: ``nearest`` (repeat the edge pixel), ``reflect`` or ``constant`` (``cval``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace

import torch
import torch.nn.functional as F

from convlens.errors import ConfigError

_PADDING = {"nearest": "border", "reflect": "reflection", "constant": "zeros"}


@dataclass(frozen=True)
class Augmentation:
    """Random affine augmentation with Keras' parameter meanings (see the module docstring)."""

    rotation: float = 0.0
    width_shift: float = 0.0
    height_shift: float = 0.0
    shear: float = 0.0
    zoom: float | tuple[float, float] = 0.0
    horizontal_flip: bool = False
    vertical_flip: bool = False
    fill_mode: str = "nearest"
    cval: float = 0.0
    interpolation: str = "bilinear"

    def __post_init__(self) -> None:
        if self.fill_mode not in _PADDING:
            raise ConfigError(f"fill_mode must be one of {sorted(_PADDING)}, not {self.fill_mode!r}")
        if self.interpolation not in ("bilinear", "nearest"):
            raise ConfigError(f"interpolation must be 'bilinear' or 'nearest', not {self.interpolation!r}")
        for name in ("rotation", "width_shift", "height_shift", "shear", "cval"):
            if not math.isfinite(getattr(self, name)):
                raise ConfigError(
                    f"augmentation parameter {name} must be a finite number, not {getattr(self, name)}"
                )
        lo, hi = self.zoom_bounds
        if not 0 < lo <= hi < math.inf:
            raise ConfigError(f"zoom must give a range of positive factors; got {self.zoom!r}")

    @classmethod
    def preset(cls, name: str) -> Augmentation:
        """A named preset; ``"book"`` is the seeds' ``ImageDataGenerator`` settings.

        ``"book,rotation=20"`` (a preset with overrides) is accepted too, see :meth:`parse`.
        """
        if "," in name or "=" in name:
            return cls.parse(name)
        try:
            return PRESETS[name]
        except KeyError:
            raise ConfigError(
                f"unknown augmentation preset {name!r}; choose one of: {', '.join(PRESETS)}"
            ) from None

    @classmethod
    def parse(cls, text: str) -> Augmentation:
        """Parse ``"book"``, ``"book,rotation=20,zoom=0.1"`` or ``"rotation=30,horizontal_flip=true"``."""
        parts = [p.strip() for p in text.split(",") if p.strip()]
        base = cls()
        if parts and "=" not in parts[0]:
            base = cls.preset(parts.pop(0))
        return base.with_overrides(dict(_split_pair(p) for p in parts))

    def with_overrides(self, overrides: dict[str, str | float | bool]) -> Augmentation:
        """A copy with some parameters replaced (strings are converted to the field's type)."""
        kinds = {f.name: f.type for f in fields(self)}
        values = {}
        for key, value in overrides.items():
            if key not in kinds:
                raise ConfigError(f"unknown augmentation parameter {key!r}; choose from: {', '.join(kinds)}")
            values[key] = _convert(key, value, getattr(self, key))
        return replace(self, **values)

    @property
    def zoom_bounds(self) -> tuple[float, float]:
        """``(low, high)`` zoom factors."""
        if isinstance(self.zoom, (tuple, list)):
            return float(self.zoom[0]), float(self.zoom[1])
        return 1.0 - float(self.zoom), 1.0 + float(self.zoom)

    @property
    def is_identity(self) -> bool:
        """True when no parameter changes an image."""
        return self == replace(
            Augmentation(), fill_mode=self.fill_mode, cval=self.cval, interpolation=self.interpolation
        )

    def to_dict(self) -> dict:
        """Plain-data form (for configs and reports)."""
        return asdict(self)


PRESETS = {
    "none": Augmentation(),
    "book": Augmentation(
        rotation=40,
        width_shift=0.2,
        height_shift=0.2,
        shear=0.2,
        zoom=0.2,
        horizontal_flip=True,
        fill_mode="nearest",
    ),
    "flip": Augmentation(horizontal_flip=True),
}


def _split_pair(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise ConfigError(f"augmentation override {text!r} must look like name=value")
    key, value = text.split("=", 1)
    return key.strip().replace("-", "_"), value.strip()


def _convert(key: str, value, current):
    if not isinstance(value, str):
        return value
    if isinstance(current, bool):
        return value.lower() in ("1", "true", "yes", "on")
    if key in ("fill_mode", "interpolation"):
        return value
    try:
        return float(value)
    except ValueError:
        raise ConfigError(f"augmentation parameter {key}={value!r} is not a number") from None


def sample_params(
    aug: Augmentation, n: int, generator: torch.Generator | None = None
) -> dict[str, torch.Tensor]:
    """Draw the per-image parameters of ``n`` images, as Keras' ``get_random_transform`` does.

    ``shift_x``/``shift_y`` are fractions of the width/height; ``zoom_x``/``zoom_y`` factors.
    """

    def uniform(lo: float, hi: float) -> torch.Tensor:
        return torch.rand(n, generator=generator, dtype=torch.float64) * (hi - lo) + lo

    zlo, zhi = aug.zoom_bounds
    return {
        "theta": uniform(-aug.rotation, aug.rotation),
        "shift_y": uniform(-aug.height_shift, aug.height_shift),
        "shift_x": uniform(-aug.width_shift, aug.width_shift),
        "shear": uniform(-aug.shear, aug.shear),
        "zoom_x": uniform(zlo, zhi),
        "zoom_y": uniform(zlo, zhi),
        "flip_h": torch.rand(n, generator=generator) < (0.5 if aug.horizontal_flip else 0.0),
        "flip_v": torch.rand(n, generator=generator) < (0.5 if aug.vertical_flip else 0.0),
    }


def identity_params(n: int, **values: float | bool) -> dict[str, torch.Tensor]:
    """Parameters of ``n`` images that change nothing, except the ``values`` given."""
    params = {"theta": 0.0, "shift_x": 0.0, "shift_y": 0.0, "shear": 0.0, "zoom_x": 1.0, "zoom_y": 1.0}
    params.update({k: v for k, v in values.items() if not k.startswith("flip")})
    out = {k: torch.full((n,), float(v), dtype=torch.float64) for k, v in params.items()}
    for flip in ("flip_h", "flip_v"):
        out[flip] = torch.full((n,), bool(values.get(flip, False)))
    return out


def pixel_matrices(params: dict[str, torch.Tensor], height: int, width: int) -> torch.Tensor:
    """``(n, 3, 3)`` matrices mapping output ``(x, y, 1)`` pixel centres to input ``(x, y, 1)``.

    ``x`` is the column and ``y`` the row. As in Keras: ``rotation @ shift @ shear @ zoom``
    about the image centre, then the flips.
    """
    n = params["theta"].shape[0]
    theta, shear = torch.deg2rad(params["theta"]), torch.deg2rad(params["shear"])
    cos, sin = torch.cos(theta), torch.sin(theta)
    rot = _mat(n, [[cos, -sin, 0], [sin, cos, 0]])
    shift = _mat(n, [[1, 0, params["shift_x"] * width], [0, 1, params["shift_y"] * height]])
    shr = _mat(n, [[1, -torch.sin(shear), 0], [0, torch.cos(shear), 0]])
    zoom = _mat(n, [[params["zoom_x"], 0, 0], [0, params["zoom_y"], 0]])
    cx, cy = (width - 1) / 2, (height - 1) / 2
    centre, back = _mat(n, [[1, 0, cx], [0, 1, cy]]), _mat(n, [[1, 0, -cx], [0, 1, -cy]])
    fh, fv = params["flip_h"].double(), params["flip_v"].double()
    flip = _mat(n, [[1 - 2 * fh, 0, (width - 1) * fh], [0, 1 - 2 * fv, (height - 1) * fv]])
    return centre @ rot @ shift @ shr @ zoom @ back @ flip


def _mat(n: int, rows) -> torch.Tensor:
    out = torch.zeros(n, 3, 3, dtype=torch.float64)
    out[:, 2, 2] = 1
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            out[:, i, j] = value
    return out


def grid_theta(pixel: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Pixel ``(x, y)`` matrices as ``affine_grid`` thetas (normalised coordinates, ``align_corners``)."""
    sx, sy = 2.0 / max(width - 1, 1), 2.0 / max(height - 1, 1)
    to_norm = torch.tensor([[sx, 0, -1.0], [0, sy, -1.0], [0, 0, 1.0]], dtype=torch.float64)
    return (to_norm @ pixel @ torch.linalg.inv(to_norm))[:, :2, :]


def augment_batch(
    x: torch.Tensor, aug: Augmentation, generator: torch.Generator | None = None, params: dict | None = None
) -> torch.Tensor:
    """Apply ``aug`` to a float batch ``(B, C, H, W)``; one random transform per image, one warp call.

    Args:
        x: float images, any value range.
        aug: the augmentation.
        generator: random source (CPU ``torch.Generator``) for reproducible batches.
        params: explicit parameters (as from :func:`sample_params`) instead of random ones.
    """
    if aug.is_identity and params is None:
        return x
    b, _, h, w = x.shape
    params = params if params is not None else sample_params(aug, b, generator)
    theta = grid_theta(pixel_matrices(params, h, w), h, w).to(device=x.device, dtype=torch.float32)
    grid = F.affine_grid(theta, [b, 1, h, w], align_corners=True)
    src = x if aug.fill_mode != "constant" or aug.cval == 0 else x - aug.cval
    out = F.grid_sample(
        src.float(), grid, mode=aug.interpolation, padding_mode=_PADDING[aug.fill_mode], align_corners=True
    )
    out = out if aug.fill_mode != "constant" or aug.cval == 0 else out + aug.cval
    return out.to(x.dtype)


def describe(aug: Augmentation) -> str:
    """One line, e.g. ``rotation ±40°, shift 0.2/0.2, shear 0.2°, zoom 0.8-1.2, h-flip``."""
    if aug.is_identity:
        return "none"
    lo, hi = aug.zoom_bounds
    bits = [
        f"rotation ±{aug.rotation:g}°",
        f"shift {aug.width_shift:g}/{aug.height_shift:g}",
        f"shear ±{aug.shear:g}°",
        f"zoom {lo:g}-{hi:g}",
    ]
    bits += ["h-flip"] * aug.horizontal_flip + ["v-flip"] * aug.vertical_flip
    return ", ".join(bits) + f", fill {aug.fill_mode}"
