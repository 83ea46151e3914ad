"""Order candidates when no ranker has been trained yet: a fixed, documented weighted sum.

With no labels there is nothing to fit weights on, so every relevance signal gets the same weight after
per-query standardisation (the ``*_qz`` features), and missing routes simply contribute 0. Quality and
popularity only break near-ties (weight 0.1 each on their within-list z-score), so a new item is never
buried for lacking reviews or clicks. The order this gives on CrowdFlower is in docs/ranking.md.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .features.registry import FEATURES

RELEVANCE = ("bm25_title_qz", "cos_text_title_qz", "title_cov_qz", "bm25_desc_qz", "cos_text_desc_qz")
TIE_BREAKERS = ("rating_bayes", "ctr_smoothed")
TIE_WEIGHT = 0.1


def _z(x: np.ndarray) -> np.ndarray:
    ok = ~np.isnan(x)
    if ok.sum() < 2 or x[ok].std() == 0:
        return np.zeros_like(x)
    return np.where(ok, (x - x[ok].mean()) / x[ok].std(), 0.0)


def fallback_scores(X: np.ndarray, names: Sequence[str] = FEATURES.names) -> np.ndarray:
    """Score one candidate list (rows of ``X`` = one query's candidates); higher is better."""
    X = np.asarray(X, dtype=np.float64)
    col = {name: j for j, name in enumerate(names)}
    score = np.nan_to_num(X[:, [col[n] for n in RELEVANCE]], nan=0.0).sum(axis=1)
    for name in TIE_BREAKERS:
        score += TIE_WEIGHT * _z(X[:, col[name]])
    return score
