"""Regenerate the ``pets-mini`` built-in from the Kaggle Dogs vs. Cats pool.

Usage: ``python -m convlens.data.builtin.make_pets_mini /path/to/dogs-vs-cats/raw``

Takes ids 1900–1999 of each class (the end of the book's test split, never its training
split), applies EXIF orientation, shrinks so the longest side is at most 160 px and saves
JPEG quality 85 under the same names.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image, ImageOps

from convlens._io import write_with_atomic
from convlens.data.builtin import PETS_MINI_DIR

IDS = range(1900, 2000)
LONGEST_SIDE = 160
QUALITY = 85


def make_pets_mini(raw: Path, out: Path = PETS_MINI_DIR) -> int:
    """Write the pool into ``out``; returns the number of images written."""
    written = 0
    for cls in ("cat", "dog"):
        for i in IDS:
            name = f"{cls}.{i}.jpg"
            with Image.open(raw / name) as im:
                small = ImageOps.exif_transpose(im).convert("RGB")
                small.thumbnail((LONGEST_SIDE, LONGEST_SIDE), Image.Resampling.LANCZOS)
                write_with_atomic(
                    out / name, lambda p, img=small: img.save(p, "JPEG", quality=QUALITY, optimize=True)
                )
                written += 1
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw", type=Path, help="folder with cat.<n>.jpg / dog.<n>.jpg")
    args = parser.parse_args()
    count = make_pets_mini(args.raw)
    total = sum(p.stat().st_size for p in PETS_MINI_DIR.glob("*.jpg"))
    print(f"wrote {count} images, {total / 1e6:.2f} MB, into {PETS_MINI_DIR}")


if __name__ == "__main__":
    main()
