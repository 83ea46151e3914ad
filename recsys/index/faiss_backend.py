"""The embedded engine behind ``IndexBackend``: ``VectorIndex`` (FAISS) + ``BM25Index`` (bm25s), fused by RRF.

It only composes the two indexes as they are; payload filters are evaluated here into the ``allowed_ids`` both
already take.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recsys.index.backend import Payload, PayloadFilter, check_batch
from recsys.index.hybrid import reciprocal_rank_fusion
from recsys.index.lexical import BM25Index
from recsys.index.vector import VectorIndex


class FaissBackend:
    def __init__(self, dim: int, factory: str = "Flat", lexical: BM25Index | None = None) -> None:
        self.dim = int(dim)
        self.vectors = VectorIndex(self.dim, factory)
        self.texts = lexical if lexical is not None else BM25Index()
        self._payloads: dict[int, dict[str, str | float | int]] = {}

    def add(self, ids: np.ndarray, vectors: np.ndarray, texts: Sequence[str], payloads: Sequence[Payload]) -> None:
        ids, x = check_batch(ids, vectors, texts, payloads, self.dim)
        self.vectors.add(ids, x)
        self.texts.add(ids, list(texts))
        self._payloads.update({int(i): dict(p) for i, p in zip(ids.tolist(), payloads)})

    def delete(self, ids: np.ndarray) -> int:
        wanted = np.asarray(ids, dtype=np.int64).ravel()
        self.texts.remove(wanted)
        for i in wanted.tolist():
            self._payloads.pop(int(i), None)
        return self.vectors.remove(wanted)

    def __len__(self) -> int:
        return len(self.vectors)

    def _allowed(self, where: PayloadFilter | None) -> np.ndarray | None:
        if where is None:
            return None
        return np.array(sorted(i for i, p in self._payloads.items() if where.accepts(p)), dtype=np.int64)

    def search(self, vector: np.ndarray, k: int, where: PayloadFilter | None = None) -> tuple[np.ndarray, np.ndarray]:
        scores, ids = self.vectors.search(np.asarray(vector, np.float32).reshape(1, -1), k, self._allowed(where))
        return scores[0], ids[0]

    def lexical(self, text: str, k: int, where: PayloadFilter | None = None) -> tuple[np.ndarray, np.ndarray]:
        return self.texts.search(text, k, self._allowed(where))

    def hybrid(
        self, vector: np.ndarray, text: str, k: int, where: PayloadFilter | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        allowed = self._allowed(where)
        scores, ids = self.vectors.search(np.asarray(vector, np.float32).reshape(1, -1), k, allowed)
        lex_scores, lex_ids = self.texts.search(text, k, allowed)
        fused_ids, fused = reciprocal_rank_fusion([(ids[0], scores[0]), (lex_ids, lex_scores)])
        return fused_ids[:k], fused[:k]

    def close(self) -> None:
        return None
