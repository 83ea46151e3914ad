"""Image validation and a content-addressed image store.

Images are checked before anything is written: size cap in bytes, Pillow ``verify`` then a full ``load``
(catches truncated files), a pixel cap against decompression bombs, and an allow-list of formats.
Files are stored once per SHA-256 under ``<data_dir>/images/ab/abcdef....<ext>``, written atomically.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from recsys.catalog.plain_text import kind_of
from recsys.catalog.validation import InvalidInput, check_image_count

ImageInput = bytes | str | Path
ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif", "BMP": "bmp"}


class ImageRejected(ValueError):
    """The bytes are not an acceptable image; the message says why, for the merchant."""


@dataclass(frozen=True)
class CheckedImage:
    data: bytes  # empty once the bytes are in the image store (see ``without_data``)
    sha256: str
    format: str
    width: int
    height: int

    @property
    def extension(self) -> str:
        return ALLOWED_FORMATS[self.format]

    def without_data(self) -> CheckedImage:
        return CheckedImage(b"", self.sha256, self.format, self.width, self.height)


def check_image(data: bytes, *, max_bytes: int, max_pixels: int) -> CheckedImage:
    if not data:
        raise ImageRejected("empty file")
    if len(data) > max_bytes:
        raise ImageRejected(f"file is {len(data) / 2**20:.1f} MiB, over the {max_bytes / 2**20:.0f} MiB limit")
    try:
        # Only the accepted formats are even tried: no TIFF/PSD/EPS decoders (EPS would run Ghostscript).
        with Image.open(io.BytesIO(data), formats=list(ALLOWED_FORMATS)) as probe:
            fmt = probe.format
            width, height = probe.size
            # Size comes from the header: refuse bombs before decoding a single pixel.
            if width * height > max_pixels:
                raise ImageRejected(
                    f"{width}x{height} pixels is over the {max_pixels:,} pixel limit (decompression-bomb guard)"
                )
            probe.verify()
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(ALLOWED_FORMATS)) as full:
                full.load()  # verify() misses truncated pixel data; a full decode does not
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow refuses the largest bombs at open(), before our own header check runs.
        raise ImageRejected(f"over the {max_pixels:,} pixel limit (decompression-bomb guard: {exc})") from None
    except UnidentifiedImageError:
        raise ImageRejected("not a recognised image file (accepted: JPEG, PNG, WebP, GIF, BMP)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageRejected(f"image cannot be decoded ({exc})") from None
    if fmt not in ALLOWED_FORMATS:  # Pillow names no format for some odd files; the store needs one
        raise ImageRejected("not a recognised image file (accepted: JPEG, PNG, WebP, GIF, BMP)")
    return CheckedImage(data=data, sha256=hashlib.sha256(data).hexdigest(), format=fmt, width=width, height=height)


def check_uploads(
    images: Sequence[ImageInput], *, already: int, max_images: int, max_bytes: int, max_pixels: int
) -> list[CheckedImage]:
    """Uploaded images (bytes, or paths to files) checked one by one; raises ``InvalidInput`` with a reason per
    bad one. ``already``: images the item keeps, counted against ``max_images``."""
    if isinstance(images, (bytes, str, Path)) or not isinstance(images, Sequence):
        raise InvalidInput([f"images must be a list of image files or bytes, not {kind_of(images)}"])
    problems: list[str] = []
    check_image_count(already + len(images), max_images, problems)
    if problems:
        raise InvalidInput(problems)
    checked = []
    for number, image in enumerate(images, start=1):
        if not isinstance(image, (bytes, str, Path)):
            problems.append(f"image {number} must be a file path or bytes, not {kind_of(image)}")
            continue
        name = Path(image).name if isinstance(image, (str, Path)) else f"image {number}"
        try:
            checked.append(check_image(_read_upload(image, max_bytes), max_bytes=max_bytes, max_pixels=max_pixels))
        except ImageRejected as exc:
            problems.append(f"{name}: {exc}")
        except (OSError, ValueError) as exc:  # a directory, a missing file, a NUL in the path
            problems.append(f"{name}: cannot be read ({getattr(exc, 'strerror', None) or exc})")
    if problems:
        raise InvalidInput(problems)
    return checked


def _read_upload(image: bytes | str | Path, max_bytes: int) -> bytes:
    if isinstance(image, bytes):
        return image
    size = Path(image).stat().st_size
    if size > max_bytes:
        raise ImageRejected(f"file is {size / 2**20:.1f} MiB, over the {max_bytes / 2**20:.0f} MiB limit")
    with open(image, "rb") as fh:
        return fh.read(max_bytes + 1)  # check_image refuses it if the file grew past the cap


class ImageStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def relative_path(self, image: CheckedImage) -> str:
        return f"{image.sha256[:2]}/{image.sha256}.{image.extension}"

    def put(self, image: CheckedImage) -> str:
        """Store the bytes once; return the path relative to the store root."""
        rel = self.relative_path(image)
        target = self.root / rel
        if target.exists():
            try:
                os.utime(target)  # "in use again": image_gc keeps files touched within its grace period
            except FileNotFoundError:  # removed by a sweep just now: write it again below
                pass
            else:
                return rel
        if not image.data:
            raise ValueError(f"image {image.sha256} is neither stored nor carries its bytes")
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(image.data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)  # atomic: a reader sees the whole file or none
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return rel

    def path(self, rel: str) -> Path:
        return self.root / rel
