"""One small interface over a search index: add, delete, dense / lexical / hybrid search under payload filters.

Two implementations, chosen by ``Settings.index_backend`` (``RECSYS_INDEX_BACKEND``; ``engines.make_backend``):

* ``faiss`` (default): the embedded FAISS vector index + bm25s lexical index of this package, fused by RRF
  (``faiss_backend.py``); everything in this process.
* ``qdrant``: a Qdrant collection through qdrant-client (``qdrant_backend.py``); ``Settings.qdrant_url`` names a
  server or cluster (``http://host:6333``), or ``:memory:`` / a folder for qdrant-client's local mode (tests, CI).

Arrays follow the index conventions (``arrays.py``): int64 item ids, best first, padded with id -1. Item ids must be
non-negative (Qdrant point ids are unsigned). A filter is data (``PayloadFilter``), so both engines read the same one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

Payload = Mapping[str, str | float | int]
BACKENDS = ("faiss", "qdrant")


@dataclass(frozen=True)
class PayloadFilter:
    """Items whose payload matches every condition: ``match`` field -> any of these text values, ``ranges``
    field -> (low, high) inclusive, either side None for open (an item without the field never matches a range)."""

    match: Mapping[str, Sequence[str]] = field(default_factory=dict)
    ranges: Mapping[str, tuple[float | None, float | None]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, values in self.match.items():
            if isinstance(values, str) or not len(values):
                raise ValueError(f"filter on {name!r}: give a non-empty list of values, not {values!r}")
        for name, bounds in self.ranges.items():
            low, high = bounds
            if low is not None and high is not None and low > high:
                raise ValueError(f"filter on {name!r}: low {low} is above high {high}")

    def accepts(self, payload: Payload) -> bool:
        """The same rule the Qdrant filter expresses (``qdrant_backend._filter``), for the embedded engine."""
        for name, values in self.match.items():
            value = payload.get(name)
            if not isinstance(value, str) or value not in values:
                return False
        for name, (low, high) in self.ranges.items():
            value = payload.get(name)
            if not isinstance(value, int | float) or value != value:  # missing, text or NaN
                return False
            if (low is not None and value < low) or (high is not None and value > high):
                return False
        return True


class IndexBackend(Protocol):
    """What the search path needs from an index engine."""

    def add(self, ids: np.ndarray, vectors: np.ndarray, texts: Sequence[str], payloads: Sequence[Payload]) -> None:
        """Insert items (ids already present are replaced): their vectors, lexical text and filterable payload."""
        ...

    def delete(self, ids: np.ndarray) -> int:
        """Remove items (unknown ids ignored); returns how many were removed."""
        ...

    def __len__(self) -> int: ...

    def search(self, vector: np.ndarray, k: int, where: PayloadFilter | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Dense top ``k`` by cosine: ``(scores float32 [k], ids int64 [k])``."""
        ...

    def lexical(self, text: str, k: int, where: PayloadFilter | None = None) -> tuple[np.ndarray, np.ndarray]:
        """BM25 top ``k`` among items sharing a word with ``text``: ``(scores, ids)``."""
        ...

    def hybrid(
        self, vector: np.ndarray, text: str, k: int, where: PayloadFilter | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Dense and lexical lists fused by reciprocal rank: ``(ids int64, fused float32)`` best first."""
        ...

    def close(self) -> None: ...


def check_batch(ids: np.ndarray, vectors: np.ndarray, texts: Sequence[str], payloads: Sequence[Payload], dim: int):
    """Validated ``(ids int64, vectors float32)``; a ValueError before anything is written."""
    ids = np.asarray(ids)
    if ids.ndim != 1 or (ids.size and not np.issubdtype(ids.dtype, np.integer)):
        raise ValueError("ids must be a 1-D integer array")
    ids = ids.astype(np.int64)
    if (ids < 0).any():
        raise ValueError("item ids must be non-negative")
    if np.unique(ids).size != ids.size:
        raise ValueError("ids repeat within one batch")
    x = np.asarray(vectors, dtype=np.float32)
    if x.ndim != 2 or x.shape != (ids.size, dim):
        raise ValueError(f"expected vectors of shape [{ids.size}, {dim}], got {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("vectors contain NaN or inf")
    if len(texts) != ids.size or len(payloads) != ids.size:
        raise ValueError(f"{ids.size} ids but {len(texts)} texts and {len(payloads)} payloads")
    return ids, x
