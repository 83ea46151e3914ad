"""A catalog with the fixture reviews, and an opinion model trained on them with the real MiniLM vectors."""

from __future__ import annotations

import pytest

from recsys.accounts.principal import MERCHANT, SHOPPER, Principal
from recsys.config import Settings
from recsys.service.catalog import CatalogService
from recsys.service.opinions import Opinions
from tests.opinions.fixture_reviews import PILLING, PLAIN, REVIEWS, SWEATER, TIGHT

MINILM = "sentence-transformers/all-MiniLM-L6-v2"
ALICE, BOB = Principal("alice", MERCHANT), Principal("bob", MERCHANT)
OWNER = {TIGHT: ALICE, SWEATER: ALICE, PILLING: BOB, PLAIN: BOB}


def fill_fixture_catalog(catalog: CatalogService) -> dict[str, int]:
    """The fixture items (owned as in OWNER) and their reviews; item id by fixture name."""
    ids = {
        name: catalog.add_item(owner, {"title": name.title(), "category": "Apparel > Tops", "price": 20}, []).id
        for name, owner in OWNER.items()
    }
    for k, (name, rating, title, text) in enumerate(REVIEWS):
        catalog.add_review(Principal(f"shopper{k}", SHOPPER), ids[name], rating, title, text)
    return ids


@pytest.fixture(scope="module")
def opinion_catalog(tmp_path_factory):
    """(catalog service, opinions service, item id by fixture name); opinions built (trained on these reviews)."""
    root = tmp_path_factory.mktemp("opinions")
    settings = Settings.from_env(
        {
            "data_dir": root / "data",
            "demo_dir": root / "no-demo",
            "demo_limit": 0,
            "demo_reviews_path": root / "no-reviews.csv",  # train on the catalog's own reviews
            # these fixture tests were written against MiniLM; on 18 reviews the multilingual default misses one
            # polarity call ("The fabric is scratchy and itchy." P(positive) 0.45, neutral), so MiniLM is named
            # here and test_multilingual_opinions.py covers the multilingual model
            "opinion_text_model": MINILM,
        },
        environ={},
    )
    catalog = CatalogService(settings)
    ids = fill_fixture_catalog(catalog)
    opinions = Opinions(catalog.store, settings)
    opinions.build()
    yield catalog, opinions, ids
    catalog.close()
