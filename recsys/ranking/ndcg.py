"""nDCG@k over query groups with exponential gains, as used for CV model selection and the benchmarks.

Labels here are 0-based grades (CrowdFlower relevance 1-4 becomes 0-3), so the gain 2**label - 1 equals
the 2**(rel-1) - 1 of the 1-4 scale. Ties in score keep the input order (a stable sort), so a constant
scorer measures the input order. Queries whose ideal DCG is 0 (nothing relevant) are skipped.
"""

from __future__ import annotations

import numpy as np


def group_offsets(groups: np.ndarray) -> np.ndarray:
    """LightGBM-style group sizes -> boundaries [0, s1, s1+s2, ...]."""
    return np.concatenate([[0], np.cumsum(np.asarray(groups, dtype=np.int64))])


def dcg(labels_in_rank_order: np.ndarray, k: int) -> float:
    top = np.asarray(labels_in_rank_order[:k], dtype=np.float64)
    return float(((2.0**top - 1.0) / np.log2(np.arange(2, top.size + 2))).sum())


def ndcg_per_query(labels: np.ndarray, scores: np.ndarray, groups: np.ndarray, k: int = 10) -> np.ndarray:
    """nDCG@k of each group with a positive ideal DCG, in group order."""
    labels, scores = np.asarray(labels), np.asarray(scores, dtype=np.float64)
    out = []
    bounds = group_offsets(groups)
    for start, end in zip(bounds[:-1], bounds[1:]):
        lab, sc = labels[start:end], scores[start:end]
        ideal = dcg(np.sort(lab)[::-1], k)
        if ideal > 0:
            out.append(dcg(lab[np.argsort(-sc, kind="stable")], k) / ideal)
    return np.asarray(out, dtype=np.float64)


def mean_ndcg(labels: np.ndarray, scores: np.ndarray, groups: np.ndarray, k: int = 10) -> float:
    values = ndcg_per_query(labels, scores, groups, k)
    return float(values.mean()) if values.size else float("nan")
