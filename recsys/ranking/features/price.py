"""Price, price relative to its category, and freshness.

Absolute price means little across categories (a 40 sock vs a 40 sofa); the z-score of log price within
the item's category says "cheap/expensive for what it is". Age lets the ranker learn a freshness effect.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recsys.ranking.features.inputs import ItemStats, column

NAMES: tuple[str, ...] = ("price_log", "price_z_category", "age_days_log")


def category_price_stats(prices: np.ndarray, categories: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per-item (mean, std) of log1p price over its category, for filling ``ItemStats`` from a catalog."""
    logp = np.log1p(np.asarray(prices, dtype=np.float64))
    codes, inverse = np.unique(np.asarray(categories, dtype=object).astype(str), return_inverse=True)
    ok = ~np.isnan(logp)
    counts = np.bincount(inverse[ok], minlength=len(codes))
    sums = np.bincount(inverse[ok], weights=logp[ok], minlength=len(codes))
    squares = np.bincount(inverse[ok], weights=logp[ok] ** 2, minlength=len(codes))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums / counts
        std = np.sqrt(np.maximum(squares / counts - mean**2, 0.0))
    return mean[inverse].astype(np.float32), std[inverse].astype(np.float32)


def price_features(items: ItemStats, n: int) -> np.ndarray:
    """float32 [n, len(NAMES)]; z-score is NaN when the category has no spread (one price)."""
    logp = np.log1p(column(items.price, n))
    mean, std = column(items.category_price_mean, n), column(items.category_price_std, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(std > 0, (logp - mean) / std, np.nan)
    age = np.log1p(np.maximum(column(items.age_days, n), 0.0))
    return np.stack([logp, z, age], axis=1).astype(np.float32)
