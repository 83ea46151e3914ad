"""The Instacart suite's data read the way the app reads it: the files are written as the standard catalog and
events CSVs (``catalog/instacart_files.py``), imported by the app's own importers into a throwaway SQLite
catalog, and the orders read back from it (``reads.baskets``), so the suite evaluates what the app would serve.

Product and order ids come back as the merchant's external ids (the Instacart ids); each user's order numbers
come back from the order times, which the converter makes strictly increasing per user.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from recsys.catalog import reads
from recsys.catalog.events_import import import_events
from recsys.catalog.importer import import_catalog
from recsys.catalog.instacart_files import write_standard_files
from recsys.catalog.mapping import PRESETS
from recsys.catalog.store import CatalogStore
from recsys.config import Settings
from recsys.evaluation import instacart_data

MERCHANT = "instacart"


@dataclass(frozen=True)
class ImportedOrders:
    lines: pd.DataFrame  # order_id, user_id, order_number, product_id (ints), as instacart_data.read_orders
    catalog: np.ndarray  # product ids of every imported item, sorted
    report: dict  # what each import said: rows, rejected, unknown item ids


def import_orders(directory: Path, work_dir: Path) -> ImportedOrders:
    """Convert, import and read back one Instacart directory; ``work_dir`` holds the files and the catalog."""
    files = write_standard_files(directory, work_dir / "files")
    settings = Settings.from_env(
        {"data_dir": work_dir / "catalog", "database_url": "", "import_rows_per_hour": 0}, environ={}
    )
    store = CatalogStore(settings)
    try:
        items = import_catalog(
            files.catalog,
            None,
            PRESETS["default"],
            sessions=store.sessions,
            store=store.images,
            settings=settings,
            merchant_name=MERCHANT,
        )
        if not items.ok:
            raise ValueError(f"the instacart catalog was refused: {items.refused}")
        events = import_events(files.events, sessions=store.sessions, settings=settings, merchant_name=MERCHANT)
        if not events.ok:
            raise ValueError(f"the instacart events were refused: {events.refused}")
        with store.sessions() as session:
            external = reads.external_ids(session)
            baskets = reads.baskets(session)
            owners = reads.basket_owners(session)
    finally:
        store.close()
    rows = [
        (int(order), int(owners[order][0]), owners[order][1], int(external[item]))
        for order, basket in baskets.items()
        for item in basket
    ]
    lines = pd.DataFrame(rows, columns=["order_id", "user_id", "time", "product_id"])
    orders = lines.drop_duplicates("order_id").sort_values(["user_id", "time", "order_id"])
    orders = orders.assign(order_number=orders.groupby("user_id").cumcount() + 1)[["order_id", "order_number"]]
    lines = lines.merge(orders, on="order_id")[["order_id", "user_id", "order_number", "product_id"]]
    report = {
        "catalog": {"rows": items.total_rows, "added": items.added, "rejected": len(items.rejected)},
        "events": {
            "rows": events.total_rows,
            "imported": events.imported,
            "rejected": len(events.rejected),
            "unknown_item_ids": events.unknown_item_count,
        },
        "seconds": round(items.seconds + events.seconds, 1),
    }
    catalog = np.unique(np.array([int(e) for e in external.values()], dtype=np.int64))
    return ImportedOrders(lines.astype("int64"), catalog, report)


def load(data_dir: Path, train_dir: Path | None, work_dir: Path) -> tuple[instacart_data.NextBasketData, dict]:
    """``instacart_data.load``'s split (last order the target, target orders never fitted) on imported orders."""
    data = import_orders(data_dir, work_dir / "data")
    history, target = instacart_data.split_last_order(data.lines)
    targets = {int(u): frozenset(g["product_id"].tolist()) for u, g in target.groupby("user_id")}
    histories = {int(u): g for u, g in history.groupby("user_id")}
    target_orders = frozenset(target["order_id"].unique().tolist())
    catalog = np.union1d(data.catalog, data.lines["product_id"].unique())
    fit, dropped, reports = history, 0, {"data": data.report}
    if train_dir is not None:
        train = import_orders(train_dir, work_dir / "train")
        leak = train.lines["order_id"].isin(target_orders)
        dropped, fit = int(leak.sum()), train.lines[~leak]
        catalog = np.union1d(np.union1d(catalog, train.catalog), fit["product_id"].unique())
        reports["train"] = train.report
    return (
        instacart_data.NextBasketData(
            catalog=catalog,
            fit=fit.reset_index(drop=True),
            histories=histories,
            targets=targets,
            target_orders=target_orders,
            dropped_fit_lines=dropped,
        ),
        reports,
    )
