"""Order candidates when no ranker has been trained yet: a fixed, documented weighted sum.

With no labels there is nothing to fit weights on, so every relevance signal that is present gets the same
weight after per-query standardisation, and a signal that is absent (a route that did not run) adds 0:

* text: the per-query z-scores ``bm25_title_qz``, ``cos_text_title_qz``, ``title_cov_qz``, ``bm25_desc_qz``,
  ``cos_text_desc_qz``;
* images: the within-list z-scores of ``cos_text_image`` (query words vs item photos, the strongest signal on
  a catalog of photos with short titles) and ``cos_image_image`` (query photo vs item photos). Without them
  an image-only query would come back in arbitrary order.

Quality and popularity only break near-ties (weight 0.1 each on their within-list z-score), so a new item is
never buried for lacking reviews or clicks. The order this gives is measured in docs/ranking.md.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recsys.ranking.features.registry import FEATURES

TEXT_RELEVANCE = ("bm25_title_qz", "cos_text_title_qz", "title_cov_qz", "bm25_desc_qz", "cos_text_desc_qz")
IMAGE_RELEVANCE = ("cos_text_image", "cos_image_image")  # raw cosines: z-scored here, within the list
RELEVANCE = TEXT_RELEVANCE + IMAGE_RELEVANCE
TIE_BREAKERS = ("rating_bayes", "ctr_smoothed")
TIE_WEIGHT = 0.1


def _z(x: np.ndarray) -> np.ndarray:
    """Within-list z-score; 0 where the value is missing or the list has no spread (the signal is absent)."""
    ok = ~np.isnan(x)
    if ok.sum() < 2 or x[ok].std() == 0:
        return np.zeros_like(x)
    return np.where(ok, (x - x[ok].mean()) / x[ok].std(), 0.0)


def fallback_scores(X: np.ndarray, names: Sequence[str] = FEATURES.names) -> np.ndarray:
    """Score one candidate list (rows of ``X`` = one query's candidates); higher is better."""
    X = np.asarray(X, dtype=np.float64)
    col = {name: j for j, name in enumerate(names)}
    score = np.nan_to_num(X[:, [col[n] for n in TEXT_RELEVANCE]], nan=0.0).sum(axis=1)
    for name in IMAGE_RELEVANCE:
        score += _z(X[:, col[name]])
    for name in TIE_BREAKERS:
        score += TIE_WEIGHT * _z(X[:, col[name]])
    return score
