"""The recommender interface every TailLift backend implements, shaped like the ``implicit`` library.

Matrices are ``scipy.sparse.csr_matrix`` with users (or baskets) as rows and item *indices* as columns;
callers map their own ids to indices. ``item_groups`` carries extra hyperedges over items (category, aisle,
basket, session): name -> csr [items x groups], a 1 where the item belongs to the group.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

import numpy as np
from scipy import sparse

from recsys.recommend import storage
from recsys.recommend.topn import exclude, preference_order, top_n

FORMAT_VERSION = 1
ItemGroups = dict[str, sparse.csr_matrix]


class Recommender(ABC):
    """fit on interactions, then score users (``recommend``) or items (``similar_items``)."""

    registry: ClassVar[dict[str, type[Recommender]]] = {}
    popularity: np.ndarray  # interactions per item; every backend breaks ties with it

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        Recommender.registry[cls.__name__] = cls  # lets ``Recommender.load`` rebuild any saved backend

    @abstractmethod
    def fit(self, interactions: sparse.csr_matrix, item_groups: ItemGroups | None = None) -> Recommender: ...

    @abstractmethod
    def score(self, user_items: sparse.csr_matrix) -> np.ndarray:
        """Dense scores [rows of user_items, items]; higher is better."""

    @abstractmethod
    def item_scores(self, item_ids: np.ndarray) -> np.ndarray:
        """Dense similarity [len(item_ids), items] of each item to every item."""

    @abstractmethod
    def config(self) -> dict:
        """JSON-safe constructor keyword arguments."""

    @abstractmethod
    def state(self) -> dict[str, np.ndarray | sparse.csr_matrix]:
        """Everything fitted, as arrays."""

    @abstractmethod
    def set_state(self, arrays: dict[str, np.ndarray | sparse.csr_matrix]) -> None: ...

    @property
    def n_items(self) -> int:
        return int(self.popularity.size)

    def recommend(
        self,
        user_ids: np.ndarray | list[int] | int,
        user_items: sparse.csr_matrix,
        n: int = 20,
        filter_already_liked: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(item ids [u, n], scores [u, n]) for the rows ``user_ids`` of ``user_items``."""
        rows = np.atleast_1d(np.asarray(user_ids, dtype=np.int64))
        liked = sparse.csr_matrix(user_items)[rows]
        scores = self.score(liked)
        if filter_already_liked:
            scores = exclude(scores, liked)
        return top_n(scores, min(n, self.n_items), preference_order(self.popularity))

    def similar_items(self, item_ids: np.ndarray | list[int] | int, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """(item ids [i, n], scores [i, n]) most similar to each item, the item itself excluded."""
        items = np.atleast_1d(np.asarray(item_ids, dtype=np.int64))
        scores = self.item_scores(items).astype(np.float64)
        scores[np.arange(items.size), items] = -np.inf
        return top_n(scores, min(n, self.n_items - 1), preference_order(self.popularity))

    def save(self, path: Path | str) -> tuple[Path, Path]:
        meta = {"class": type(self).__name__, "config": self.config(), "format_version": FORMAT_VERSION}
        return storage.save_artifact(path, self.state(), meta)

    @classmethod
    def load(cls, path: Path | str) -> Recommender:
        """Rebuild a saved model; on the base class it picks the backend named in the meta."""
        arrays, meta = storage.load_artifact(path)
        target = Recommender.registry[meta["class"]]
        if not issubclass(target, cls):
            raise TypeError(f"{path} holds a {meta['class']}, not a {cls.__name__}")
        model = target(**meta["config"])
        model.set_state(arrays)
        return model
