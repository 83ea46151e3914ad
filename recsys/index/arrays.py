"""Array conventions shared by the indexes: int64 item ids (>= 0), -1 padding, best-first top-k."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

PAD_ID = -1  # FAISS convention for "no result in this slot"


def as_ids(ids: np.ndarray | Sequence[int], *, unique: bool = True) -> np.ndarray:
    """Return ids as a 1-D int64 array; ids must be >= 0 because -1 marks padding."""
    out = np.asarray(ids)
    if out.size == 0:
        return np.empty(0, dtype=np.int64)
    if out.ndim != 1 or not np.issubdtype(out.dtype, np.integer):
        raise ValueError(f"ids must be a 1-D integer array, got shape {out.shape} dtype {out.dtype}")
    out = out.astype(np.int64, copy=False)
    if out.min() < 0:
        raise ValueError("ids must be >= 0 (-1 is the padding id)")
    if unique and np.unique(out).size != out.size:
        raise ValueError("ids must be unique")
    return out


def top_k(scores: np.ndarray, k: int, ids: np.ndarray, pad_score: float) -> tuple[np.ndarray, np.ndarray]:
    """Best ``k`` of ``scores`` (1-D, -inf = excluded), ties broken by smaller id; padded to length k."""
    out_scores = np.full(k, pad_score, dtype=np.float32)
    out_ids = np.full(k, PAD_ID, dtype=np.int64)
    valid = np.flatnonzero(np.isfinite(scores))
    if k <= 0 or valid.size == 0:
        return out_scores, out_ids
    if valid.size > k:
        # argpartition keeps this O(n); the k-th score may be tied, so keep every tie before sorting.
        kth = np.partition(scores[valid], valid.size - k)[valid.size - k]
        valid = valid[scores[valid] >= kth]
    order = np.lexsort((ids[valid], -scores[valid]))[:k]
    chosen = valid[order]
    out_scores[: chosen.size] = scores[chosen]
    out_ids[: chosen.size] = ids[chosen]
    return out_scores, out_ids
