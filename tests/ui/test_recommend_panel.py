"""The Search tab's recommendation events on a real service over the small catalog: "For you", the opened item's
lists, the demo cart and "Complete your basket"."""

from __future__ import annotations

from sqlalchemy import select

from recsys.catalog.models import Interaction
from recsys.ui import recommend_panel as panel
from recsys.ui.app import build_app
from recsys.ui.i18n import english


def events_of(service, shopper: str) -> list[tuple[int, str, str | None]]:
    with service.sessions() as session:
        rows = session.execute(
            select(Interaction.item_id, Interaction.event, Interaction.order_id)
            .where(Interaction.session_id == shopper)
            .order_by(Interaction.id)
        ).all()
    return [tuple(r) for r in rows]


def test_shopper_id_is_kept_once_stored():
    assert panel.shopper_id("abc123") == "abc123"
    fresh = panel.shopper_id("")
    assert len(fresh) == 32 and fresh != panel.shopper_id(None)


def test_for_you_opened_item_lists_cart_and_buy(small_search_service):
    service = small_search_service
    service.recommendations.fit_now()
    shown, rows, note = panel.for_you(service, "panel-shopper")
    assert len(shown) == service.settings.for_you_items and "every kind" in english(note)
    assert all(caption.endswith(row["reason"]) for (_, caption), row in zip(shown, rows))

    dress = next(r["item_id"] for r in rows if "dress" in service.get_item(r["item_id"]).title)
    out = panel.opened(service, dress, "panel-shopper")
    similar, similar_rows, bought, bought_rows, viewed, viewed_rows, for_you, for_you_rows, note = out
    assert similar and bought and viewed  # content neighbours from the index, the others from the hypergraph
    assert dress not in [r["item_id"] for r in similar_rows + bought_rows + viewed_rows]
    assert all(r["reason"] for r in similar_rows + bought_rows + viewed_rows)
    assert "looked at" in english(note) and all(r["reason"].startswith("for you") for r in for_you_rows)
    assert events_of(service, "panel-shopper") == [(dress, "view", None)]

    markdown, images, opened_id = panel.open_listed(service, bought_rows, 0)
    assert opened_id == bought_rows[0]["item_id"] and bought_rows[0]["reason"] in markdown

    cart, cart_md, complete, complete_rows, message = panel.add_to_cart(service, dress, [], "panel-shopper")
    cart, cart_md, complete, complete_rows, message = panel.add_to_cart(service, opened_id, cart, "panel-shopper")
    assert cart == [dress, opened_id] and "Your cart" in cart_md and complete
    assert not {dress, opened_id} & {r["item_id"] for r in complete_rows}
    cart, cart_md, complete, _, message = panel.buy(service, cart, "panel-shopper")
    assert cart == [] and complete == [] and "placed: 2 items" in message
    purchases = [e for e in events_of(service, "panel-shopper") if e[1] == "purchase"]
    assert [e[0] for e in purchases] == [dress, opened_id] and len({e[2] for e in purchases}) == 1


def test_bad_cart_input_changes_nothing(small_search_service):
    service = small_search_service
    cart, _, _, _, message = panel.add_to_cart(service, None, [], "panel-empty")
    assert cart == [] and "Open an item" in message
    cart, _, _, _, message = panel.add_to_cart(service, 99999, [], "panel-empty")
    assert cart == [] and "does not exist" in message
    cart, _, _, _, message = panel.buy(service, [], "panel-empty")
    assert "empty" in message and events_of(service, "panel-empty") == []


def test_the_app_builds_with_the_panel(small_search_service):
    with build_app(small_search_service) as demo:
        ids = {getattr(block, "elem_id", None) for block in demo.blocks.values()}
    assert {"for-you", "list-bought-together", "list-also-viewed", "list-similar", "complete-basket"} <= ids
