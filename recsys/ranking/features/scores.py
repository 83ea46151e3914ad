"""Route scores as features: BM25 on title and description, dense cosines from the recall routes.

These arrive precomputed (the recall stage already has them), so this family only aligns them.
"""

from __future__ import annotations

import numpy as np

from recsys.ranking.features.inputs import RouteScores, column

NAMES: tuple[str, ...] = (
    "bm25_title",
    "bm25_desc",
    "cos_text_title",
    "cos_text_desc",
    "cos_text_image",
    "cos_image_image",
    "cos_text_doc",
)


def route_score_features(scores: RouteScores, n: int) -> np.ndarray:
    """float32 [n, len(NAMES)]; absent routes are NaN columns."""
    return np.stack([column(getattr(scores, name), n) for name in NAMES], axis=1)
