"""Per-query normalisation: where a candidate stands among the other candidates of the same query.

Raw BM25 and cosine scales differ wildly between queries (long queries score higher), yet LambdaRank only
compares candidates within a query. Rank-within-query, z-score-within-query and gap-to-best turn raw scores
into a scale the trees can split on uniformly across queries, which matters most for unseen queries.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

SOURCES: tuple[str, ...] = (
    "bm25_title",
    "bm25_desc",
    "cos_text_title",
    "cos_text_desc",
    "title_cov",
    "title_char_jaccard",
    "prf_sim",
)
NAMES: tuple[str, ...] = tuple(f"{s}_{kind}" for s in SOURCES for kind in ("qrank", "qz", "qgap"))


def _rank_pct(x: np.ndarray) -> np.ndarray:
    """0 for the best candidate, 1 for the worst; ties share their mean rank; NaN stays NaN."""
    out = np.full(x.shape, np.nan, dtype=np.float32)
    ok = ~np.isnan(x)
    m = int(ok.sum())
    if m == 0:
        return out
    v = x[ok]
    order = np.argsort(-v, kind="stable")
    ranks = np.empty(m, dtype=np.float64)
    ranks[order] = np.arange(m, dtype=np.float64)
    # Average ranks over ties so that equal scores get equal features.
    _, inverse, counts = np.unique(-v, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    out[ok] = (sums / counts)[inverse] / max(m - 1, 1)
    return out


def query_norm_features(columns: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    """float32 [n, len(NAMES)]; the candidate list is one query, so statistics are over all n rows."""
    out = np.full((n, len(NAMES)), np.nan, dtype=np.float32)
    for j, source in enumerate(SOURCES):
        x = columns[source].astype(np.float64)
        ok = ~np.isnan(x)
        if not ok.any():
            continue  # route absent for this query: all three stay NaN
        mean, std, best = x[ok].mean(), x[ok].std(), x[ok].max()
        out[:, 3 * j] = _rank_pct(x)
        out[:, 3 * j + 1] = (x - mean) / std if std > 0 else np.where(ok, 0.0, np.nan)
        out[:, 3 * j + 2] = best - x
    return out
