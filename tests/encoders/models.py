"""Shared helpers for encoder and training tests: one MiniLM per test process, tiny colour images."""

from __future__ import annotations

from functools import lru_cache

from PIL import Image, ImageDraw

from recsys.encoders.text import TextEncoder

# Distinct named colours: titles carry the word, images the colour, so a trained joint space must link them.
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 20, 30),
    "green": (30, 160, 40),
    "blue": (30, 60, 220),
    "yellow": (245, 225, 30),
    "black": (10, 10, 10),
    "white": (250, 250, 250),
    "orange": (250, 140, 20),
    "purple": (120, 40, 160),
    "pink": (250, 150, 190),
    "brown": (120, 70, 30),
    "grey": (128, 128, 128),
    "navy": (10, 20, 90),
    "maroon": (110, 10, 30),
    "olive": (110, 120, 30),
    "teal": (20, 128, 128),
    "cyan": (40, 230, 240),
    "magenta": (230, 30, 200),
    "beige": (225, 210, 170),
    "gold": (210, 170, 40),
    "lime": (160, 240, 40),
    "lavender": (190, 170, 240),
    "turquoise": (60, 210, 190),
    "coral": (250, 120, 100),
    "khaki": (190, 180, 120),
    "mustard": (200, 160, 20),
    "peach": (250, 200, 160),
    "charcoal": (50, 55, 60),
    "cream": (250, 245, 215),
    "silver": (190, 195, 200),
    "indigo": (70, 30, 140),
}


@lru_cache(maxsize=1)
def shared_text_encoder() -> TextEncoder:
    return TextEncoder(device="cpu")


def garment_image(colour: tuple[int, int, int], size: tuple[int, int] = (60, 80)) -> Image.Image:
    """A 60x80 'product photo': a coloured shirt shape on white, like the catalog's studio shots."""
    image = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.polygon(
        [
            (w * 0.3, h * 0.1),
            (w * 0.7, h * 0.1),
            (w * 0.95, h * 0.3),
            (w * 0.8, h * 0.4),
            (w * 0.75, h * 0.9),
            (w * 0.25, h * 0.9),
            (w * 0.2, h * 0.4),
            (w * 0.05, h * 0.3),
        ],
        fill=colour,
    )
    return image
