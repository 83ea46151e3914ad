"""Bayesian shrinkage of an item's share of praise toward the catalog's, so two mentions are not a verdict.

Beta-binomial posterior mean: (positive + weight * prior_share) / (positive + negative + weight). The prior share
is the catalog's share of positive mentions of the aspect; the weight is the median number of polar mentions
among items that have any (as ``ranking/features/priors.py`` does for ratings), so no weight is hand-picked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class AspectPrior:
    share_positive: float  # catalog-wide, over polar (positive or negative) mentions
    weight: float  # pseudo-mentions


def fit_prior(positive: np.ndarray, negative: np.ndarray) -> AspectPrior:
    """From per-item counts of positive and negative mentions of one aspect (items without any are ignored)."""
    positive, negative = np.asarray(positive, float), np.asarray(negative, float)
    polar = positive + negative
    if polar.sum() <= 0:
        return AspectPrior(0.5, 1.0)  # nothing known: an even prior worth one mention
    return AspectPrior(float(positive.sum() / polar.sum()), float(max(1.0, np.median(polar[polar > 0]))))


def shrunk_share(positive: np.ndarray | float, negative: np.ndarray | float, prior: AspectPrior) -> np.ndarray:
    positive, negative = np.asarray(positive, float), np.asarray(negative, float)
    return ((positive + prior.weight * prior.share_positive) / (positive + negative + prior.weight)).astype(np.float32)
