"""Seeding the demo catalog from the fashion set, with real reviews of similar garments.

The fashion set has no reviews. Women's garments are paired with real reviews from the Women's E-Commerce
Clothing Reviews set whose clothing class matches the article type. They are real reviews of a similar
garment, not of that exact item: each is stored with source ``demo:similar-garment`` and the UI says so.

Seeding is resumable: a marker file in the data dir says "seeding" before the first write and "done" after the
last, each written atomically. A start that finds "seeding" (the last one was killed) runs the seed again: the
import upserts by id, so it adds only what is missing, and attaching reviews is idempotent.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import random
import tempfile
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from recsys.catalog.models import Item, Merchant, Review
from recsys.catalog.validation import validate_review

log = logging.getLogger(__name__)
DEMO_REVIEW_SOURCE = "demo:similar-garment"
DEMO_MERCHANT = "demo"
SEED_MARKER = "demo-seed.json"

# Myntra article type -> review set "Class Name"; only close garment matches, women's items only.
ARTICLE_TO_CLASS = {
    "Dresses": "Dresses",
    "Tops": "Knits",
    "Tshirts": "Knits",
    "Shirts": "Blouses",
    "Tunics": "Blouses",
    "Kurtis": "Blouses",
    "Sweaters": "Sweaters",
    "Sweatshirts": "Sweaters",
    "Jeans": "Jeans",
    "Trousers": "Pants",
    "Track Pants": "Pants",
    "Capris": "Pants",
    "Leggings": "Legwear",
    "Skirts": "Skirts",
    "Jackets": "Jackets",
    "Shorts": "Shorts",
    "Swimwear": "Swim",
    "Nightdress": "Sleep",
    "Night suits": "Sleep",
    "Bra": "Intimates",
    "Lounge Pants": "Lounge",
    "Shrug": "Layering",
}


def read_seed_state(data_dir: Path) -> dict[str, Any] | None:
    """The seed marker's content, or None when there is none (never seeded, or seeded before markers)."""
    try:
        state = json.loads((Path(data_dir) / SEED_MARKER).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {"state": "seeding"}  # unreadable: seed again, which is safe
    return state if isinstance(state, dict) else {"state": "seeding"}


def write_seed_state(data_dir: Path, state: dict[str, Any]) -> None:
    """Replace the marker atomically (temp file, fsync, rename): a reader sees the old state or the new one."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=data_dir, prefix=".demo-seed-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(state, fh, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, data_dir / SEED_MARKER)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_reviews_by_class(path: Path) -> dict[str, list[dict]]:
    """Reviews by clothing class, each through ``validate_review`` like any other review; bad rows are skipped."""
    by_class: dict[str, list[dict]] = defaultdict(list)
    skipped = 0
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            text = (row.get("Review Text") or "").strip()
            if not text:
                continue
            problems: list[str] = []
            review = validate_review({"rating": row.get("Rating"), "title": row.get("Title"), "text": text}, problems)
            if review is None:
                skipped += 1
                continue
            by_class[row.get("Class Name") or ""].append(
                {"rating": review.rating, "title": review.title, "text": review.text}
            )
    if skipped:
        log.info("skipped %d demo reviews that fail the review rules", skipped)
    return by_class


def attach_demo_reviews(
    sessions: sessionmaker[Session],
    reviews_path: Path,
    *,
    seed: int = 0,
    merchant: str | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> int:
    """Give matching women's items (of ``merchant`` only, when given) a long-tailed number of real reviews;
    idempotent (one transaction; an item that has them is skipped). Returns reviews added."""
    if not Path(reviews_path).is_file():
        return 0
    by_class = load_reviews_by_class(Path(reviews_path))
    added = 0
    with sessions.begin() as session:
        reviewed = set(session.scalars(select(Review.item_id).where(Review.source == DEMO_REVIEW_SOURCE)))
        query = select(Item).order_by(Item.id)
        if merchant is not None:
            query = query.join(Merchant).where(Merchant.name == merchant)
        items = session.scalars(query).all()
        for item in items:
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
