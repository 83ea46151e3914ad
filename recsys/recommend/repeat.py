"""The user's own repeat-purchase signal: recency-decayed purchase counts.

weight(u, i) = sum over u's orders holding i of decay^(orders ago) + TIE * decay^(orders since last bought).
With decay = 1 this is the order count with ties going to the most recently bought item, i.e. exactly the
``personal_history`` baseline's ranking; decay < 1 lets recent habits outweigh old ones.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from recsys.recommend.baskets import item_index

TIE = 1e-3  # below one purchase at decay 1, so recency only breaks ties there


def repeat_matrix(lines: pd.DataFrame, users: np.ndarray, catalog: np.ndarray, decay: float = 1.0) -> sparse.csr_matrix:
    """users x items weights from each user's own order lines (rows follow ``users``, which must be sorted)."""
    if not 0 < decay <= 1:
        raise ValueError(f"decay must be in (0, 1], got {decay}")
    lines = lines.drop_duplicates(["user_id", "order_id", "product_id"])
    ago = lines.groupby("user_id")["order_number"].transform("max") - lines["order_number"]
    frame = pd.DataFrame(
        {
            "user_id": lines["user_id"],
            "product_id": lines["product_id"],
            "w": np.power(decay, ago.to_numpy(dtype=float)),
            "ago": ago,
        }
    )
    agg = frame.groupby(["user_id", "product_id"]).agg(w=("w", "sum"), ago=("ago", "min")).reset_index()
    weight = agg["w"].to_numpy() + TIE * np.power(decay if decay < 1 else 0.5, agg["ago"].to_numpy(dtype=float))
    items, known = item_index(agg["product_id"].to_numpy(), catalog)
    rows, in_users = item_index(agg["user_id"].to_numpy(), np.asarray(users))
    keep = known & in_users
    return sparse.csr_matrix((weight[keep], (rows[keep], items[keep])), shape=(len(users), catalog.size))
