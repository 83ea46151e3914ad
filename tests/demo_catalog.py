"""A small demo catalog in the fashion set's format (styles.csv + images.zip of <id>.jpg) and a reviews file in
the Women's Clothing Reviews format, generated: enough (text, image) pairs for head training on first start."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from PIL import Image, ImageDraw

COLOURS = {
    "Red": (200, 20, 20),
    "Blue": (20, 20, 200),
    "Green": (20, 170, 20),
    "Black": (12, 12, 12),
    "White": (240, 240, 240),
    "Yellow": (230, 220, 20),
}
# (article type, sub category, gender, review class)
KINDS = [
    ("Dresses", "Dress", "Women", "Dresses"),
    ("Tops", "Topwear", "Women", "Knits"),
    ("Shirts", "Topwear", "Men", ""),
    ("Casual Shoes", "Shoes", "Men", ""),
    ("Handbags", "Bags", "Women", ""),
]
STYLES_HEADER = [
    "id",
    "gender",
    "masterCategory",
    "subCategory",
    "articleType",
    "baseColour",
    "season",
    "year",
    "usage",
    "productDisplayName",
]
REVIEWS_HEADER = [
    "Clothing ID",
    "Age",
    "Title",
    "Review Text",
    "Rating",
    "Recommended IND",
    "Positive Feedback Count",
    "Division Name",
    "Department Name",
    "Class Name",
]


def _photo(rgb: tuple[int, int, int], variant: int) -> bytes:
    image = Image.new("RGB", (60, 80), rgb)
    shade = tuple(255 - c for c in rgb)
    ImageDraw.Draw(image).rectangle(
        [variant % 7 * 6, variant % 5 * 10, variant % 7 * 6 + 12, variant % 5 * 10 + 16], fill=shade
    )
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def write_demo_dir(root: Path, items: int = 240, reviews: int = 60) -> Path:
    """``root/fashion`` (styles.csv, images.zip) and ``root/reviews.csv``; returns ``root``."""
    fashion = root / "fashion"
    fashion.mkdir(parents=True, exist_ok=True)
    rows = []
    with zipfile.ZipFile(fashion / "images.zip", "w") as zf:
        for n in range(items):
            colour, rgb = list(COLOURS.items())[n % len(COLOURS)]
            kind, sub, gender, _ = KINDS[n // len(COLOURS) % len(KINDS)]
            style_id = 1000 + n
            master = "Footwear" if kind == "Casual Shoes" else "Accessories" if kind == "Handbags" else "Apparel"
            rows.append(
                [
                    style_id,
                    gender,
                    master,
                    sub,
                    kind,
                    colour,
                    "Summer",
                    "2012",
                    "Casual",
                    f"{colour} {kind.lower()} style {n}",
                ]
            )
            zf.writestr(f"images/{style_id}.jpg", _photo(rgb, n))
    with open(fashion / "styles.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(STYLES_HEADER)
        writer.writerows(rows)
    with open(root / "reviews.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(REVIEWS_HEADER)
        for n in range(reviews):
            klass = ("Dresses", "Knits")[n % 2]
            writer.writerow(
                [
                    n,
                    30,
                    f"Review {n}",
                    f"Lovely {klass.lower()}, it's {('great', 'fine', 'ok')[n % 3]}",
                    1 + n % 5,
                    1,
                    0,
                    "General",
                    "Tops",
                    klass,
                ]
            )
    return root
