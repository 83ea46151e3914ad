"""Dense search of a serving state: its vector index finds candidates, the route matrices score them exactly.

The state holds every item's routes (half precision) and derives the fused vector from them exactly as the index
was built from it (``RouteMatrices.rows``). So an index with compressed codes (``IVF4096,PQ160``: 160 bytes an item
instead of 640 for SQ8, ~0.45 GB less at a million items) need not keep a finer copy for re-ranking, as FAISS's own
``Refine(...)`` does: it is asked for ``refine_hits(k)`` hits, which are re-scored by their exact cosine
and cut to ``k``. An exact index (Flat, IVF-Flat, HNSW-Flat) is searched as it is.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from recsys.encoders.fusion import normalize_rows
from recsys.encoders.routes import FUSED
from recsys.index.arrays import PAD_ID, IdSet
from recsys.index.segmented_vectors import SegmentedVectorIndex
from recsys.index.vector import VectorIndex, inner_products
from recsys.search.state import ServingState

# Coarse hits re-scored per wanted hit (FAISS's own refine default), and at least REFINE_MIN_HITS: at 1M items with
# PQ96 codes, recall@10 against exact search was 0.54 raw, 0.90 re-scoring 40 hits, 0.99 at 100, 0.998 at 200
# (docs/scale.md); re-scoring 200 costs ~0.6 ms.
REFINE_FACTOR = 4
REFINE_MIN_HITS = 200


def refine_hits(k: int) -> int:
    """Coarse hits to ask a lossy index for, to keep the exact top ``k`` of them."""
    return max(k * REFINE_FACTOR, REFINE_MIN_HITS)


def dense_search(
    state: ServingState, queries: np.ndarray, k: int, allowed: IdSet | np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Top ``k`` items by cosine to each query row: ``(scores float32 [q, k], ids int64 [q, k])``, best first (ties
    by smaller id when re-scored), -inf / -1 padded; as ``VectorIndex.search``."""
    return refined_search(
        state.vectors, queries, k, allowed, lambda ids: state.routes.rows(FUSED, state.table.rows(ids))
    )


def refined_search(
    index: VectorIndex | SegmentedVectorIndex,
    queries: np.ndarray,
    k: int,
    allowed: IdSet | np.ndarray | None,
    vectors_of: Callable[[np.ndarray], np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """``index.search``, with a lossy index's ``refine_hits(k)`` hits re-scored by the exact unit vectors
    ``vectors_of(ids)`` (the benchmarks pass their own arrays; the service its route matrices)."""
    if not index.lossy or k <= 0:
        return index.search(queries, k, allowed)
    q = normalize_rows(np.asarray(queries, np.float32).reshape(-1, index.dim))
    _, coarse = index.search(q, refine_hits(k), allowed)
    return rescore(q, coarse, vectors_of, k)


def rescore(
    queries: np.ndarray, coarse: np.ndarray, vectors_of: Callable[[np.ndarray], np.ndarray], k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Re-score each query row's ``coarse`` hit ids (-1 padded) by the dot product with ``vectors_of(ids)`` (unit
    rows) and keep the best ``k``, ties by smaller id; padded as ``VectorIndex.search``."""
    scores = np.full((queries.shape[0], k), -np.inf, np.float32)
    found = np.full((queries.shape[0], k), PAD_ID, np.int64)
    # One gather for the union: a search's query rows (text, text + photo, a route) mostly find the same items.
    union = np.unique(coarse[coarse >= 0])
    if not union.size:
        return scores, found
    # torch's product, not numpy's: OpenBLAS threads spin after a call and slowed the next query encode ~4x.
    exact_all = inner_products(np.asarray(vectors_of(union), np.float32), queries)  # [union, q]
    for n, ids in enumerate(coarse):
        ids = ids[ids >= 0]
        exact = exact_all[np.searchsorted(union, ids), n]
        order = np.lexsort((ids, -exact))[:k]
        scores[n, : order.size] = exact[order]
        found[n, : order.size] = ids[order]
    return scores, found
