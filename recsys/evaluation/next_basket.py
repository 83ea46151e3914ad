"""Simple next-basket baselines every TailLift recommender must beat: random, popularity, co-occurrence,
personal history. Each returns ``{user: [product ids, best first]}`` with exactly k distinct ids.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse


def popularity_ranking(fit: pd.DataFrame, catalog: np.ndarray) -> np.ndarray:
    """Catalogue ids by fit-data order count, ties by id; never-ordered items come last."""
    counts = fit.groupby("product_id").size()
    score = counts.reindex(catalog, fill_value=0).to_numpy()
    order = np.lexsort((catalog, -score))
    return catalog[order]


def _fill(ranked: list, backfill: np.ndarray, k: int) -> list:
    # Short lists are padded with popular items, so every method is judged on k recommendations.
    seen = set(ranked)
    out = list(ranked[:k])
    for item in backfill:
        if len(out) >= k:
            break
        if item not in seen:
            out.append(int(item))
            seen.add(item)
    return out


def recommend_random(users: list[int], catalog: np.ndarray, k: int, seed: int) -> dict[int, list]:
    rng = np.random.default_rng(seed)
    return {u: [int(i) for i in rng.choice(catalog, size=min(k, catalog.size), replace=False)] for u in users}


def recommend_popular(users: list[int], popular: np.ndarray, k: int) -> dict[int, list]:
    top = [int(i) for i in popular[:k]]
    return {u: list(top) for u in users}


def recommend_history(
    users: list[int], histories: dict[int, pd.DataFrame], popular: np.ndarray, k: int
) -> dict[int, list]:
    """The user's own past products by how many orders held them, ties to the most recent; popular fill."""
    out = {}
    for u in users:
        hist = histories.get(u)
        ranked: list = []
        if hist is not None and len(hist):
            stats = hist.groupby("product_id")["order_number"].agg(["size", "max"]).reset_index()
            stats = stats.sort_values(["size", "max", "product_id"], ascending=[False, False, True])
            ranked = [int(i) for i in stats["product_id"]]
        out[u] = _fill(ranked, popular, k)
    return out


def cooccurrence_matrix(fit: pd.DataFrame, catalog: np.ndarray) -> sparse.csr_matrix:
    """Item x item count of fit baskets holding both items (diagonal zeroed)."""
    pos = np.searchsorted(catalog, fit["product_id"].to_numpy())
    known = (pos < catalog.size) & (catalog[np.minimum(pos, catalog.size - 1)] == fit["product_id"].to_numpy())
    orders, order_idx = np.unique(fit["order_id"].to_numpy()[known], return_inverse=True)
    basket = sparse.csr_matrix(
        (np.ones(known.sum(), dtype=np.float32), (order_idx, pos[known])), shape=(orders.size, catalog.size)
    )
    basket.data[:] = 1.0  # an item listed twice in one order still counts once
    co = (basket.T @ basket).tocsr()
    co.setdiag(0)
    co.eliminate_zeros()
    return co


def recommend_cooccurrence(
    users: list[int],
    histories: dict[int, pd.DataFrame],
    fit: pd.DataFrame,
    catalog: np.ndarray,
    popular: np.ndarray,
    k: int,
) -> dict[int, list]:
    """Items bought in the same baskets as the user's past items: score = sum over distinct history items."""
    co = cooccurrence_matrix(fit, catalog)
    out = {}
    for u in users:
        hist = histories.get(u)
        ranked: list = []
        if hist is not None and len(hist):
            items = np.unique(hist["product_id"].to_numpy())
            idx = np.searchsorted(catalog, items[np.isin(items, catalog)])
            scores = np.asarray(co[idx].sum(axis=0)).ravel()
            candidates = np.flatnonzero(scores > 0)
            order = candidates[np.lexsort((catalog[candidates], -scores[candidates]))][:k]
            ranked = [int(i) for i in catalog[order]]
        out[u] = _fill(ranked, popular, k)
    return out
