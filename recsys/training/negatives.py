"""Negatives for contrastive head training: hard ones mined from an index of the item pool.

Mining is FAISS in, numpy out: the pool's projected images go into an inner-product index (the same vectors the
serving image index holds when the heads are the serving version's), each training text is searched, and
K negatives are drawn at random from its top ``depth`` hits after dropping the text's own item and any item
whose text is identical (in a catalog, two items with the same title are the same product to a shopper:
a "negative" there is a false negative).
"""

from __future__ import annotations

import faiss
import numpy as np


def mine_hard_negatives(
    queries: np.ndarray,
    pool: np.ndarray,
    query_item: np.ndarray,
    pool_item: np.ndarray,
    query_text: np.ndarray,
    pool_text: np.ndarray,
    *,
    count: int,
    depth: int,
    seed: int,
) -> np.ndarray:
    """[n, count] pool rows: each query's negatives, drawn from its top-``depth`` admissible neighbours.

    ``*_item`` and ``*_text`` are integer ids (same id = same item / same text). A query with fewer admissible
    neighbours than ``count`` gets uniform pool rows for the rest, so the result is always full.
    """
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    pool = np.ascontiguousarray(pool, dtype=np.float32)
    index = faiss.IndexFlatIP(pool.shape[1])
    index.add(pool)
    # Look a little deeper than depth: the own item and same-text duplicates are removed afterwards.
    search_k = min(len(pool), depth + 16)
    _, hits = index.search(queries, search_k)
    rng = np.random.default_rng(seed)
    out = rng.integers(0, len(pool), size=(len(queries), count))
    for row, candidates in enumerate(hits):
        candidates = candidates[candidates >= 0]
        keep = candidates[(pool_item[candidates] != query_item[row]) & (pool_text[candidates] != query_text[row])]
        keep = keep[:depth]
        if len(keep):
            take = rng.choice(keep, size=min(count, len(keep)), replace=False)
            out[row, : len(take)] = take
    return out
