"""Who sees what, the live path through the catalog, and the UI's plain functions, on the fixture catalog."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from recsys.accounts.principal import ADMIN, SHOPPER, Principal
from recsys.service.errors import NotAllowed
from recsys.ui.merchant_opinions import overview, sentences_markdown
from recsys.ui.opinions_panel import summary_markdown
from tests.opinions.conftest import ALICE, BOB
from tests.opinions.fixture_reviews import PILLING, SWEATER, TIGHT


def test_merchant_view_covers_own_items_only(opinion_catalog):
    _, opinions, ids = opinion_catalog
    view = opinions.merchant_view(ALICE)
    assert set(view.items) == {ids[TIGHT], ids[SWEATER]}
    assert {m.item_id for m in opinions.sentences(ALICE, "fit")} <= set(view.items)
    with pytest.raises(NotAllowed):
        opinions.sentences(ALICE, "quality", item_id=ids[PILLING])  # Bob's item
    with pytest.raises(NotAllowed):
        opinions.merchant_view(ALICE, merchant="bob")
    with pytest.raises(NotAllowed):
        opinions.merchant_view(Principal("sam", SHOPPER))
    everyone = opinions.merchant_view(Principal("root", ADMIN))
    assert set(everyone.items) == set(ids.values())


def test_complaints_table_and_sentences_behind_it(opinion_catalog):
    _, opinions, ids = opinion_catalog
    line, complaints, _ = overview(opinions, BOB)
    assert "bob" in line and complaints.iloc[0]["aspect"] == "Quality"  # Bob's top complaint
    top = complaints.iloc[0]
    text = sentences_markdown(opinions, BOB, "Quality", "negative")
    assert text.startswith(f"**{top['complaints']} negative sentences about Quality**")
    assert "not allowed" in sentences_markdown(opinions, ALICE, "Quality", "negative", ids[PILLING])


def test_a_posted_review_reaches_the_summary_and_rising_complaints(opinion_catalog):
    catalog, opinions, ids = opinion_catalog
    catalog.add_review(Principal("late1", SHOPPER), ids[PILLING], 1, "Fell apart", "The seams ripped after one wash.")
    catalog.add_review(Principal("late2", SHOPPER), ids[PILLING], 1, "Holes", "Poor quality, it tore the first day.")
    quality = next(a for a in opinions.item_summary(ids[PILLING]).aspects if a.key == "quality")
    assert any("seams ripped" in m.sentence for m in opinions.sentences(BOB, "quality", "negative"))
    assert quality.negative >= 5
    # every fixture review was posted just now, so all are "recent" and nothing came before: quality rose
    rising = opinions.merchant_view(BOB).rising
    assert (ids[PILLING], "quality") in {(r.item_id, r.aspect) for r in rising}
    # seen from 40 days on, none is recent any more
    assert opinions.merchant_view(BOB, now=datetime.now(UTC) + timedelta(days=40)).rising == []


def test_item_page_panel_shows_headlines_and_quotes(opinion_catalog):
    _, opinions, ids = opinion_catalog
    text = summary_markdown(opinions, ids[TIGHT])
    assert "Fit" in text and "runs small" in text and "“" in text and "similar garments" in text
    assert summary_markdown(opinions, None) == ""
