"""Fit the catalog-wide ``Priors`` from catalog aggregates (so no prior is a hand-picked number)."""

from __future__ import annotations

import numpy as np

from recsys.ranking.features.inputs import Priors

# Head = the top 20% of items by impressions (the classic 80/20 popularity split); finer buckets above.
TAIL_QUANTILE = 0.8
BUCKET_QUANTILES = (0.5, 0.8, 0.95, 0.99)


def beta_prior_from_rates(
    clicks: np.ndarray, impressions: np.ndarray, min_impressions: int = 20
) -> tuple[float, float]:
    """Method-of-moments Beta(alpha, beta) from per-item CTRs of items with enough impressions."""
    clicks, impressions = np.asarray(clicks, float), np.asarray(impressions, float)
    seen = impressions >= min_impressions
    if seen.sum() < 2:
        # Too little evidence for a variance: a weak prior centred on the pooled CTR (one pseudo-impression).
        pooled = (clicks.sum() + 1.0) / (impressions.sum() + 2.0)
        return float(pooled), float(1.0 - pooled)
    rates = clicks[seen] / impressions[seen]
    mean, var = rates.mean(), rates.var()
    if var <= 0 or mean in (0.0, 1.0):
        return float(mean + 1e-3), float(1.0 - mean + 1e-3)
    strength = max(mean * (1 - mean) / var - 1.0, 1e-3)
    return float(mean * strength), float((1 - mean) * strength)


def fit_priors(rating_sum: np.ndarray, rating_count: np.ndarray, impressions: np.ndarray, clicks: np.ndarray) -> Priors:
    """Priors from arrays over the whole catalog (one entry per item)."""
    rating_sum, rating_count = np.asarray(rating_sum, float), np.asarray(rating_count, float)
    impressions = np.asarray(impressions, float)
    reviewed = rating_count > 0
    rating_mean = float(rating_sum.sum() / rating_count.sum()) if reviewed.any() else float("nan")
    # Trust an item's own mean once it has as many reviews as a typical reviewed item.
    rating_weight = float(np.median(rating_count[reviewed])) if reviewed.any() else 1.0
    alpha, beta = beta_prior_from_rates(clicks, impressions)
    edges = tuple(float(e) for e in np.quantile(impressions, BUCKET_QUANTILES)) if impressions.size else ()
    tail = float(np.quantile(impressions, TAIL_QUANTILE)) if impressions.size else 0.0
    return Priors(rating_mean, rating_weight, alpha, beta, edges, tail)
