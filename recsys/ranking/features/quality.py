"""Item quality: Bayesian-average rating, review volume and review sentiment.

A raw mean rates a one-review 5-star item above a 4.7 item with 300 reviews; the Bayesian average
(prior_weight * prior_mean + sum) / (prior_weight + count) pulls thin evidence toward the catalog mean,
which keeps new (tail) items neutral instead of extreme.
"""

from __future__ import annotations

import numpy as np

from recsys.ranking.features.inputs import ItemStats, Priors, column

NAMES: tuple[str, ...] = ("rating_bayes", "rating_count_log", "review_sentiment")


def bayesian_rating(
    rating_sum: np.ndarray, rating_count: np.ndarray, prior_mean: float, prior_weight: float
) -> np.ndarray:
    return ((prior_weight * prior_mean + rating_sum) / (prior_weight + rating_count)).astype(np.float32)


def quality_features(items: ItemStats, priors: Priors | None, n: int) -> np.ndarray:
    """float32 [n, len(NAMES)]; without priors or counts the rating column is NaN."""
    total, count = column(items.rating_sum, n), column(items.rating_count, n)
    count0 = np.nan_to_num(count, nan=0.0)
    if priors is None:
        rating = np.full(n, np.nan, dtype=np.float32)
    else:
        rating = bayesian_rating(np.nan_to_num(total, nan=0.0), count0, priors.rating_mean, priors.rating_weight)
        rating[np.isnan(count)] = np.nan
    return np.stack([rating, np.log1p(count), column(items.sentiment_mean, n)], axis=1).astype(np.float32)
