"""RECSYS_DEMO=instacart: the grocery catalog (no images, "department > aisle") and whole users' real baskets, up
to demo_orders orders, seeded once through the normal importers."""

from __future__ import annotations

import pandas as pd
import pytest

from recsys.catalog import reads
from recsys.catalog.demo import read_seed_state
from recsys.service.catalog import CatalogService
from tests.evaluation import fixtures


@pytest.mark.parametrize(("orders", "users"), [(6, {"1"}), (7, {"1", "2"})])
def test_the_instacart_demo_seeds_its_products_and_whole_users_orders_once(settings, tmp_path, orders, users):
    folder = fixtures.write_instacart(tmp_path / "shared", n_users=4)  # users 1-4 with 4, 3, 4, 3 orders
    settings = settings.replace(demo="instacart", instacart_dir=folder, demo_limit=1, demo_orders=orders)
    service = CatalogService(settings)
    try:
        report = service.seed_demo()
        lines = pd.read_csv(folder / "order_products.csv")
        assert report is not None and report.rejected == []
        assert report.added == lines["product_id"].nunique()  # every ordered product, none of the others
        with service.sessions() as session:
            baskets = reads.baskets(session)
            owners = reads.basket_owners(session)
        assert {owner for owner, _ in owners.values()} == users  # whole users' orders, as many as fit
        assert len(baskets) == sum({"1": 4, "2": 3}[u] for u in users)
        assert sum(map(len, baskets.values())) == int(lines["user_id"].astype(str).isin(users).sum())
        item = service.browse(text="number 11").items[0]
        assert item.category == "dairy > tea" and not item.images  # department 2, aisle 3
        assert read_seed_state(settings.data_dir)["state"] == "done"
        assert service.seed_demo() is None  # once
        assert len(service.browse().items) and service.stats()["interactions"] == sum(map(len, baskets.values()))
    finally:
        service.close()


def test_an_unknown_demo_seeds_nothing(settings, tmp_path):
    service = CatalogService(settings.replace(demo="groceries", demo_limit=1))
    try:
        assert service.seed_demo() is None and service.stats()["items"] == 0
    finally:
        service.close()
