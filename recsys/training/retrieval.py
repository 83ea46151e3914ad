"""Retrieval quality of a joint space where query i's only relevant item is item i (paired data)."""

from __future__ import annotations

import numpy as np


def paired_recall_mrr(queries: np.ndarray, items: np.ndarray, k: int = 10, chunk: int = 1024) -> tuple[float, float]:
    """(Recall@k, MRR@k) of unit query rows against unit item rows, ties counted against the positive."""
    hits, reciprocal = 0.0, 0.0
    for start in range(0, len(queries), chunk):
        sims = queries[start : start + chunk] @ items.T
        rows = np.arange(sims.shape[0])
        positive = sims[rows, rows + start]
        rank = (sims >= positive[:, None]).sum(axis=1)  # 1 = best; a tie with the positive counts against it
        found = rank <= k
        hits += found.sum()
        reciprocal += (found / rank).sum()
    n = max(len(queries), 1)
    return float(hits / n), float(reciprocal / n)
