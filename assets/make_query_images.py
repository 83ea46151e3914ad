"""Draws the example query images shipped in assets/ (our own drawings, no third-party photos).

    python assets/make_query_images.py
"""
from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent


def canvas() -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", (240, 320), (245, 245, 245))
    return image, ImageDraw.Draw(image)


def dress(colour) -> Image.Image:
    image, draw = canvas()
    draw.polygon([(95, 40), (145, 40), (150, 120), (200, 290), (40, 290), (90, 120)], fill=colour)
    draw.rectangle([100, 20, 110, 45], fill=colour)
    draw.rectangle([130, 20, 140, 45], fill=colour)
    return image


def shirt(colour) -> Image.Image:
    image, draw = canvas()
    draw.polygon([(70, 60), (100, 45), (140, 45), (170, 60), (215, 120), (185, 140), (170, 115), (170, 290),
                  (70, 290), (70, 115), (55, 140), (25, 120)], fill=colour)
    draw.polygon([(100, 45), (120, 80), (140, 45)], fill=(235, 235, 235))
    for y in range(95, 280, 35):
        draw.ellipse([116, y, 124, y + 8], fill=(230, 230, 230))
    return image


def sneaker(colour) -> Image.Image:
    image, draw = canvas()
    draw.polygon([(30, 200), (60, 150), (120, 140), (150, 170), (215, 190), (215, 225), (30, 225)], fill=colour)
    draw.rectangle([30, 225, 215, 245], fill=(250, 250, 250), outline=(180, 180, 180))
    for x in range(80, 140, 15):
        draw.line([(x, 155), (x + 10, 175)], fill=(250, 250, 250), width=3)
    return image


if __name__ == "__main__":
    dress((190, 25, 40)).save(HERE / "query-red-dress.jpg", quality=90)
    shirt((30, 45, 110)).save(HERE / "query-navy-shirt.jpg", quality=90)
    sneaker((30, 30, 30)).save(HERE / "query-black-sneaker.jpg", quality=90)
