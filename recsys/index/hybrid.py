"""Merging ranked lists from several retrievers (vector, BM25, ...) into one ranking.

Each input is ``(ids, scores)`` as returned by the indexes: 1-D, id -1 marks padding and is ignored.
Ranks come from the scores (higher is better, stable for ties), so inputs need not be sorted.

* ``reciprocal_rank_fusion``: ``fused(d) = sum_i w_i / (k + rank_i(d))`` with ranks from 1 (Cormack et al.
  2009). Uses ranks only, so it needs no score calibration between retrievers; ``k`` = 60 damps the
  head. Preferred default.
* ``weighted_score_fusion``: ``fused(d) = sum_i w_i * minmax_i(score_i(d))``, each list min-max scaled to
  [0, 1] over its own results (a list whose scores are all equal scales to 1). A document missing from a
  list gets 0 from it. Keeps score gaps, so it wins when the retrievers' confidences matter, but it is
  sensitive to outliers and to how many results each list returns.

Both return ``(ids int64, fused float32)`` over the union of inputs, best first, ties by smaller id.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Ranking = tuple[np.ndarray, np.ndarray]


def _clean(ranking: Ranking) -> tuple[np.ndarray, np.ndarray]:
    """Drop padding and repeated ids (keeping the best score); return best-first ids and scores."""
    ids = np.asarray(ranking[0], dtype=np.int64).ravel()
    scores = np.asarray(ranking[1], dtype=np.float64).ravel()
    if ids.shape != scores.shape:
        raise ValueError(f"ids {ids.shape} and scores {scores.shape} differ in shape")
    keep = (ids >= 0) & ~np.isnan(scores)
    ids, scores = ids[keep], scores[keep]
    order = np.argsort(-scores, kind="stable")
    ids, scores = ids[order], scores[order]
    _, first = np.unique(ids, return_index=True)
    first.sort()
    return ids[first], scores[first]


def _weights(n: int, weights: Sequence[float] | None) -> np.ndarray:
    if weights is None:
        return np.ones(n)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n,):
        raise ValueError(f"{n} rankings but {w.size} weights")
    return w


def _accumulate(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Sum per-id contributions; sort best first with ties by smaller id."""
    if not parts:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
    ids = np.concatenate([p[0] for p in parts])
    values = np.concatenate([p[1] for p in parts])
    union, inverse = np.unique(ids, return_inverse=True)
    fused = np.zeros(union.size)
    np.add.at(fused, inverse, values)
    order = np.lexsort((union, -fused))
    return union[order], fused[order].astype(np.float32)


def reciprocal_rank_fusion(
    rankings: Sequence[Ranking], k: float = 60.0, weights: Sequence[float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Reciprocal rank fusion of ``rankings``; returns ``(ids, fused_scores)`` best first."""
    if k < 0:
        raise ValueError("k must be >= 0")
    w = _weights(len(rankings), weights)
    parts = []
    for weight, ranking in zip(w, rankings):
        ids, _ = _clean(ranking)
        parts.append((ids, weight / (k + np.arange(1, ids.size + 1))))
    return _accumulate(parts)


def weighted_score_fusion(
    rankings: Sequence[Ranking], weights: Sequence[float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted sum of per-list min-max normalised scores; returns ``(ids, fused_scores)`` best first."""
    w = _weights(len(rankings), weights)
    parts = []
    for weight, ranking in zip(w, rankings):
        ids, scores = _clean(ranking)
        finite = np.isfinite(scores)
        ids, scores = ids[finite], scores[finite]
        if ids.size == 0:
            continue
        lo, hi = scores.min(), scores.max()
        scaled = np.ones_like(scores) if hi == lo else (scores - lo) / (hi - lo)
        parts.append((ids, weight * scaled))
    return _accumulate(parts)
