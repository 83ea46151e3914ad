"""The instacart suite reads its orders through the app's importers: what comes back from the throwaway catalog
is the files' orders exactly (ids, users, order numbers, products), whatever order the order ids run in."""

from __future__ import annotations

import pandas as pd

from recsys.evaluation import instacart_data, instacart_import
from tests.evaluation import fixtures


def _sorted(lines: pd.DataFrame) -> pd.DataFrame:
    return lines.sort_values(["order_id", "product_id"]).reset_index(drop=True)[
        ["order_id", "user_id", "order_number", "product_id"]
    ]


def test_imported_orders_are_the_files_orders(tmp_path):
    data = fixtures.write_instacart(tmp_path / "data", n_users=5)
    # Order ids that run against the order numbers, all of a user's orders on the same day at the same hour:
    # the order numbers must still come back from the made-up times.
    path = data / "order_products.csv"
    raw = pd.read_csv(path)
    raw.assign(order_id=9000 - raw["order_id"], days_since_prior_order=0.0).to_csv(path, index=False)

    imported = instacart_import.import_orders(data, tmp_path / "work")

    pd.testing.assert_frame_equal(_sorted(imported.lines), _sorted(instacart_data.read_orders(data)))
    assert imported.catalog.tolist() == instacart_data.read_catalog(data).tolist()
    assert imported.report["events"] == {"rows": len(raw), "imported": len(raw), "rejected": 0, "unknown_item_ids": 0}


def test_a_product_the_catalog_refuses_is_reported_and_its_lines_dropped(tmp_path):
    data = fixtures.write_instacart(tmp_path / "data", n_users=4)
    products = (data / "products.csv").read_text().splitlines()
    products[1] = "2,,1,1"  # product 2 without a name: the catalog importer refuses the row
    (data / "products.csv").write_text("\n".join(products) + "\n")
    lines = instacart_data.read_orders(data)

    imported = instacart_import.import_orders(data, tmp_path / "work")

    assert imported.report["catalog"]["rejected"] == 1
    assert imported.report["events"]["unknown_item_ids"] == 1
    assert imported.report["events"]["rejected"] == int((lines["product_id"] == 2).sum()) > 0
    assert 2 not in set(imported.lines["product_id"]) and 2 not in imported.catalog
