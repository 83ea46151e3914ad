"""Ranking and catalogue metrics, one query at a time, plus aggregation over queries.

Conventions (shared by every suite so numbers are comparable):
- ``ranked`` is a sequence of item ids, best first; only the first ``k`` count.
- ``relevant`` is a collection of ids (binary metrics) or a mapping id -> gain (graded nDCG).
- A query with nothing relevant has no defined recall/nDCG: per-query functions return ``nan`` and the
  aggregators skip it and report how many queries counted, instead of silently scoring it 0 or 1.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence

import numpy as np

Ranked = Sequence[Hashable]


def _top(ranked: Ranked, k: int) -> list:
    if k <= 0:
        raise ValueError(f"k must be positive, got {k}")
    return list(ranked[:k])


def recall_at_k(ranked: Ranked, relevant: Collection, k: int) -> float:
    """|top-k ∩ relevant| / |relevant| (plain recall: a basket larger than k cannot reach 1)."""
    rel = set(relevant)
    if not rel:
        return math.nan
    return len(set(_top(ranked, k)) & rel) / len(rel)


def hit_rate_at_k(ranked: Ranked, relevant: Collection, k: int) -> float:
    """1 when any relevant id is in the top k."""
    rel = set(relevant)
    if not rel:
        return math.nan
    return float(any(item in rel for item in _top(ranked, k)))


def mrr_at_k(ranked: Ranked, relevant: Collection, k: int) -> float:
    """1 / rank of the first relevant id within the top k, else 0."""
    rel = set(relevant)
    if not rel:
        return math.nan
    for position, item in enumerate(_top(ranked, k), start=1):
        if item in rel:
            return 1.0 / position
    return 0.0


def _as_gains(relevant: Collection | Mapping[Hashable, float]) -> dict:
    if isinstance(relevant, Mapping):
        return {key: float(value) for key, value in relevant.items()}
    return {key: 1.0 for key in relevant}


def dcg(gains_in_rank_order: Iterable[float]) -> float:
    """Sum of gain / log2(position + 1), positions from 1."""
    return float(sum(g / math.log2(i + 2) for i, g in enumerate(gains_in_rank_order)))


def ndcg_at_k(ranked: Ranked, relevant: Collection | Mapping[Hashable, float], k: int) -> float:
    """DCG@k of the ranking over the ideal DCG@k of all known gains.

    The ideal ranking takes the k best gains, so a query with 3 relevant items can reach 1.0 at k >= 3 and
    is not capped by a denominator built from k items. Undefined (nan) when every gain is 0.
    """
    gains = _as_gains(relevant)
    ideal = dcg(sorted((g for g in gains.values() if g > 0), reverse=True)[:k])
    if ideal <= 0:
        return math.nan
    return dcg(gains.get(item, 0.0) for item in _top(ranked, k)) / ideal


def r_precision(ranked: Ranked, relevant: Collection) -> float:
    """Precision at R = |relevant|: 1.0 only when the R relevant ids fill the first R places."""
    rel = set(relevant)
    if not rel:
        return math.nan
    return len(set(ranked[: len(rel)]) & rel) / len(rel)


def exponential_gain(relevance: np.ndarray | Sequence[float], floor: float = 1.0) -> np.ndarray:
    """2^(rel - floor) - 1: a 1-4 scale gives gains 0, 1, 3, 7, so 'irrelevant' (1) earns nothing."""
    return np.power(2.0, np.asarray(relevance, dtype=float) - floor) - 1.0


def linear_gain(relevance: np.ndarray | Sequence[float], floor: float = 1.0) -> np.ndarray:
    """rel - floor: a 1-4 scale gives gains 0, 1, 2, 3 (the other common nDCG convention)."""
    return np.asarray(relevance, dtype=float) - floor


def rank_by_scores(ids: Sequence[Hashable], scores: np.ndarray | Sequence[float]) -> list:
    """ids sorted by descending score; ties keep input order (stable), so results are deterministic."""
    scores = np.asarray(scores, dtype=float)
    if len(ids) != len(scores):
        raise ValueError(f"{len(ids)} ids but {len(scores)} scores")
    order = np.argsort(-scores, kind="stable")
    return [ids[i] for i in order]


def catalog_coverage(recommendations: Iterable[Ranked], catalog_size: int, k: int | None = None) -> float:
    """Share of the catalogue that appears in at least one (top-k) list."""
    if catalog_size <= 0:
        raise ValueError("catalog_size must be positive")
    seen: set = set()
    for ranked in recommendations:
        seen.update(ranked if k is None else ranked[:k])
    return len(seen) / catalog_size


def gini(values: np.ndarray | Sequence[float]) -> float:
    """Gini coefficient of non-negative values: 0 = perfectly even, -> 1 = all mass on one entry."""
    x = np.sort(np.asarray(values, dtype=float))
    if x.size == 0 or x.sum() <= 0:
        return math.nan
    if (x < 0).any():
        raise ValueError("gini needs non-negative values")
    n = x.size
    index = np.arange(1, n + 1)
    return float((2.0 * np.sum(index * x)) / (n * x.sum()) - (n + 1.0) / n)


def recommendation_gini(recommendations: Iterable[Ranked], catalog: Iterable[Hashable], k: int | None = None) -> float:
    """Gini of how often each catalogue item is recommended; never-recommended items count as 0."""
    counts: Counter[Hashable] = Counter()
    for ranked in recommendations:
        counts.update(ranked if k is None else ranked[:k])
    return gini([counts.get(item, 0) for item in catalog])


def per_query(
    metric: Callable[..., float], rankings: Sequence[Ranked], truths: Sequence, k: int | None = None
) -> np.ndarray:
    """Apply a per-query metric pairwise; returns a float array with nan where it is undefined."""
    if len(rankings) != len(truths):
        raise ValueError(f"{len(rankings)} rankings but {len(truths)} truths")
    if k is None:
        return np.array([metric(r, t) for r, t in zip(rankings, truths)], dtype=float)
    return np.array([metric(r, t, k) for r, t in zip(rankings, truths)], dtype=float)


def mean_metric(values: np.ndarray | Sequence[float]) -> float:
    """Mean over queries where the metric is defined (nan skipped); nan when none is."""
    arr = np.asarray(values, dtype=float)
    arr = arr[~np.isnan(arr)]
    return float(arr.mean()) if arr.size else math.nan


def summarize(values: np.ndarray | Sequence[float]) -> dict:
    """{'mean', 'std_err', 'n'} over defined queries: the standard error says how much a gap can be noise."""
    arr = np.asarray(values, dtype=float)
    arr = arr[~np.isnan(arr)]
    if arr.size == 0:
        return {"mean": math.nan, "std_err": math.nan, "n": 0}
    std_err = float(arr.std(ddof=1) / math.sqrt(arr.size)) if arr.size > 1 else 0.0
    return {"mean": float(arr.mean()), "std_err": std_err, "n": int(arr.size)}
