"""The Instacart files (``products.csv``, ``aisles.csv``, ``departments.csv``, ``order_products.csv``) written as
the two standard import files: a catalog CSV (id, title, category "department > aisle"; no images) and an events
CSV (user, item, event "purchase", time, order). The app's demo seed and the evaluation suite both import these
through the normal importers, so what is evaluated is what the app serves.

Instacart gives no dates, only each user's order number, hour of day and days since the prior order. Times are
made from those: a user's first order on ``BASE_TIME``, each later one ``days_since_prior_order`` days after
the one before at its ``order_hour_of_day``, and at least a minute after it, so sorting a user's orders by time
gives their order numbers back exactly. The days between orders are real; the dates are not.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

ORDER_FILE = "order_products.csv"
BASE_TIME = datetime(2025, 1, 1, tzinfo=UTC)
CATALOG_NAME = "instacart_catalog.csv"
EVENTS_NAME = "instacart_events.csv"


@dataclass(frozen=True)
class StandardFiles:
    catalog: Path
    events: Path
    products: int  # catalog rows written
    orders: int  # orders written as purchase events
    users: int
    lines: int  # event rows written


def _names(path: Path) -> dict[str, str]:
    """id -> name of a headerless two-column file; rows whose id is not a number are junk (aisles 222, 3489)."""
    if not path.is_file():
        return {}
    with open(path, newline="", encoding="utf-8") as fh:
        return {row[0].strip(): row[1].strip() for row in csv.reader(fh) if len(row) >= 2 and row[0].strip().isdigit()}


def read_order_lines(directory: Path, max_orders: int | None = None) -> pd.DataFrame:
    """Order lines (order_id, user_id, order_number, product_id, time), by user, order and cart position; with
    ``max_orders``, whole users' histories in user id order, as many users as fit (at least one)."""
    import pandas as pd  # here, not at the top: the catalog commands import this module and start without pandas

    cols = ["order_id", "user_id", "order_number", "order_hour_of_day", "days_since_prior_order", "product_id"]
    lines = pd.read_csv(directory / ORDER_FILE, usecols=[*cols, "add_to_cart_order"])
    lines = lines.dropna(subset=["order_id", "user_id", "order_number", "product_id"])
    lines = lines.astype({c: "int64" for c in ("order_id", "user_id", "order_number", "product_id")})
    orders = lines.drop_duplicates("order_id")[cols[:-1]].sort_values(["user_id", "order_number"])
    if max_orders is not None:
        per_user = orders.groupby("user_id").size()
        fits = per_user.cumsum() <= max(max_orders, int(per_user.iloc[0]) if len(per_user) else 0)
        orders = orders[orders["user_id"].isin(per_user.index[fits.to_numpy()])]
    orders = orders.assign(time=_order_times(orders))
    lines = lines[lines["order_id"].isin(orders["order_id"])].merge(orders[["order_id", "time"]], on="order_id")
    lines = lines.sort_values(["user_id", "order_number", "add_to_cart_order", "product_id"], kind="stable")
    return lines[["order_id", "user_id", "order_number", "product_id", "time"]].reset_index(drop=True)


def _order_times(orders: pd.DataFrame) -> list[datetime]:
    """One time per order row (sorted by user, order number), strictly increasing within each user."""
    times: list[datetime] = []
    user, day, last = None, 0.0, BASE_TIME
    for row in orders.itertuples(index=False):
        gap = row.days_since_prior_order
        if row.user_id != user:
            user, day, last = row.user_id, 0.0, BASE_TIME - timedelta(minutes=1)
        elif gap == gap:  # not NaN
            day += float(gap)
        hour = row.order_hour_of_day if row.order_hour_of_day == row.order_hour_of_day else 0
        at = BASE_TIME + timedelta(days=day, hours=int(hour))
        last = max(at, last + timedelta(minutes=1))
        times.append(last)
    return times


def write_standard_files(
    directory: Path, out_dir: Path, *, max_orders: int | None = None, ordered_products_only: bool = False
) -> StandardFiles:
    """Write the catalog and events CSVs into ``out_dir``; ``ordered_products_only`` keeps the products some order
    of the file holds (the demo), else every product in products.csv (the evaluation's candidate set)."""
    import pandas as pd  # as in read_order_lines

    directory, out_dir = Path(directory), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = read_order_lines(directory, max_orders)
    aisles = _names(directory / "aisles.csv")
    departments = _names(directory / "departments.csv")
    # The demo's catalog: every product some order of the file holds (12,915), seeded orders or not.
    ordered = set(
        pd.read_csv(directory / ORDER_FILE, usecols=["product_id"])["product_id"].dropna().astype("int64").astype(str)
    )
    catalog = out_dir / CATALOG_NAME
    products = 0
    with (
        open(directory / "products.csv", newline="", encoding="utf-8") as src,
        open(catalog, "w", newline="", encoding="utf-8") as dst,
    ):
        writer = csv.writer(dst)
        writer.writerow(["id", "title", "category"])
        for row in csv.reader(src):
            if len(row) < 4 or not row[0].strip().isdigit():
                continue  # a header or junk row: not a product
            product_id, name, aisle_id, department_id = (v.strip() for v in row[:4])
            if ordered_products_only and product_id not in ordered:
                continue
            path = " > ".join(p for p in (departments.get(department_id, ""), aisles.get(aisle_id, "")) if p)
            writer.writerow([product_id, name, path])
            products += 1
    events = out_dir / EVENTS_NAME
    pd.DataFrame(
        {
            "user": lines["user_id"],
            "item": lines["product_id"],
            "event": "purchase",
            "time": [t.isoformat() for t in lines["time"]],
            "order": lines["order_id"],
        }
    ).to_csv(events, index=False)
    return StandardFiles(
        catalog, events, products, int(lines["order_id"].nunique()), int(lines["user_id"].nunique()), len(lines)
    )
