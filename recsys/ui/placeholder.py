"""The neutral "no image" picture shown for an item that has no images, so it still appears in every gallery.

Drawn with PIL at first use and written once to the system temp directory: Gradio serves files from there without an
``allowed_paths`` entry, wherever the package is installed.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

PLACEHOLDER_SIZE = 256
_BACKGROUND = (236, 236, 236)
_INK = (150, 150, 150)
# The file name carries a version: a changed drawing gets a new file, never a stale cached one.
_FILE_NAME = f"taillift-no-image-v1-{PLACEHOLDER_SIZE}.png"


def draw_placeholder(size: int = PLACEHOLDER_SIZE) -> Image.Image:
    """A light grey square with a framed landscape pictogram and the words "no image"."""
    picture = Image.new("RGB", (size, size), _BACKGROUND)
    draw = ImageDraw.Draw(picture)
    line = max(2, size // 64)
    left, top, right, bottom = size * 0.25, size * 0.2, size * 0.75, size * 0.6
    draw.rectangle((left, top, right, bottom), outline=_INK, width=line)
    # A mountain and a sun inside the frame: the usual "picture" sign, readable at thumbnail size.
    draw.polygon(
        [(left + line, bottom - line), (size * 0.42, size * 0.38), (size * 0.55, bottom - line)],
        fill=_INK,
    )
    draw.ellipse((size * 0.6, size * 0.27, size * 0.68, size * 0.35), fill=_INK)
    font = ImageFont.load_default(size=max(10, size // 9))  # Pillow >= 10.1: the scalable default font
    text = "no image"
    box = draw.textbbox((0, 0), text, font=font)
    width = box[2] - box[0]
    draw.text(((size - width) / 2, size * 0.68), text, fill=_INK, font=font)
    return picture


def placeholder_image() -> str:
    """The path of the placeholder PNG: drawn again if the file is gone (temp cleaners), written atomically so
    concurrent apps never read half a file."""
    path = Path(tempfile.gettempdir()) / _FILE_NAME
    if not path.is_file():
        partial = path.with_name(f"{path.name}.{os.getpid()}.part")
        draw_placeholder().save(partial, format="PNG")
        os.replace(partial, path)
    return str(path)
