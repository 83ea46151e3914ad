"""Exact, deterministic top-n over a dense block of scores, vectorised over users.

Ties (including the many zero scores of a sparse model) go to the item earlier in a preference order
(usually popularity, then index), so results never depend on argpartition's arbitrary tie handling.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse


def preference_order(tiebreak: np.ndarray) -> np.ndarray:
    """Item indices by descending ``tiebreak``, then ascending index."""
    return np.lexsort((np.arange(tiebreak.size), -np.asarray(tiebreak, dtype=float)))


def preference_rank(order: np.ndarray) -> np.ndarray:
    """rank[item] = position of the item in ``order`` (lower wins a tie)."""
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size)
    return rank


def _exact_sets(scores: np.ndarray, n: int, order: np.ndarray) -> np.ndarray:
    """The top-n columns of each row (unsorted) when ties straddle the cut: slower, exact."""
    n_items = scores.shape[1]
    permuted = scores[:, order]  # column position now encodes the tie preference
    kth = np.partition(permuted, n_items - n, axis=1)[:, n_items - n][:, None]
    above, at = permuted > kth, permuted == kth
    need = n - above.sum(axis=1, keepdims=True)
    chosen = above | (at & (np.cumsum(at, axis=1) <= need))
    return order[np.nonzero(chosen)[1].reshape(scores.shape[0], n)]


def top_n(scores: np.ndarray, n: int, order: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(indices [u, n], scores [u, n]) best first; ``order`` from :func:`preference_order` breaks ties."""
    scores = np.atleast_2d(np.asarray(scores))
    scores = scores if scores.dtype in (np.float32, np.float64) else scores.astype(np.float64)
    n_users, n_items = scores.shape
    if not 0 < n <= n_items:
        raise ValueError(f"n must be in 1..{n_items}, got {n}")
    order = np.arange(n_items) if order is None else np.asarray(order)
    if n == n_items:
        cols = np.tile(np.arange(n_items), (n_users, 1))
    else:
        # fast path: the n best by argpartition are the answer unless the (n+1)-th ties the n-th
        part = np.argpartition(-scores, n, axis=1)[:, : n + 1]
        values = np.take_along_axis(scores, part, axis=1)
        tied = ~(values[:, :n].min(axis=1) > values[:, n])
        cols = part[:, :n]
        if tied.any():
            cols[tied] = _exact_sets(scores[tied], n, order)
    picked = np.take_along_axis(scores, cols, axis=1)
    within = np.lexsort((preference_rank(order)[cols], -picked), axis=-1)
    return np.take_along_axis(cols, within, axis=1), np.take_along_axis(picked, within, axis=1)


def exclude(scores: np.ndarray, liked: sparse.spmatrix) -> np.ndarray:
    """Scores with every (row, item) stored in ``liked`` set to -inf (a copy)."""
    out = np.array(scores, dtype=np.float64, copy=True)
    coo = sparse.coo_matrix(liked)
    out[coo.row, coo.col] = -np.inf
    return out
