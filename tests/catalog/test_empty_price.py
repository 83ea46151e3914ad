"""An empty price is no price (None), never 0.00: through the service calls the API makes, and through an update."""

import pytest

from recsys.accounts.principal import MERCHANT, Principal

SHOP = Principal("shop", MERCHANT)


@pytest.mark.parametrize("fields", [{"title": "Tee"}, {"title": "Tee", "price": None}, {"title": "Tee", "price": " "}])
def test_an_item_added_without_a_price_has_none(service, fields):
    item = service.add_item(SHOP, fields)
    assert item.price is None and item.price_label == ""
    assert service.get_item(item.id).price is None


def test_clearing_a_price_stores_none_and_zero_stays_a_price(service):
    item = service.add_item(SHOP, {"title": "Tee", "price": "12.50"})
    assert service.update_item(SHOP, item.id, {"price": ""}).price is None
    assert service.update_item(SHOP, item.id, {"price": 0}).price == 0.0
    assert service.update_item(SHOP, item.id, {"title": "Renamed tee"}).price == 0.0  # untouched fields stay
