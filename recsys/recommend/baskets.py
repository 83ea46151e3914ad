"""Order lines (order_id, user_id, order_number, product_id) -> the sparse matrices the backends take.

Items are indices into a sorted ``catalog`` of product ids; lines whose product is not in it are dropped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse


def item_index(product_ids: np.ndarray, catalog: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index into catalog, mask of ids that are in it)."""
    product_ids = np.asarray(product_ids)
    if catalog.size == 0:
        return np.zeros(product_ids.size, dtype=np.int64), np.zeros(product_ids.size, dtype=bool)
    pos = np.searchsorted(catalog, product_ids)
    known = (pos < catalog.size) & (catalog[np.minimum(pos, catalog.size - 1)] == product_ids)
    return pos, known


def user_item_counts(lines: pd.DataFrame, users: np.ndarray, catalog: np.ndarray) -> sparse.csr_matrix:
    """users x items: in how many orders each user bought each item (rows follow ``users``)."""
    lines = lines.drop_duplicates(["order_id", "product_id"])
    items, known = item_index(lines["product_id"].to_numpy(), catalog)
    rows, in_users = item_index(lines["user_id"].to_numpy(), np.asarray(users))
    keep = known & in_users
    return sparse.csr_matrix((np.ones(keep.sum()), (rows[keep], items[keep])), shape=(len(users), catalog.size))


def basket_incidence(lines: pd.DataFrame, catalog: np.ndarray) -> sparse.csr_matrix:
    """items x orders, 1 where the order holds the item: each basket is one hyperedge."""
    items, known = item_index(lines["product_id"].to_numpy(), catalog)
    orders, column = np.unique(lines["order_id"].to_numpy()[known], return_inverse=True)
    matrix = sparse.csr_matrix((np.ones(known.sum()), (items[known], column)), shape=(catalog.size, orders.size))
    matrix.data[:] = 1.0  # duplicate lines collapse to one membership
    return matrix


def category_incidence(products_csv: Path, catalog: np.ndarray) -> dict[str, sparse.csr_matrix]:
    """{"aisle": items x aisles, "department": items x departments} from products.csv (no header).

    Rows with a non-integer id or category are skipped (the file has junk rows); a missing file gives {}.
    """
    if not products_csv.is_file():
        return {}
    products = pd.read_csv(
        products_csv, header=None, names=["product_id", "name", "aisle", "department"], dtype=str, keep_default_na=False
    )
    groups = {}
    ids = pd.to_numeric(products["product_id"], errors="coerce")
    for column in ("aisle", "department"):
        codes = pd.to_numeric(products[column], errors="coerce")
        valid = ids.notna() & codes.notna()
        items, known = item_index(ids[valid].astype("int64").to_numpy(), catalog)
        _, group = np.unique(codes[valid].astype("int64").to_numpy()[known], return_inverse=True)
        matrix = sparse.csr_matrix(
            (np.ones(known.sum()), (items[known], group)),
            shape=(catalog.size, int(group.max()) + 1 if group.size else 0),
        )
        matrix.data[:] = 1.0
        groups[column] = matrix
    return groups
