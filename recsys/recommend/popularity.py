"""Most-interacted items for everyone: the floor every personalised backend must clear."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from recsys.recommend.base import ItemGroups, Recommender


class PopularityRecommender(Recommender):
    def __init__(self) -> None:
        self.popularity = np.zeros(0)

    def fit(self, interactions: sparse.csr_matrix, item_groups: ItemGroups | None = None) -> PopularityRecommender:
        del item_groups  # popularity ignores item structure
        self.popularity = np.asarray(sparse.csr_matrix(interactions).sum(axis=0), dtype=np.float64).ravel()
        return self

    def score(self, user_items: sparse.csr_matrix) -> np.ndarray:
        return np.broadcast_to(self.popularity, (user_items.shape[0], self.n_items)).copy()

    def item_scores(self, item_ids: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.popularity, (len(item_ids), self.n_items)).copy()

    def config(self) -> dict:
        return {}

    def state(self) -> dict:
        return {"popularity": self.popularity}

    def set_state(self, arrays: dict) -> None:
        self.popularity = np.asarray(arrays["popularity"], dtype=np.float64)
