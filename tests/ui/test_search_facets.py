"""Facets show their top values with a "More" button; items without images appear in the Catalog gallery."""

from recsys.accounts.principal import SYSTEM
from recsys.search.filters import Facets
from recsys.ui import catalog_tab
from recsys.ui.placeholder import placeholder_image
from recsys.ui.search_facets import FACET_SHOWN, choices, facet_counts_state, facet_updates, toggle

TYPES = [(f"Type {n}", 100 - n) for n in range(12)]


def test_a_search_shows_the_top_values_and_a_more_button():
    counts = facet_counts_state(Facets({"category": TYPES, "gender": [("Men", 5), ("Women", 3)]}))
    boxes, buttons = facet_updates(counts, {"category": ["Type 10"]})
    category = [value for _, value in boxes[0]["choices"]]
    assert category == [f"Type {n}" for n in range(FACET_SHOWN)] + ["Type 10"]  # a ticked value stays visible
    assert "value" not in boxes[0]  # the ticks are the page's: a late answer never re-ticks a cleared box
    assert buttons[0] == {"__type__": "update", "value": f"More ({12 - FACET_SHOWN})", "visible": True}
    assert buttons[1]["visible"] is False and buttons[2]["visible"] is False  # nothing more to show
    assert boxes[1]["choices"] == [("Men (5)", "Men"), ("Women (3)", "Women")]


def test_more_unfolds_every_value_and_fewer_folds_them():
    counts = facet_counts_state(Facets({"category": TYPES}))
    box, button, unfolded = toggle("category", counts, ["Type 1"], {})
    assert len(box["choices"]) == 12 and box["value"] == ["Type 1"] and button["value"] == "Fewer"
    assert unfolded == {"category": True}
    box, button, unfolded = toggle("category", counts, [], unfolded)
    assert len(box["choices"]) == FACET_SHOWN and button["value"] == "More (4)" and unfolded == {"category": False}


def test_a_ticked_value_no_candidate_has_is_kept_with_zero():
    assert choices([("Shirts", 3)], ["Heels"], False) == [("Shirts (3)", "Shirts"), ("Heels (0)", "Heels")]


def test_the_catalog_gallery_shows_items_without_images(small_search_service):
    service = small_search_service
    item = service.add_item(SYSTEM, {"title": "Imageless catalog lamp", "category": "Home > Lamps"}, [])
    assert service.engine.wait_idle()  # indexed before it is deleted again
    try:
        entries, ids, label, _ = catalog_tab.browse(service, 1, "Imageless catalog lamp", "", "")
        assert ids == [item.id] and entries == [(placeholder_image(), f"#{item.id} Imageless catalog lamp")]
        assert label.startswith("1 items")
    finally:
        service.delete_item(SYSTEM, item.id)
        assert service.engine.wait_idle()
