"""Exact top-n of the hypergraph blend over a small candidate set, for fast grid search.

score = repeat + beta * q, with repeat = 0 outside the user's own items. An item that is not the user's own
scores beta * q, so the winners always lie in: the user's own items, the n best by q, and (for beta = 0,
where every non-own item ties at 0) the n most preferred items. Ranking those ~(own + 2n) columns with the
same tie rule as ``topn.top_n`` gives exactly its answer at a fraction of the cost (a test checks this).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from recsys.recommend.topn import preference_rank, top_n


def own_items(user_items: sparse.csr_matrix) -> np.ndarray:
    """Each row's stored columns, padded with -1 to the longest row."""
    csr = sparse.csr_matrix(user_items)
    lengths = np.diff(csr.indptr)
    out = np.full((csr.shape[0], max(int(lengths.max(initial=0)), 1)), -1, dtype=np.int64)
    rows = np.repeat(np.arange(csr.shape[0]), lengths)
    out[rows, np.arange(csr.indices.size) - csr.indptr[rows]] = csr.indices
    return out


class CandidateBlend:
    """Holds one (user_items, q) pair; ``top(beta)`` ranks repeat + beta * q over the candidates."""

    def __init__(self, repeat: np.ndarray, own: np.ndarray, q: np.ndarray, order: np.ndarray, n: int) -> None:
        rows = np.arange(repeat.shape[0])[:, None]
        by_q, _ = top_n(q, n, order)
        popular = np.broadcast_to(order[:n], by_q.shape)
        self.columns = np.concatenate([own, by_q, popular], axis=1)
        safe = np.maximum(self.columns, 0)
        own_hit = repeat[rows, safe] > 0
        in_q = (popular[:, :, None] == by_q[:, None, :]).any(axis=2)
        duplicate = np.concatenate(
            [
                np.zeros_like(own, dtype=bool),
                own_hit[:, own.shape[1] : own.shape[1] + n],
                own_hit[:, own.shape[1] + n :] | in_q,
            ],
            axis=1,
        )
        self.valid = (self.columns >= 0) & ~duplicate  # each item once
        self.repeat, self.q = repeat[rows, safe], q[rows, safe]
        self.rank = preference_rank(order)[safe]
        self.n = n

    def top(self, beta: float) -> np.ndarray:
        score = np.where(self.valid, self.repeat + beta * self.q, -np.inf)
        within = np.lexsort((self.rank, -score), axis=-1)[:, : self.n]
        return np.take_along_axis(self.columns, within, axis=1)
