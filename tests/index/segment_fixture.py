"""A fixture catalog for the segmented-index tests: texts recombining product words, clustered vectors, and one
burst of edits (adds, updates, deletes) with the catalog as a full rebuild would see it afterwards."""

from __future__ import annotations

import numpy as np

from tests.index.data import clustered

WORDS = (
    "red blue green black white navy cotton silk denim linen shirt dress jeans sneakers boots handbag watch "
    "running slim fit summer casual formal women men kids striped floral"
).split()


def texts(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, rng.integers(2, 9))) for _ in range(n)]


class EditedCatalog:
    """``ids``/``texts``/``vectors`` before; ``edits`` as (add ids, add texts, add vectors, delete ids) bursts;
    ``final()`` the catalog after them all, sorted by id."""

    def __init__(self, n: int = 1500, dim: int = 24, seed: int = 0) -> None:
        self.ids = np.arange(n, dtype=np.int64) * 2 + 3
        self.texts = texts(n, seed)
        self.vectors = clustered(n, dim, seed=seed)
        self.dim = dim
        rng = np.random.default_rng(seed + 7)
        self.edits = []
        next_id = int(self.ids[-1]) + 1
        for burst in range(4):
            updated = rng.choice(self.ids, 15, replace=False)
            new = np.arange(next_id, next_id + 10, dtype=np.int64)
            next_id += 10
            add = np.concatenate([updated, new])
            deleted = np.setdiff1d(rng.choice(self.ids, 12, replace=False), updated)
            self.edits.append((add, texts(add.size, seed + 100 + burst), clustered(add.size, dim, 50 + burst), deleted))

    def final(self) -> tuple[np.ndarray, list[str], np.ndarray]:
        rows = {int(i): (t, v) for i, t, v in zip(self.ids, self.texts, self.vectors)}
        for add, add_texts, add_vectors, deleted in self.edits:
            for i in deleted.tolist():
                rows.pop(i, None)
            for i, t, v in zip(add.tolist(), add_texts, add_vectors):
                rows[i] = (t, v)
        ids = np.array(sorted(rows), np.int64)
        return ids, [rows[i][0] for i in ids.tolist()], np.stack([rows[i][1] for i in ids.tolist()])


QUERIES = ["red shirt", "silk dress women", "running sneakers", "denim jeans slim fit", "navy", "floral summer"]
