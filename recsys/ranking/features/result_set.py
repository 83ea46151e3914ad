"""Result-set agreement: how much a candidate resembles the other strong candidates of the same query.

Pseudo-relevance feedback (Rocchio; RM3 in lexical IR) without labels: the top of a first-stage ranking is
mostly relevant, so the centroid of those items describes what the query means in this catalog better than
the short query text does. An accessory listed under "iphone 5" or an off-type product sits far from that
centroid even when its title repeats the query words. Each candidate is compared with the centroid of the
top ``PRF_DEPTH`` OTHER candidates (leave-one-out, so an item never votes for itself). Measured on CrowdFlower's
178 queries, this alone ranks better than the query cosine it starts from (docs/ranking.md).
"""
from __future__ import annotations

import numpy as np

from .inputs import RouteScores

NAMES: tuple[str, ...] = ("prf_sim", "set_coherence")
PRF_DEPTH = 10  # pseudo-relevant set: the first-stage top 10 (the depth nDCG@10 looks at)
# The first present of these orders the pseudo-relevant set: the strongest query-item similarity a route gave.
FIRST_STAGE: tuple[str, ...] = ("cos_text_doc", "cos_text_title", "cos_text_image", "cos_image_image")


def first_stage_scores(scores: RouteScores) -> np.ndarray | None:
    for name in FIRST_STAGE:
        values = getattr(scores, name)
        if values is not None and not np.isnan(np.asarray(values, dtype=np.float64)).all():
            return np.asarray(values, dtype=np.float64)
    return None


def result_set_features(item_vectors: np.ndarray | None, first_stage: np.ndarray | None, n: int,
                        depth: int = PRF_DEPTH) -> np.ndarray:
    """float32 [n, 2]: ``prf_sim`` (cosine with the leave-one-out centroid of the first-stage top ``depth``)
    and ``set_coherence`` (mean cosine with every other candidate). NaN without vectors or with under 3
    candidates (no "others" to agree with); ``prf_sim`` is also NaN without a first-stage score."""
    out = np.full((n, len(NAMES)), np.nan, dtype=np.float32)
    if item_vectors is None or n < 3:
        return out
    V = np.asarray(item_vectors, dtype=np.float32)
    V = V / np.maximum(np.linalg.norm(V, axis=1, keepdims=True), 1e-12)
    # Every sum of cosines is a dot product with a summed vector: O(n * dim), no n x n matrix.
    out[:, 1] = (V @ V.sum(axis=0) - 1.0) / (n - 1)
    if first_stage is None:
        return out
    score = np.nan_to_num(np.asarray(first_stage, dtype=np.float64), nan=-np.inf)
    top = np.argsort(-score, kind="stable")[:depth]
    in_top = np.zeros(n, dtype=bool)
    in_top[top] = True
    total = V[top].sum(axis=0)
    # centroid_i = total - V_i for members of the top set, total otherwise; only its direction matters
    to_total = V @ total
    dot = to_total - np.where(in_top, 1.0, 0.0)
    norm_sq = total @ total - np.where(in_top, 2.0 * to_total - 1.0, 0.0)
    out[:, 0] = np.where(norm_sq > 1e-12, dot / np.sqrt(np.maximum(norm_sq, 1e-12)), np.nan)
    return out
