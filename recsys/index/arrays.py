"""Array conventions shared by the indexes: int64 item ids (>= 0), -1 padding, best-first top-k."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

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


# A membership table by id costs one byte per id up to the largest; past this many bytes per member, a sorted
# search is used instead (ids far apart, e.g. external keys), so memory stays O(members).
DENSE_BYTES_PER_MEMBER = 64


class IdSet:
    """An immutable set of item ids (an allowed-id filter), made once per query and read by every index it asks.

    ``contains`` is a gather from a bool table indexed by id: O(asked), where ``np.isin`` against the sorted ids
    pays O(members) again for every index and call (a gender filter at a million items holds ~500k ids). Item ids
    are database keys, so the table is about one byte per catalog item; sparse ids fall back to binary search."""

    def __init__(self, ids: np.ndarray | Sequence[int]) -> None:
        ids = as_ids(ids, unique=False)
        # A filter's ids come sorted from the table: checking is O(n), np.unique would sort them again.
        self.ids = ids if bool(np.all(ids[1:] > ids[:-1])) else np.unique(ids)

    def __len__(self) -> int:
        return int(self.ids.size)

    def without(self, ids: np.ndarray | Sequence[int]) -> IdSet:
        return IdSet(np.setdiff1d(self.ids, as_ids(ids, unique=False), assume_unique=False))

    @cached_property
    def _table(self) -> np.ndarray | None:
        """member[id] for ids 0..max, or None when that table would be far larger than the set."""
        if self.ids.size == 0:
            return np.zeros(0, dtype=bool)
        top = int(self.ids[-1]) + 1
        if top > DENSE_BYTES_PER_MEMBER * self.ids.size + (1 << 20):
            return None
        member = np.zeros(top, dtype=bool)
        member[self.ids] = True
        return member

    def contains(self, ids: np.ndarray) -> np.ndarray:
        """Bool mask: which of ``ids`` (any int array; -1 padding is never a member) are in the set."""
        ids = np.asarray(ids, dtype=np.int64)
        table = self._table
        if table is None:
            pos = np.minimum(np.searchsorted(self.ids, ids), max(self.ids.size - 1, 0))
            return (ids >= 0) & (self.ids[pos] == ids) if self.ids.size else np.zeros(ids.shape, dtype=bool)
        if table.size == 0:
            return np.zeros(ids.shape, dtype=bool)
        return table.take(ids, mode="clip") & (ids >= 0) & (ids < table.size)


def as_id_set(allowed: IdSet | np.ndarray | Sequence[int]) -> IdSet:
    """The filter argument every index takes: an ``IdSet``, or ids (made into one)."""
    return allowed if isinstance(allowed, IdSet) else IdSet(allowed)
