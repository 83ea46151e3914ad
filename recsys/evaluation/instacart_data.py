"""Instacart files -> (catalogue, fit orders, per-user history and target basket).

Each user's last order is the target; earlier orders are that user's history. Fit data is either those
earlier orders (no train dir) or a separate train directory with every target order removed, so no
evaluated basket is ever counted by a model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ORDER_FILE = "order_products.csv"
FILES = ("order_products.csv", "products.csv", "aisles.csv", "departments.csv")
PRODUCT_COLUMNS = ["product_id", "product_name", "aisle_id", "department_id"]


@dataclass(frozen=True)
class NextBasketData:
    catalog: np.ndarray  # every product id a model may recommend (products.csv plus any ordered id)
    fit: pd.DataFrame  # order lines models may learn from: order_id, user_id, order_number, product_id
    histories: dict[int, pd.DataFrame]  # user -> that user's earlier order lines (input at prediction time)
    targets: dict[int, frozenset]  # user -> product ids of the user's last order
    target_orders: frozenset  # order ids of the targets, never in ``fit``
    dropped_fit_lines: int  # train-dir lines removed because they were target orders


def read_orders(directory: Path) -> pd.DataFrame:
    cols = ["order_id", "user_id", "order_number", "product_id"]
    orders = pd.read_csv(directory / ORDER_FILE, usecols=cols)
    return orders.dropna(subset=cols).astype({c: "int64" for c in cols})


def read_catalog(directory: Path) -> np.ndarray:
    """products.csv has no header; rows whose id is not an integer are junk and skipped."""
    path = directory / "products.csv"
    if not path.is_file():
        return np.zeros(0, dtype=np.int64)
    products = pd.read_csv(path, header=None, names=PRODUCT_COLUMNS, usecols=[0], dtype=str)
    ids = pd.to_numeric(products["product_id"], errors="coerce").dropna().astype("int64")
    return np.unique(ids.to_numpy())


def split_last_order(orders: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(history lines, target lines): the target is each user's highest order_number."""
    last = orders.groupby("user_id")["order_number"].transform("max")
    is_target = orders["order_number"] == last
    return orders[~is_target], orders[is_target]


def load(data_dir: Path, train_dir: Path | None = None) -> NextBasketData:
    orders = read_orders(data_dir)
    history, target = split_last_order(orders)
    # A user with a single order has no history to predict from; they stay evaluable by non-personal methods.
    targets = {int(u): frozenset(g["product_id"].tolist()) for u, g in target.groupby("user_id")}
    histories = {int(u): g for u, g in history.groupby("user_id")}
    target_orders = frozenset(target["order_id"].unique().tolist())
    dropped = 0
    if train_dir is None:
        fit = history
    else:
        extra = read_orders(train_dir)
        leak = extra["order_id"].isin(target_orders)
        dropped = int(leak.sum())
        fit = extra[~leak]
    catalog = np.union1d(read_catalog(data_dir), orders["product_id"].unique())
    if train_dir is not None:
        catalog = np.union1d(catalog, fit["product_id"].unique())
    return NextBasketData(
        catalog=catalog,
        fit=fit.reset_index(drop=True),
        histories=histories,
        targets=targets,
        target_orders=target_orders,
        dropped_fit_lines=dropped,
    )


def head_items(fit: pd.DataFrame, fraction: float = 0.2) -> frozenset:
    """The most-ordered ``fraction`` of products that occur in the fit data; everything else is tail."""
    counts = fit.groupby("product_id").size().reset_index(name="n")
    # sort by count then id so ties at the cut are broken the same way every run
    counts = counts.sort_values(["n", "product_id"], ascending=[False, True])
    n_head = int(np.ceil(fraction * len(counts)))
    return frozenset(counts["product_id"].head(n_head).tolist())
