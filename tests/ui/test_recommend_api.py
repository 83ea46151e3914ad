"""The recommendation endpoints over the wire (the real app on a free port, driven with ``gradio_client``)."""

from __future__ import annotations

from sqlalchemy import func, select

from recsys.catalog.models import Interaction
from tests.ui.test_api_access import client, refusal, served  # noqa: F401 - the served app and its client


def count_events(service) -> int:
    with service.sessions() as session:
        return session.scalar(select(func.count()).select_from(Interaction).where(Interaction.event != "impression"))


def test_record_event_then_lists_with_reasons(served, client):  # noqa: F811
    _, service, _ = served
    service.recommendations.fit_now()
    start = client.predict("api-shopper", 6, "", api_name="/for_you")["items"]
    assert len(start) == 6 and all(row["reason"].startswith("new here?") for row in start)
    item = start[0]["item_id"]
    assert client.predict("", "api-shopper", item, "view", "", api_name="/record_event") == {
        "recorded": "view",
        "item_id": item,
    }
    personal = client.predict("api-shopper", 6, "", api_name="/for_you")["items"]
    assert personal and all(row["reason"].startswith("for you") and row["title"] for row in personal)
    lists = client.predict(item, 4, api_name="/item_lists")
    assert set(lists) == {"similar", "bought_together", "also_viewed"} and all(len(v) == 4 for v in lists.values())
    basket = client.predict([item], 4, api_name="/cart_complete")["items"]
    assert len(basket) == 4 and item not in [row["item_id"] for row in basket]


def test_bad_events_are_refused_and_change_nothing(served, client):  # noqa: F811
    _, service, _ = served
    before = count_events(service)
    assert "event must be one of" in refusal(client, "", "api-x", 1, "teleport", "", api_name="/record_event")
    assert "order id" in refusal(client, "", "api-x", 1, "purchase", "", api_name="/record_event")
    assert "does not exist" in refusal(client, "", "api-x", 99999, "view", "", api_name="/record_event")
    assert "does not exist" in refusal(client, 99999, 4, api_name="/item_lists")
    assert count_events(service) == before
