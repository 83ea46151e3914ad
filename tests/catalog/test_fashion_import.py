"""The real fashion set imports through the bulk path with its preset (data-heavy: marked slow)."""

import pytest

from recsys.accounts.principal import SYSTEM
from recsys.catalog.demo import DEMO_REVIEW_SOURCE, attach_demo_reviews
from recsys.service.catalog import CatalogService

pytestmark = pytest.mark.slow


def test_fashion_preset_imports_5000_items_idempotently(settings, real_data):
    service = CatalogService(settings)
    fashion = real_data / "fashion"
    report = service.import_bundle(SYSTEM, fashion / "styles.csv", fashion / "images.zip", preset="fashion", limit=5000)
    assert report.ok and report.total_rows == 5000
    assert report.added + len(report.rejected) == 5000 and report.added >= 4990
    assert all(e.reasons for e in report.rejected)  # every rejection says why (e.g. an empty title)
    stats = service.stats()
    assert stats["items"] == report.added and stats["images"] == report.added
    again = service.import_bundle(SYSTEM, fashion / "styles.csv", fashion / "images.zip", preset="fashion", limit=5000)
    assert again.added == 0 and again.unchanged == report.added
    item = service.browse(text="Navy Blue").items[0]
    assert " > " in item.category and item.attributes["baseColour"]

    added = attach_demo_reviews(service.sessions, real_data / "reviews" / "womens_clothing_reviews.csv")
    assert added > 100
    assert attach_demo_reviews(service.sessions, real_data / "reviews" / "womens_clothing_reviews.csv") == 0
    with service.sessions() as session:
        from sqlalchemy import select

        from recsys.catalog.models import Item, Review

        rows = session.execute(select(Item.attributes, Review.source).join(Review)).all()
    assert rows and all(source == DEMO_REVIEW_SOURCE and attrs["gender"] == "Women" for attrs, source in rows)
