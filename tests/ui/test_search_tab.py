"""The Search tab's event functions on a real service over the small generated catalog."""

import io

from PIL import Image
from sqlalchemy import func, select

from recsys.catalog.models import Interaction
from recsys.ui import search_tab
from tests.small_catalog import COLOURS, photo


def test_text_search_fills_gallery_status_and_facets(small_search_service):
    entries, hits, status, counts, unfolded, categories, genders, colours, *more = search_tab.run_search(
        small_search_service, "red cotton shirt", None, [], [], [], None, None, "ui-1"
    )
    assert entries and entries[0][1].split(" · ")[:2] == [f"#{hits[0]['item_id']} Red cotton shirt", "15.00 USD"]
    assert entries[0][1].endswith("text match")  # which part of the query it matched
    assert len(hits) == len(entries) and "results from" in status and "ranker" in status
    assert dict(counts["category"])["Shirts"] == 6 and unfolded == {}
    assert [button["visible"] for button in more] == [False, False, False]  # 5 kinds, 2 genders, 6 colours: no "More"
    assert ("Shirts (6)", "Shirts") in categories["choices"]
    assert any(value == "Men" for _, value in genders["choices"])


def test_facet_selection_filters_and_stays_ticked(small_search_service):
    entries, hits, _, _, _, categories, *_ = search_tab.run_search(
        small_search_service, "cotton", None, ["Watches"], [], [], 0, 0, "ui-2"
    )
    assert len(hits) == 6 and all("watch" in caption for _, caption in entries)
    assert "value" not in categories and ("Watches (6)", "Watches") in categories["choices"]  # stays shown


def test_image_search_and_empty_query(small_search_service):
    image = Image.open(io.BytesIO(photo(COLOURS["yellow"])))
    entries, _, _, *_ = search_tab.run_search(small_search_service, "", image, [], [], [], None, None, "ui-3")
    assert "Yellow" in entries[0][1]
    entries, hits, status, *_ = search_tab.run_search(small_search_service, "  ", None, [], [], [], None, None, "ui-3")
    assert entries == [] and "Type a query" in status


def test_opening_a_result_shows_detail_and_logs_a_click(small_search_service):
    _, hits, *_ = search_tab.run_search(small_search_service, "black watch", None, [], [], [], None, None, "ui-4")
    markdown, images, item_id, clicked = search_tab.open_result(small_search_service, hits, 1, "ui-4")
    assert clicked == [item_id]
    assert item_id == hits[1]["item_id"] and images and "route similarities" in markdown
    with small_search_service.sessions() as session:
        clicks = session.execute(
            select(Interaction.item_id, Interaction.position).where(
                Interaction.session_id == "ui-4", Interaction.event == "click"
            )
        ).all()
    assert clicks == [(item_id, 2)]
    entries, similar_hits, status = search_tab.more_like_this(small_search_service, item_id)
    assert entries and item_id not in [h["item_id"] for h in similar_hits]
    search_tab.open_result(small_search_service, similar_hits, 0, "ui-4")  # not a search result: no click logged
    with small_search_service.sessions() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(Interaction)
                .where(Interaction.session_id == "ui-4", Interaction.event == "click")
            )
            == 1
        )
