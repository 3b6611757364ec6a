"""A reusable corpus of bad and odd inputs, for any command that reads images.

``build_corpus(tmp)`` writes, under ``tmp/corpus``:

- ``files/``: one class-folder dataset. Class ``b`` holds three plain images; class ``a`` holds
  three plain images plus one entry per *file-level* case (zero-byte, truncated, text named
  ``.jpg``, links, odd modes, odd names ...).
- ``outside/``: targets of the links that lead out of ``files/`` (not part of any dataset).
- ``folders/<kind>/``: one small dataset per *folder-level* case (empty class folder, class only
  in validation ...). A few cases name a path that is a file or does not exist.

Each :class:`Case` says what a command must do with it:

- ``load`` (``resolve_dataset``, ``load_images``, train/evaluate on the folder):
  file cases: ``usable`` (loaded), ``skipped`` (left out and reported with ``reason``) or
  ``ignored`` (hidden files: left out silently); folder cases: ``usable`` or ``error`` (a
  :class:`~convlens.errors.ConvlensError` of type ``error`` whose message holds ``reason``).
- a command given one file case *alone* (predict, explain): ``usable`` ones work, every other one
  is a typed error, never a traceback.
- ``split`` (``convlens split`` of the folder): file cases ``placed``, ``skipped`` (reported with
  ``split_reason``) or ``ignored``; folder cases ``usable`` or ``error``.

Kinds that cannot be made here are left out, not faked: unreadable files and folders when running
as root (root reads everything), FIFOs where ``os.mkfifo`` is missing, undecodable file names on
file systems that refuse them. :func:`tree_digest` hashes a whole tree (names, modes, contents,
link targets) so a test can prove that nothing the user gave was changed.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from PIL import Image

from convlens.errors import DataError, NotAnImageFolder, SplitError

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@dataclass(frozen=True)
class Case:
    """One kind of bad or odd input, where it lies, and what a command must do with it."""

    kind: str
    path: Path
    level: str  # "file" (inside files/a/) or "folder" (a dataset of its own)
    load: str  # file: usable | skipped | ignored; folder: usable | error
    reason: str = ""  # fragment of the skip reason or error message when not usable
    split: str = ""  # file: placed | skipped | ignored; folder: usable | error
    split_reason: str = ""
    error: type[Exception] | None = None  # folder cases that fail to load
    split_error: type[Exception] | None = None
    alone: str = ""  # file cases given alone to a command: usable | error (default: from ``load``)

    def __post_init__(self) -> None:
        if self.level == "file" and not self.alone:
            object.__setattr__(self, "alone", "usable" if self.load == "usable" else "error")


@dataclass
class Corpus:
    """The corpus on disk and its cases."""

    root: Path
    files_root: Path
    outside: Path
    cases: list[Case] = field(default_factory=list)
    good: list[Path] = field(default_factory=list)  # the plain images of files/a and files/b

    def file_cases(self) -> list[Case]:
        return [c for c in self.cases if c.level == "file"]

    def folder_cases(self) -> list[Case]:
        return [c for c in self.cases if c.level == "folder"]

    def case(self, kind: str) -> Case:
        return next(c for c in self.cases if c.kind == kind)


def build_corpus(tmp: Path, leave_out: frozenset[str] | set[str] = frozenset()) -> Corpus:
    """Write the corpus under ``tmp/corpus`` and return its cases (about 80 kinds).

    ``leave_out``: kinds not to write (e.g. ``{"non-UTF-8 name"}`` for a front end that is known
    not to cope yet, so that the other kinds are still checked).
    """
    root = Path(tmp) / "corpus"
    corpus = Corpus(root, root / "files", root / "outside")
    for cls, color in (("a", (200, 40, 40)), ("b", (40, 40, 200))):
        for i in range(3):
            corpus.good.append(_image(corpus.files_root / cls / f"good{i}.jpg", color=color))
    (corpus.files_root / "README.txt").write_text("a note beside the class folders\n")
    corpus.outside.mkdir(parents=True)
    for maker in (_content_cases, _type_cases, _link_cases, _odd_valid_cases, _name_cases):
        corpus.cases += maker(corpus.files_root / "a", corpus.outside)
    corpus.cases += _folder_cases(root / "folders", corpus.outside)
    unknown = set(leave_out) - {c.kind for c in corpus.cases}
    if unknown:
        raise ValueError(f"no such corpus kind(s): {sorted(unknown)}")
    for case in [c for c in corpus.cases if c.kind in leave_out]:
        _remove(case.path)
        corpus.cases.remove(case)
    return corpus


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


# --- writing images -------------------------------------------------------------------------


def _image(path: Path, size=(24, 18), color=(200, 40, 40), mode="RGB", fmt=None, **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    w, h = size
    ramp = np.linspace(0.5, 1, w)[None, :, None]
    arr = np.repeat((np.array(color, float)[None, None] * ramp).astype(np.uint8), h, axis=0)
    Image.fromarray(arr, "RGB").convert(mode).save(path, format=fmt, **kw)
    return path


def _encoded(fmt: str, size=(24, 18), mode="RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, 90).save(buf, fmt)
    return buf.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_bomb(side: int = 100_000) -> bytes:
    """A valid PNG header claiming side x side pixels, with a tiny body (never decoded)."""
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64))


def _gif_bomb() -> bytes:
    """A GIF whose logical screen is 65535 x 65535 pixels."""
    screen = b"GIF89a" + struct.pack("<HH", 65535, 65535) + b"\x80\x00\x00" + bytes(6)
    return screen + b"," + struct.pack("<HHHH", 0, 0, 1, 1) + b"\x00\x02\x02\x44\x01\x00;"


def _bad_crc_png() -> bytes:
    data = bytearray(_encoded("PNG"))
    data[data.index(b"IDAT") + 4] ^= 0xFF
    return bytes(data)


# --- file-level cases (all in files/a/) -----------------------------------------------------


def _bytes_case(
    folder: Path, kind: str, name: str, data: bytes, reason: str, split="placed", split_reason=""
):
    path = folder / name
    path.write_bytes(data)
    return Case(
        kind, path, "file", "skipped", reason, split, split_reason or (reason if split != "placed" else "")
    )


def _content_cases(folder: Path, _outside: Path) -> list[Case]:
    """Files with an image extension whose content is not a usable image (split copies them)."""
    jpeg, png = _encoded("JPEG"), _encoded("PNG")
    rows = [
        ("zero-byte", "zero.jpg", b"", "empty file"),
        ("truncated jpeg", "trunc.jpg", jpeg[: len(jpeg) // 2], "truncated"),
        ("truncated png", "trunc.png", png[:60], "truncated"),
        ("png with a bad crc", "crc.png", _bad_crc_png(), "truncated or corrupt"),
        ("text named .jpg", "notes.jpg", b"hello, I am not a picture\n" * 20, "not an image"),
        ("html named .jpg", "page.jpg", b"<!doctype html><html><body>404</body></html>", "not an image"),
        ("svg named .png", "vector.png", b'<svg xmlns="http://www.w3.org/2000/svg"/>', "not an image"),
        ("zip named .png", "archive.png", b"PK\x03\x04" + bytes(60), "not an image"),
        ("garbage after jpeg magic", "junk.jpeg", b"\xff\xd8\xff\xe0" + bytes(200), "not an image"),
        ("png decompression bomb", "bomb.png", _png_bomb(), "decompression bomb"),
        ("gif decompression bomb", "bomb.gif", _gif_bomb(), "decompression bomb"),
        (
            "ppm claiming 100000x100000",
            "huge.pgm",
            b"P5 100000 100000 255\n" + bytes(10),
            "decompression bomb",
        ),
        ("ppm with too little data", "short.ppm", b"P6 2 2 65535\n" + b"\xff" * 3, "truncated"),
    ]
    return [_bytes_case(folder, *row) for row in rows]


def _type_cases(folder: Path, _outside: Path) -> list[Case]:
    """Entries that are not image files at all: the listing leaves them out (and says why)."""
    cases = [
        _bytes_case(
            folder,
            "Thumbs.db",
            "Thumbs.db",
            b"\xd0\xcf\x11\xe0" + bytes(60),
            "unsupported file type",
            "skipped",
        ),
        _bytes_case(
            folder,
            "unsupported extension",
            "photo.heic",
            b"\0\0\0\x18ftypheic",
            "unsupported file type",
            "skipped",
        ),
        _bytes_case(
            folder, "non-image file", "labels.csv", b"file,label\n", "unsupported file type", "skipped"
        ),
        replace(  # JPEG content: a command given this file alone may decode it
            _bytes_case(folder, "no extension", "cat5", _encoded("JPEG"), "unsupported file type", "skipped"),
            alone="usable",
        ),
    ]
    (folder / ".DS_Store").write_bytes(b"\0\0\0\x01Bud1" + bytes(40))
    cases.append(Case(".DS_Store", folder / ".DS_Store", "file", "ignored", split="ignored"))
    (folder / "._good0.jpg").write_bytes(b"\0\x05\x16\x07" + bytes(80))  # macOS AppleDouble twin
    cases.append(Case("AppleDouble ._ file", folder / "._good0.jpg", "file", "ignored", split="ignored"))
    sub = folder / "folder.jpg"
    _image(sub / "inner.jpg")
    cases.append(
        Case("folder named x.jpg", sub, "file", "skipped", "a sub-folder", "skipped", "a sub-folder")
    )
    if hasattr(os, "mkfifo"):
        os.mkfifo(folder / "pipe.jpg")  # reading it would block forever
        cases.append(
            Case(
                "fifo named .jpg",
                folder / "pipe.jpg",
                "file",
                "skipped",
                "not a regular file",
                "skipped",
                "not a regular file",
            )
        )
    if not IS_ROOT:
        locked = _image(folder / "locked.jpg")
        locked.chmod(0)
        cases.append(
            Case(
                "unreadable file",
                locked,
                "file",
                "skipped",
                "permission denied",
                "skipped",
                "permission denied",
            )
        )
    return cases


def _link_cases(folder: Path, outside: Path) -> list[Case]:
    """Symbolic and hard links: inside the tree, out of it, dangling, looping, to a device."""
    outside_image = _image(outside / "real.png", color=(20, 160, 20))
    secret = outside / "secret.txt"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    _link(folder / "link_in.jpg", Path("good1.jpg"))
    _link(folder / "link_to_text.jpg", Path("..") / "README.txt")
    _link(folder / "link_out.png", outside_image)
    _link(folder / "link_out_secret.jpg", secret)
    _link(folder / "dangling.jpg", folder / "no-such-file.jpg")
    _link(folder / "loop.jpg", Path("loop.jpg"))
    _link(folder / "devnull.jpg", Path(os.devnull))
    os.link(folder / "good2.jpg", folder / "hardlink.jpg")
    out = "outside SRC"
    return [
        Case("symlink to an image inside the tree", folder / "link_in.jpg", "file", "usable", split="placed"),
        Case(
            "symlink to a non-image inside the tree",
            folder / "link_to_text.jpg",
            "file",
            "skipped",
            "not an image",
            "placed",
        ),
        Case(
            "symlink to an image outside the tree",
            folder / "link_out.png",
            "file",
            "usable",
            "",
            "skipped",
            out,
        ),
        Case(
            "symlink to a non-image outside the tree",
            folder / "link_out_secret.jpg",
            "file",
            "skipped",
            "not an image",
            "skipped",
            out,
        ),
        Case(
            "dangling symlink",
            folder / "dangling.jpg",
            "file",
            "skipped",
            "broken symbolic link",
            "skipped",
            "broken symbolic link",
        ),
        Case(
            "symlink loop",
            folder / "loop.jpg",
            "file",
            "skipped",
            "broken symbolic link",
            "skipped",
            "broken symbolic link",
        ),
        Case(
            "symlink to a device",
            folder / "devnull.jpg",
            "file",
            "skipped",
            "not a regular file",
            "skipped",
            "not a regular file",
        ),
        Case("hard link to an image", folder / "hardlink.jpg", "file", "usable", split="placed"),
    ]


def _link(path: Path, target: Path) -> None:
    path.symlink_to(target)


def _odd_valid_cases(folder: Path, _outside: Path) -> list[Case]:
    """Unusual but valid images: every loader must decode them to the right shape."""
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees to view
    bad_exif = Image.Exif()
    bad_exif[0x0112] = 9  # not a valid orientation
    writers: list[tuple[str, str, Callable[[Path], object]]] = [
        ("CMYK jpeg", "cmyk.jpg", lambda p: _image(p, mode="CMYK")),
        ("CMYK tiff", "cmyk.tif", lambda p: _image(p, mode="CMYK")),
        ("grey jpeg", "grey.jpg", lambda p: _image(p, mode="L")),
        ("1-bit png", "bits.png", lambda p: _image(p, mode="1")),
        ("palette png", "palette.png", lambda p: _image(p, mode="P")),
        ("palette png with transparency", "ptrans.png", lambda p: _image(p, mode="P", transparency=0)),
        ("LA png", "la.png", lambda p: _image(p, mode="LA")),
        ("RGBA png", "rgba.png", lambda p: _image(p, mode="RGBA")),
        ("16-bit png", "deep.png", lambda p: Image.fromarray(np.full((18, 24), 40000, np.uint16)).save(p)),
        (
            "32-bit integer tiff",
            "int32.tif",
            lambda p: Image.fromarray(np.full((18, 24), 70000, np.int32), "I").save(p),
        ),
        (
            "float tiff",
            "float.tif",
            lambda p: Image.fromarray(np.full((18, 24), 0.5, np.float32), "F").save(p),
        ),
        ("16-bit ppm", "deep.ppm", lambda p: p.write_bytes(b"P6 2 2 65535\n" + b"\x80\x00" * 12)),
        ("EXIF-rotated jpeg", "rotated.jpg", lambda p: _image(p, exif=exif)),
        ("invalid EXIF orientation", "badexif.jpg", lambda p: _image(p, exif=bad_exif)),
        ("progressive jpeg", "progressive.jpg", lambda p: _image(p, progressive=True)),
        (
            "jpeg with trailing garbage",
            "trailing.jpg",
            lambda p: p.write_bytes(_encoded("JPEG") + b"\0garbage" * 50),
        ),
        ("1x1 image", "dot.png", lambda p: _image(p, size=(1, 1))),
        ("extremely wide 20000x1", "wide.png", lambda p: _image(p, size=(20000, 1))),
        ("extremely tall 1x20000", "tall.png", lambda p: _image(p, size=(1, 20000))),
        ("png content named .jpg", "really_png.jpg", lambda p: _image(p, fmt="PNG")),
        ("jpeg content named .png", "really_jpeg.png", lambda p: _image(p, fmt="JPEG")),
        ("upper-case extension", "SHOUT.JPG", lambda p: _image(p)),
        ("animated gif", "anim.gif", lambda p: _animated_gif(p)),
        ("bmp", "plain.bmp", lambda p: _image(p)),
        ("webp", "modern.webp", lambda p: _image(p)),
        ("tiff", "scan.tiff", lambda p: _image(p)),
    ]
    cases = []
    for kind, name, write in writers:
        write(folder / name)
        cases.append(Case(kind, folder / name, "file", "usable", split="placed"))
    return cases


def _animated_gif(path: Path) -> None:
    frames = [Image.new("P", (24, 18), i * 40) for i in range(3)]
    frames[0].save(path, save_all=True, append_images=frames[1:])


def _name_cases(folder: Path, _outside: Path) -> list[Case]:
    """Valid images whose names are hostile to terminals, HTML, shells or encodings."""
    names = {
        "name with spaces": "my cat photo.jpg",
        "unicode name": "고양이 🐱 café.jpg",
        "newline in name": "two\nlines.jpg",
        "rich markup in name": "[bold red]loud [link=mailto:a@b.c]click.jpg",
        "html in name": "<img src=x onerror=alert(1)>.jpg",
        "terminal escape in name": "\x1b[31mred\x1b[0m.jpg",
        "leading dash": "-rf.jpg",
        "very long name": "n" * 251 + ".jpg",  # 255 bytes, the most a file name may have
        "quotes and backslash": 'it\'s "quoted" \\ back.jpg',
    }
    cases = []
    for kind, name in names.items():
        cases.append(Case(kind, _image(folder / name), "file", "usable", split="placed"))
    try:  # bytes that are not UTF-8 (Linux allows them; some file systems refuse)
        raw = Path(os.fsdecode(os.fsencode(folder) + b"/latin1-\xe9t\xe9.jpg"))
        cases.append(Case("non-UTF-8 name", _image(raw), "file", "usable", split="placed"))
    except (OSError, UnicodeError):
        pass
    return cases


# --- folder-level cases (each a dataset of its own under folders/) --------------------------


def _folder_cases(base: Path, outside: Path) -> list[Case]:
    cases = []

    def make(kind: str, layout: dict[str, str], **expect) -> None:
        root = base / kind.replace(" ", "-")
        root.mkdir(parents=True)
        for rel, what in layout.items():
            path = root / rel
            if what == "dir":
                path.mkdir(parents=True, exist_ok=True)
            elif what == "image":
                _image(path)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(what.encode())
        cases.append(Case(kind, root, "folder", **expect))

    ok = {"load": "usable", "split": "usable"}
    two = {"a/x0.png": "image", "a/x1.png": "image", "b/y0.png": "image", "b/y1.png": "image"}
    split_layout = {f"train/{k}": v for k, v in two.items()} | {
        "validation/a/v.png": "image",
        "validation/b/w.png": "image",
    }
    already = {"split": "error", "split_error": SplitError, "split_reason": "already split"}

    make("plain class folders", two, **ok)
    make(
        "empty class folder",
        {"a/x0.png": "image", "b": "dir"},
        load="error",
        error=NotAnImageFolder,
        reason="holds no image",
        split="error",
        split_error=SplitError,
        split_reason="holds no image",
    )
    make(
        "class with only bad files",
        {"a/x0.png": "image", "b/zero.jpg": "", "b/t.jpg": "text"},
        load="error",
        error=DataError,
        reason="none could be read",
        split="usable",
    )
    make(
        "class with only non-image files",
        {"a/x0.png": "image", "b/notes.txt": "x"},
        load="error",
        error=NotAnImageFolder,
        reason="holds no image",
        split="error",
        split_error=SplitError,
        split_reason="holds no image",
    )
    make(
        "nested class folder",
        {"a/x0.png": "image", "b/more/y.png": "image"},
        load="error",
        error=NotAnImageFolder,
        reason="holds no image",
        split="error",
        split_error=SplitError,
        split_reason="holds no image",
    )
    make(
        "empty root",
        {},
        load="error",
        error=NotAnImageFolder,
        reason="no class sub-folders",
        split="error",
        split_error=SplitError,
        split_reason="no image files",
    )
    make(
        "only hidden folders",
        {".cache/x.png": "image"},
        load="error",
        error=NotAnImageFolder,
        reason="no class sub-folders",
        split="error",
        split_error=SplitError,
        split_reason="no image files",
    )
    make(
        "pool of non-image files",
        {"a.txt": "x", "b.csv": "y"},
        load="error",
        error=NotAnImageFolder,
        reason="no class sub-folders",
        split="error",
        split_error=SplitError,
        split_reason="no image files",
    )
    make(
        "flat pool with a sub-folder",
        {
            "cat.1.jpg": "image",
            "cat.2.jpg": "image",
            "dog.1.jpg": "image",
            "dog.2.jpg": "image",
            "cat.3.jpg": "image",
            "dog.3.jpg": "image",
            "extra/cat.9.jpg": "image",
        },
        **ok,
    )
    make("split folders", split_layout, load="usable", **already)
    make(
        "class only in validation",
        split_layout | {"validation/c/z.png": "image"},
        load="error",
        error=DataError,
        reason="train lacks",
        **already,
    )
    make(
        "split folder with no classes",
        split_layout | {"test": "dir"},
        load="error",
        error=NotAnImageFolder,
        reason="no class sub-folders",
        **already,
    )
    make(
        "validation and val both",
        split_layout | {"val/a/q.png": "image"},
        load="error",
        error=DataError,
        reason="two spellings",
        **already,
    )
    make(
        "no train split",
        {"test/a/x.png": "image", "test/b/y.png": "image"},
        load="error",
        error=NotAnImageFolder,
        reason="no train/ folder",
        **already,
    )
    make(
        "file named train",
        {"train": "not a folder", "validation/a/x.png": "image", "validation/b/y.png": "image"},
        load="error",
        error=NotAnImageFolder,
        reason="a file named train",
        **already,
    )
    markup = {
        "[bold]b [link=mailto:a@b.c]x/x.png": "image",
        "new\nline/y.png": "image",
        "\x1b[31mred/z.png": "image",
        "<img src=x onerror=alert(1)>/w.png": "image",
    }
    make("odd class names", markup, **ok)
    make(
        "class folder linked from outside",
        {"a/x0.png": "image", "a/x1.png": "image"},
        load="usable",
        split="error",
        split_error=SplitError,
        split_reason="outside SRC",
    )
    _image(outside / "cls" / "o0.png")
    _link(base / "class-folder-linked-from-outside" / "b", outside / "cls")
    if not IS_ROOT:
        make(
            "unreadable class folder",
            two,
            load="error",
            error=DataError,
            reason="permission denied",
            split="error",
            split_error=DataError,
            split_reason="permission denied",
        )
        (base / "unreadable-class-folder" / "b").chmod(0)
    file_spec = _image(base / "a-single-image.png")
    cases.append(
        Case(
            "a file instead of a folder",
            file_spec,
            "folder",
            "error",
            "is a file",
            "error",
            "not a folder",
            NotAnImageFolder,
            SplitError,
        )
    )
    cases.append(
        Case(
            "missing folder",
            base / "no-such-folder",
            "folder",
            "error",
            "neither a folder",
            "error",
            "not a folder",
            NotAnImageFolder,
            SplitError,
        )
    )
    return cases


# --- proving that nothing changed -----------------------------------------------------------


def tree_digest(root: Path) -> str:
    """SHA-256 over every entry under ``root``: name, type, mode, size, mtime, content, link target.

    Links are not followed and pipes are never opened; unreadable files count by their metadata.
    """
    digest = hashlib.sha256()
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        for name in sorted(dirs + files):
            path = os.path.join(folder, name)
            st = os.lstat(path)
            rel = os.fsencode(os.path.relpath(path, root))
            digest.update(rel + b"\0" + f"{st.st_mode:o} {st.st_size} {st.st_mtime_ns}".encode())
            if stat.S_ISLNK(st.st_mode):
                digest.update(os.fsencode(os.readlink(path)))
            elif stat.S_ISREG(st.st_mode) and os.access(path, os.R_OK):
                with open(path, "rb") as fh:
                    digest.update(hashlib.sha256(fh.read()).digest())
    return digest.hexdigest()
