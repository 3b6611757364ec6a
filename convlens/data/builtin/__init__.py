"""Built-in datasets that need nothing on disk: ``digits`` and ``pets-mini``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from convlens._registry import Registry
from convlens.errors import NotAnImageFolder

if TYPE_CHECKING:
    import numpy as np

builtins: Registry = Registry("built-in dataset")

PETS_MINI_DIR = Path(__file__).resolve().parent / "pets_mini"


@builtins.register(
    "pets-mini", kind="pool", description="100 cats + 100 dogs from Kaggle Dogs vs. Cats, ≤160 px"
)
def pets_mini_path() -> Path:
    """Folder of the ``pets-mini`` pool (``cat.<n>.jpg`` / ``dog.<n>.jpg``), usable as a split SRC."""
    return PETS_MINI_DIR


@builtins.register(
    "digits", kind="arrays", description="scikit-learn's 1,797 real 8x8 digits, upscaled to 28x28"
)
def digits_arrays() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``(images (1797, 28, 28, 1) uint8, labels int64, classes "0".."9")``.

    scikit-learn's digits are 8x8 with values 0–16; they are scaled to 0–255 and upscaled
    bilinearly to 28x28, the MNIST size, so MNIST-sized models run on them.
    """
    import numpy as np
    import torch
    import torch.nn.functional as F
    from sklearn.datasets import load_digits

    bunch = load_digits()
    small = torch.from_numpy(bunch.images.astype(np.float32) * (255.0 / 16.0)).unsqueeze(1)
    big = F.interpolate(small, size=(28, 28), mode="bilinear", align_corners=False)
    images = big.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
    return np.ascontiguousarray(images), bunch.target.astype(np.int64), [str(i) for i in range(10)]


def builtin_pool(name: str) -> Path | None:
    """The folder of a built-in pool such as ``pets-mini``, or ``None`` if ``name`` is not one."""
    if name in builtins and builtins.entry(name).meta.get("kind") == "pool":
        return builtins.get(name)()
    return None


def check_source(spec: str | Path) -> None:
    """Refuse ``spec`` when it is neither an existing path nor a built-in name (a cheap check, no torch), with the
    built-in names and a near-miss hint.

    Raises:
        NotAnImageFolder: nothing by that name.
    """
    name = str(spec)
    if name in builtins or Path(spec).expanduser().exists():
        return
    choices = ", ".join(builtins.names())
    hint = builtins.did_you_mean(name).strip()
    raise NotAnImageFolder(
        f"{spec} is neither a folder nor a built-in dataset ({choices}){'; ' + hint if hint else ''}"
    )
