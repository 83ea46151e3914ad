"""Exposure-aware re-rank of search results: the tail's share of each results page, the same knob as recommendations.

**Tail, for search**: an item's exposure is what the events table holds for it, impressions (every hit a search
showed) plus every other event (views, clicks, carts, purchases), read with the item table (``ItemTable.impressions``
and ``.clicks``, refreshed with every index update). The head is the most exposed items that together hold
``HEAD_EXPOSURE`` (80%) of all exposure, ties to the lower item id; every other item, never-shown ones included, is
tail. A catalog with no events yet has no head: everything is tail and the re-rank is the relevance order.

**Re-rank**: ``recommend.exposure.calibrated_rerank`` over the page's candidates: the relevance order's first
``depth`` candidates (``depth_for``: ``TAIL_DEPTH_PAGES`` pages of ``k``, so a lifted item still comes from near
the page, never from the bottom of the recall list), and at least ``floor(tail_share * positions)`` tail items in
every prefix of the page while such candidates last: rounded down, unlike recommendations, so the best match stays
first and a page of 10 at 0.1 gives the tail its 10th slot (at 0.3: slots 4, 7 and 10 at the latest).
At 0 the page is the relevance order unchanged.
The trade-off (nDCG@10 against tail share of impressions, coverage, Gini) is measured by
``benchmarks/bench_search_exposure.py`` (docs/search.md, "Exposure").
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from recsys.recommend.exposure import calibrated_rerank
from recsys.search.rank import Ranked
from recsys.search.table import ItemTable

HEAD_EXPOSURE = 0.8  # the head holds this share of all logged exposure (the replay suite's head rule)
TAIL_DEPTH_PAGES = 3  # tail candidates come from the relevance order's first 3 pages of k
LIFTED = "; placed for exposure: few shoppers have seen it yet"

_cache: tuple[ItemTable, np.ndarray] | None = None  # the last table's mask; replaced whole (one assignment)


def exposure_counts(table: ItemTable) -> np.ndarray:
    """Per table row: impressions plus every other logged event."""
    return np.asarray(table.impressions, dtype=np.float64) + np.asarray(table.clicks, dtype=np.float64)


def tail_from_counts(counts: np.ndarray, head_share: float = HEAD_EXPOSURE) -> np.ndarray:
    """True for tail rows: outside the fewest most-counted rows (ties to the lower row) holding ``head_share``."""
    counts = np.asarray(counts, dtype=np.float64)
    tail = np.ones(counts.size, dtype=bool)
    total = counts.sum()
    if total <= 0:
        return tail
    order = np.lexsort((np.arange(counts.size), -counts))
    held = np.cumsum(counts[order])
    n_head = int(np.searchsorted(held, head_share * total - 1e-9)) + 1  # the first prefix reaching the share
    tail[order[:n_head]] = False
    return tail


def table_tail(table: ItemTable) -> np.ndarray:
    """The tail mask of a serving table's rows, computed once per table (a table never changes once built)."""
    global _cache
    cached = _cache
    if cached is not None and cached[0] is table:
        return cached[1]
    mask = tail_from_counts(exposure_counts(table))
    _cache = (table, mask)
    return mask


def depth_for(k: int, tail_share: float) -> int:
    """How many of the relevance order's candidates the re-rank may choose from for a page of ``k``."""
    return k if tail_share <= 0 else TAIL_DEPTH_PAGES * k


def rerank_page(ranked: Ranked, tail: np.ndarray, k: int, tail_share: float) -> Ranked:
    """``ranked`` (its ``order``: the relevance order's first ``depth_for(k)`` candidates) cut to a page of ``k``
    holding at least ``tail_share`` tail items per prefix, a lifted item noted; ``tail`` is per candidate position."""
    if tail_share <= 0 or not len(ranked.order):
        return replace(ranked, order=ranked.order[:k])
    before = {int(pos): n for n, pos in enumerate(ranked.order)}
    order = calibrated_rerank(ranked.order.tolist(), np.asarray(tail, dtype=bool), k, tail_share, round_up=False)
    explanations = dict(ranked.explanations)
    for n, pos in enumerate(order):
        if before[pos] > n and tail[pos]:  # moved up by the floor, not by relevance
            explanations[pos] = explanations.get(pos, "") + LIFTED
    return replace(ranked, order=np.asarray(order, dtype=np.int64), explanations=explanations)
