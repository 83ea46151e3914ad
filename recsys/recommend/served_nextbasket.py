"""The app's served "For you" list run as a next-basket method: what the instacart suite scores as ``served``.

The served model (``served.fit_served``) is fitted on the suite's fit lines as purchase events (shopper = user,
session and order = the order) over the catalog's products, category "department > aisle" like the imported
catalog; each evaluated user's list is ``lists.for_shopper`` from their newest history lines,
weighted and ordered the way the service reads a shopper's events (``Settings.shopper_events``), re-ranked at the
given tail share.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from recsys.recommend import lists
from recsys.recommend.served import EVENT_WEIGHTS, EventRow, ItemRow, ServedModel, fit_served


def catalog_items(folder: Path, catalog: np.ndarray) -> list[ItemRow]:
    """One item per catalog product id, titled and categorised from products / aisles / departments CSVs."""
    names = {}
    for kind in ("aisles", "departments"):
        frame = pd.read_csv(folder / f"{kind}.csv", header=None, names=["id", "name"], dtype=str)
        names[kind] = dict(zip(frame["id"], frame["name"]))
    products = pd.read_csv(
        folder / "products.csv", header=None, names=["id", "title", "aisle", "dept"], dtype=str, keep_default_na=False
    )
    products = products[pd.to_numeric(products["id"], errors="coerce").notna()]
    known = {int(r.id): r for r in products.itertuples()}
    out = []
    for item in catalog.tolist():
        row = known.get(int(item))
        category = (
            "" if row is None else f"{names['departments'].get(row.dept, '')} > {names['aisles'].get(row.aisle, '')}"
        )
        out.append(ItemRow(int(item), "" if row is None else row.title, category, "", {}))
    return out


def purchase_events(lines: pd.DataFrame) -> list[EventRow]:
    """One purchase per line, each user's orders in order (the ranker's target is a shopper's last order)."""
    lines = lines.sort_values(["user_id", "order_number"], kind="stable")
    return [
        EventRow(str(u), str(o), int(p), "purchase", str(o))
        for u, o, p in zip(lines["user_id"], lines["order_id"], lines["product_id"])
    ]


def shopper_weights(model: ServedModel, history: pd.DataFrame, events: int) -> dict[int, float]:
    """index -> weight from the newest ``events`` lines, oldest first, an item placed at its latest event
    (as the service builds them from the shopper's newest events)."""
    ordered = history.sort_values("order_number", kind="stable")["product_id"].astype(int).tolist()
    weights: dict[int, float] = {}
    for product in ordered[-events:]:
        index = model.index_of([product])
        if index:
            weights[index[0]] = weights.pop(index[0], 0.0) + EVENT_WEIGHTS["purchase"]
    return weights


def served_recommendations(
    model: ServedModel,
    histories: dict[int, pd.DataFrame],
    users: list[int],
    k: int,
    tail_share: float,
    shopper_events: int,
) -> dict[int, list[int]]:
    """user -> the k product ids the app's For you list shows them (the cold-start list when they have no history)."""
    out = {}
    for user in users:
        history = histories.get(user)
        weights = shopper_weights(model, history, shopper_events) if history is not None else {}
        picks = (
            lists.for_shopper(model, weights, k, tail_share, swap=model.swap_for([str(user)]))
            if weights
            else lists.cold_start(model, k, tail_share, str(user))
        )
        out[int(user)] = [int(model.item_ids[p.index]) for p in picks]
    return out


def fit_served_on_lines(
    folder: Path,
    catalog: np.ndarray,
    lines: pd.DataFrame,
    ranker: bool = False,
    novelty_price: float = 0.0,
    shopper_events: int = 200,
    target_orders: int = 1,
) -> ServedModel:
    """The served model over every catalog product, learning from the order ``lines`` as purchases (with the learned
    For you re-ranker when ``ranker`` and its exposure allocation at ``novelty_price``:
    ``benchmarks/bench_nextbasket_ranker.py``)."""
    return fit_served(
        catalog_items(folder, catalog),
        purchase_events(lines),
        ranker=ranker,
        shopper_events=shopper_events,
        novelty_price=novelty_price,
        target_orders=target_orders,
    )
