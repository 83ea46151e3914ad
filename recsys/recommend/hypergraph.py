"""TailLift hypergraph recommender: own repeat signal + hypergraph-propagated signal, popularity-debiased.

score(u, i) = r(u, i) / max_j r(u, j) + beta * norm( p(u, i) / (1 + pop(i))^alpha )

- r: the caller's user_items weights (e.g. recency-decayed purchase counts: repeat buying is the strongest
  next-basket signal, so it is kept whole rather than smoothed away).
- p: personalised PageRank over the item hypergraph (baskets, aisles, departments, user histories), i.e.
  p <- (1 - restart) p P + restart x for ``steps`` steps, x = the user's L1-normalised items. Tail items
  that share an edge with what the user buys receive mass even with no co-purchase of their own.
- alpha divides by item popularity (the standard popularity-debias trick) to lift tail items further;
  beta sets how much the propagated list may displace the user's own items. Both are tuned on validation.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from recsys.recommend.base import ItemGroups, Recommender
from recsys.recommend.hyperedges import (
    Incidence,
    build_incidence,
    smooth,
    smoothing_factors,
)

CHUNK = 1024  # users per dense block: 1024 x 50k items x 4 bytes = 200 MB at most


def row_max_normalise(block: np.ndarray) -> np.ndarray:
    """Each row divided by its maximum (rows without a positive entry are left as they are)."""
    if block.shape[1] == 0:
        return block
    peak = block.max(axis=1, keepdims=True)
    return block / np.where(peak > 0, peak, 1).astype(block.dtype)


def repeat_part(user_items: sparse.csr_matrix) -> np.ndarray:
    """The user's own weights scaled to [0, 1] per user, dense."""
    return row_max_normalise(sparse.csr_matrix(user_items, dtype=np.float64).toarray())


def propagated_part(propagated: np.ndarray, popularity: np.ndarray, alpha: float) -> np.ndarray:
    """Propagated mass divided by (1 + popularity)^alpha, scaled to [0, 1] per user (float32, like p)."""
    return row_max_normalise(propagated / np.power(1.0 + popularity, alpha).astype(np.float32)[None, :])


def blend(
    user_items: sparse.csr_matrix, propagated: np.ndarray, popularity: np.ndarray, alpha: float, beta: float
) -> np.ndarray:
    """The final score; the parts are separate so tuning can reuse one propagation for many alpha/beta."""
    repeat = repeat_part(user_items)
    return repeat if beta == 0 else repeat + beta * propagated_part(propagated, popularity, alpha)


class HypergraphRecommender(Recommender):
    def __init__(
        self,
        alpha: float = 0.0,
        beta: float = 0.1,
        steps: int = 2,
        restart: float = 0.2,
        edge_weights: dict[str, float] | None = None,
        user_edges: bool = True,
    ) -> None:
        if steps < 1 or not 0 <= restart < 1:
            raise ValueError("need steps >= 1 and 0 <= restart < 1")
        self.alpha, self.beta, self.steps, self.restart = alpha, beta, steps, restart
        self.edge_weights = dict(edge_weights or {})
        self.user_edges = user_edges
        self.popularity = np.zeros(0)
        self.incidence = Incidence(sparse.csr_matrix((0, 0)), np.zeros(0), {})
        self._factors: tuple[sparse.csr_matrix, sparse.csr_matrix] | None = None

    def fit(self, interactions: sparse.csr_matrix, item_groups: ItemGroups | None = None) -> HypergraphRecommender:
        interactions = sparse.csr_matrix(interactions, dtype=np.float64)
        self.popularity = np.asarray(interactions.sum(axis=0)).ravel()
        self.incidence = build_incidence(interactions, item_groups, self.edge_weights, self.user_edges)
        self._factors = smoothing_factors(self.incidence)
        return self

    def propagate(self, user_items: sparse.csr_matrix) -> np.ndarray:
        """Personalised PageRank scores [rows, items] from each row's items (weights used as restart mass)."""
        if self._factors is None:
            raise RuntimeError("hypergraph recommender is not fitted")
        x_all = sparse.csr_matrix(user_items, dtype=np.float64)
        sums = np.asarray(x_all.sum(axis=1)).ravel()
        x_all = sparse.diags(np.divide(1.0, sums, out=np.zeros_like(sums), where=sums > 0)) @ x_all
        a_t, b_t = self._factors
        out = np.zeros(x_all.shape, dtype=np.float32)
        for start in range(0, x_all.shape[0], CHUNK):
            x = np.ascontiguousarray(x_all[start : start + CHUNK].T.toarray(), dtype=np.float32)  # items x users
            p = x
            for _ in range(self.steps):
                p = (1.0 - self.restart) * smooth(p, a_t, b_t) + self.restart * x
            out[start : start + CHUNK] = p.T
        return out

    def score(self, user_items: sparse.csr_matrix) -> np.ndarray:
        return blend(user_items, self.propagate(user_items), self.popularity, self.alpha, self.beta)

    def item_scores(self, item_ids: np.ndarray) -> np.ndarray:
        one_hot = sparse.csr_matrix(
            (np.ones(len(item_ids)), (np.arange(len(item_ids)), item_ids)), shape=(len(item_ids), self.n_items)
        )
        return self.propagate(one_hot) / np.power(1.0 + self.popularity, self.alpha)[None, :]

    def config(self) -> dict:
        return {
            "alpha": self.alpha,
            "beta": self.beta,
            "steps": self.steps,
            "restart": self.restart,
            "edge_weights": self.edge_weights,
            "user_edges": self.user_edges,
        }

    def state(self) -> dict:
        return {
            "popularity": self.popularity,
            "incidence": self.incidence.matrix,
            "edge_weights": self.incidence.weights,
            "group_names": np.array(list(self.incidence.group_sizes), dtype=str),
            "group_sizes": np.array(list(self.incidence.group_sizes.values()), dtype=np.int64),
        }

    def set_state(self, arrays: dict) -> None:
        self.popularity = np.asarray(arrays["popularity"], dtype=np.float64)
        sizes = dict(zip(arrays["group_names"].tolist(), arrays["group_sizes"].tolist()))
        self.incidence = Incidence(sparse.csr_matrix(arrays["incidence"]), np.asarray(arrays["edge_weights"]), sizes)
        self._factors = smoothing_factors(self.incidence)
