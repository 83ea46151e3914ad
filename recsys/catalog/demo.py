"""Seeding the demo catalog from the fashion set, with real reviews of similar garments.

The fashion set has no reviews. Women's garments are paired with real reviews from the Women's E-Commerce
Clothing Reviews set whose clothing class matches the article type. They are real reviews of a similar
garment, not of that exact item: each is stored with source ``demo:similar-garment`` and the UI says so.
"""
from __future__ import annotations

import csv
import random
from collections import defaultdict
from pathlib import Path
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from .models import Item, Review

DEMO_REVIEW_SOURCE = "demo:similar-garment"

# Myntra article type -> review set "Class Name"; only close garment matches, women's items only.
ARTICLE_TO_CLASS = {
    "Dresses": "Dresses", "Tops": "Knits", "Tshirts": "Knits", "Shirts": "Blouses", "Tunics": "Blouses",
    "Kurtis": "Blouses", "Sweaters": "Sweaters", "Sweatshirts": "Sweaters", "Jeans": "Jeans",
    "Trousers": "Pants", "Track Pants": "Pants", "Capris": "Pants", "Leggings": "Legwear", "Skirts": "Skirts",
    "Jackets": "Jackets", "Shorts": "Shorts", "Swimwear": "Swim", "Nightdress": "Sleep", "Night suits": "Sleep",
    "Bra": "Intimates", "Lounge Pants": "Lounge", "Shrug": "Layering",
}


def load_reviews_by_class(path: Path) -> dict[str, list[dict]]:
    by_class: dict[str, list[dict]] = defaultdict(list)
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            text = (row.get("Review Text") or "").strip()
            if not text or not row.get("Rating"):
                continue
            by_class[row.get("Class Name") or ""].append(
                {"rating": int(row["Rating"]), "title": (row.get("Title") or "").strip(), "text": text}
            )
    return by_class


def attach_demo_reviews(
    sessions: sessionmaker[Session], reviews_path: Path, *, seed: int = 0,
    progress: Callable[[int, int, str], None] | None = None,
) -> int:
    """Give matching women's items a long-tailed number of real reviews; idempotent. Returns reviews added."""
    if not Path(reviews_path).exists():
        return 0
    by_class = load_reviews_by_class(Path(reviews_path))
    added = 0
    with sessions.begin() as session:
        reviewed = set(session.scalars(select(Review.item_id).where(Review.source == DEMO_REVIEW_SOURCE)))
        items = session.scalars(select(Item).order_by(Item.id)).all()
        for number, item in enumerate(items):
            attrs = item.attributes or {}
            klass = ARTICLE_TO_CLASS.get(attrs.get("articleType", ""))
            if item.id in reviewed or attrs.get("gender") != "Women" or not klass or not by_class.get(klass):
                continue
            # Long-tailed counts, as on a real shop: many items have none, some a few, a few many. Seeded per
            # item so that a re-run draws the same counts and adds nothing.
            rng = random.Random(f"{seed}:{item.external_id}")
            count = min(int(rng.paretovariate(1.2)) - 1, 25)
            for review in rng.sample(by_class[klass], k=min(count, len(by_class[klass]))):
                item.reviews.append(Review(source=DEMO_REVIEW_SOURCE, **review))
                added += 1
        if progress:
            progress(len(items), len(items), f"attached {added} demo reviews")
    return added
