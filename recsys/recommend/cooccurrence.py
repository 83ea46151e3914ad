"""Item-item co-occurrence: items bought in the same baskets as the user's past items.

Baskets come from ``item_groups[basket_group]`` (items x baskets) when given, else each user's history is
one basket. A user's score for item j is the sum of co-basket counts between j and their distinct items.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from recsys.recommend.base import ItemGroups, Recommender


def binary(matrix: sparse.spmatrix) -> sparse.csr_matrix:
    out = sparse.csr_matrix(matrix, dtype=np.float64, copy=True)
    out.data[:] = 1.0  # an item listed twice in one basket still counts once
    out.eliminate_zeros()
    return out


class CooccurrenceRecommender(Recommender):
    def __init__(self, basket_group: str = "basket") -> None:
        self.basket_group = basket_group
        self.popularity = np.zeros(0)
        self.cooc = sparse.csr_matrix((0, 0))

    def fit(self, interactions: sparse.csr_matrix, item_groups: ItemGroups | None = None) -> CooccurrenceRecommender:
        groups = item_groups or {}
        baskets = binary(groups[self.basket_group].T if self.basket_group in groups else interactions)
        self.popularity = np.asarray(sparse.csr_matrix(interactions).sum(axis=0), dtype=np.float64).ravel()
        cooc = (baskets.T @ baskets).tocsr()
        cooc.setdiag(0)
        cooc.eliminate_zeros()
        self.cooc = cooc
        return self

    def score(self, user_items: sparse.csr_matrix) -> np.ndarray:
        return np.asarray((binary(user_items) @ self.cooc).todense())

    def item_scores(self, item_ids: np.ndarray) -> np.ndarray:
        return np.asarray(self.cooc[np.asarray(item_ids)].todense())

    def config(self) -> dict:
        return {"basket_group": self.basket_group}

    def state(self) -> dict:
        return {"popularity": self.popularity, "cooc": self.cooc}

    def set_state(self, arrays: dict) -> None:
        self.popularity = np.asarray(arrays["popularity"], dtype=np.float64)
        self.cooc = sparse.csr_matrix(arrays["cooc"])
