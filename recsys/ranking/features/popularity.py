"""Popularity with a smoothed click-through rate, so that new and tail items are not punished.

A raw CTR of 0/0 is undefined and 0/3 looks terrible; with a Beta(alpha, beta) prior the estimate is
(clicks + alpha) / (impressions + alpha + beta): an item never shown scores exactly the prior mean and
moves away from it only as evidence accumulates. The tail flag lets the ranker treat the tail separately.
"""

from __future__ import annotations

import numpy as np

from recsys.ranking.features.inputs import ItemStats, Priors, column

NAMES: tuple[str, ...] = ("ctr_smoothed", "impressions_log", "clicks_log", "popularity_bucket", "is_tail")


def smoothed_ctr(clicks: np.ndarray, impressions: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    return (
        (np.asarray(clicks, dtype=np.float64) + alpha) / (np.asarray(impressions, dtype=np.float64) + alpha + beta)
    ).astype(np.float32)


def popularity_features(items: ItemStats, priors: Priors | None, n: int) -> np.ndarray:
    """float32 [n, len(NAMES)]; NaN without interaction counts or priors."""
    impressions, clicks = column(items.impressions, n), column(items.clicks, n)
    nan = np.full(n, np.nan, dtype=np.float32)
    if priors is None:
        return np.stack([nan, np.log1p(impressions), np.log1p(clicks), nan, nan], axis=1).astype(np.float32)
    missing = np.isnan(impressions)
    ctr = smoothed_ctr(np.nan_to_num(clicks), np.nan_to_num(impressions), priors.ctr_alpha, priors.ctr_beta)
    bucket = np.searchsorted(
        np.asarray(priors.impression_edges, dtype=np.float64), np.nan_to_num(impressions), side="right"
    ).astype(np.float32)
    tail = (np.nan_to_num(impressions) <= priors.tail_impressions).astype(np.float32)
    ctr[missing], bucket[missing], tail[missing] = np.nan, np.nan, np.nan
    return np.stack([ctr, np.log1p(impressions), np.log1p(clicks), bucket, tail], axis=1).astype(np.float32)
