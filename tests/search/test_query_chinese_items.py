"""A merchant's Chinese-titled item is found by Chinese and English queries; the Search tab's understood chips."""

from __future__ import annotations

import pytest

from recsys.accounts.principal import MERCHANT, Principal
from recsys.search.types import SearchRequest
from recsys.ui import search_tab
from tests.small_catalog import photo

SHOP = Principal("zh-shop", MERCHANT)


@pytest.fixture(scope="module")
def chinese_item(small_search_service):
    service = small_search_service
    item = service.add_item(
        SHOP,
        {
            "title": "女士紫色真丝连衣裙",  # women's purple silk dress: no English word in it
            "description": "夏季新款",
            "category": "服装 > 连衣裙",
            "price": 320,
            "attributes": {"baseColour": "Purple", "articleType": "Dresses", "gender": "Women"},
        },
        [photo((120, 20, 140))],
    )
    assert service.engine.wait_idle()
    yield item
    service.delete_item(SHOP, item.id)
    assert service.engine.wait_idle()


@pytest.mark.parametrize("text", ["紫色连衣裙", "紫色真丝", "500元以下的紫色连衣裙", "purple dress"])
def test_a_chinese_titled_item_is_found_in_both_languages(small_search_service, chinese_item, text):
    response = small_search_service.search(SearchRequest(text=text, k=5, log=False))
    assert response.hits[0].item_id == chinese_item.id


def test_english_titled_items_answer_a_chinese_query(small_search_service, chinese_item):
    response = small_search_service.search(SearchRequest(text="红色连衣裙", k=3, log=False))
    items = small_search_service.get_items([h.item_id for h in response.hits], with_reviews=False)
    assert items[response.hits[0].item_id].title == "Red cotton dress"
    assert [u.key for u in response.understood] == ["colour:red", "type:dresses"]
    assert "matches the query's colour, type" in response.hits[0].explanation


def test_chips_show_what_was_understood_and_removing_one_searches_without_it(small_search_service):
    args = ("红色衬衫", None, [], [], [], None, None, "chips")
    *outputs, chips, state = search_tab.run_search_with_chips(small_search_service, *args)
    hits = outputs[1]
    assert [value for _, value in chips["choices"]] == ["colour:red", "type:shirts"]
    assert chips["value"] == ["colour:red", "type:shirts"] and chips["visible"]
    titles = (
        lambda hits: [  # noqa: E731
            small_search_service.get_item(h["item_id"]).title for h in hits[:6]
        ]
    )
    assert titles(hits)[0] == "Red cotton shirt"

    state = search_tab.chips_changed(state, ["type:shirts"])  # the shopper unticks the colour
    assert state["ignored"] == ["colour:red"]
    *outputs, chips, state = search_tab.run_search_with_chips(small_search_service, *args, chips=state)
    assert chips["value"] == ["type:shirts"]  # the colour chip stays, unticked, so it can come back
    assert [value for _, value in chips["choices"]] == ["type:shirts", "colour:red"]
    shown = titles(outputs[1])
    assert all(t.endswith("shirt") for t in shown) and {t.split()[0] for t in shown} != {"Red"}  # all shirts

    state = search_tab.chips_changed(state, ["type:shirts", "colour:red"])  # ticked again
    *outputs, chips, state = search_tab.run_search_with_chips(small_search_service, *args, chips=state)
    assert chips["value"] == ["colour:red", "type:shirts"] and titles(outputs[1])[0] == "Red cotton shirt"
