"""Cosine vector search over immutable FAISS segments with tombstones (the segmented index's vector part).

A snapshot is a tuple of ``VectorIndex`` segments (the base, built by the configured factory string, then small
exact ``Flat`` deltas, one per applied edit) plus, per segment, the ids deleted from it. Nobody edits a published
segment: an edit builds a new delta from the edited rows only and tombstones their old positions. A search asks
each segment for ``k`` plus its tombstone count (so tombstones cannot crowd out live results), drops the
tombstoned ids and keeps the best ``k`` of all segments by score (cosine: comparable across segments), ties by
smaller id. ``merged()`` folds the deltas into a copy of the trained base (no retraining; background merge).
Numpy in, numpy out, as ``VectorIndex``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recsys.index.arrays import PAD_ID, IdSet, as_id_set, as_ids
from recsys.index.vector import VectorIndex

EMPTY = np.empty(0, np.int64)
DELTA_FACTORY = "Flat"  # deltas are small: exact search, nothing to train


class SegmentedVectorIndex:
    def __init__(self, segments: Sequence[VectorIndex], dead: Sequence[np.ndarray] | None = None) -> None:
        if not segments:
            raise ValueError("a segmented index needs a base segment")
        self.segments = tuple(segments)
        self.dead = tuple(dead) if dead is not None else tuple(EMPTY for _ in self.segments)
        if len(self.dead) != len(self.segments):
            raise ValueError("one tombstone array per segment")
        self.dim = self.segments[0].dim
        self.factory = self.segments[0].factory

    @property
    def base(self) -> VectorIndex:
        return self.segments[0]

    # --- edits: each returns a new snapshot --------------------------------------------------------
    def edited(self, add_ids: np.ndarray, add_vectors: np.ndarray, remove_ids: np.ndarray) -> SegmentedVectorIndex:
        """Items ``add_ids`` inserted or replaced (update = tombstone + add), ``remove_ids`` deleted."""
        add_ids = as_ids(add_ids)
        gone = np.union1d(as_ids(remove_ids, unique=False), add_ids)
        dead = [self._tombstoned(s, d, gone) for s, d in zip(self.segments, self.dead)]
        segments = list(self.segments)
        if add_ids.size:
            delta = VectorIndex(self.dim, DELTA_FACTORY)
            delta.build(add_ids, add_vectors)
            segments.append(delta)
            dead.append(EMPTY)
        return SegmentedVectorIndex(segments, dead)

    @staticmethod
    def _tombstoned(segment: VectorIndex, dead: np.ndarray, gone: np.ndarray) -> np.ndarray:
        if not gone.size or not len(segment):
            return dead
        held = gone[segment._positions(gone) >= 0]  # noqa: SLF001 - same package: the segment's id lookup
        return np.union1d(dead, held) if held.size else dead

    def merged(self, upto: int | None = None) -> SegmentedVectorIndex:
        """The first ``upto`` segments (all by default) folded into a copy of the base: its tombstones removed,
        the deltas' live vectors added (the base keeps its trained factory)."""
        upto = len(self.segments) if upto is None else upto
        if upto <= 1 and not self.dead[0].size:
            return self
        base = self.base.copy()
        if self.dead[0].size:
            base.remove(self.dead[0])
        for segment, gone in zip(self.segments[1:upto], self.dead[1:upto]):
            live = np.setdiff1d(segment.ids(), gone)
            if live.size:
                base.add(live, segment.vectors(live))
        return SegmentedVectorIndex([base, *self.segments[upto:]], [EMPTY, *self.dead[upto:]])

    def delta_items(self) -> int:
        """Vectors outside the base plus tombstones: what a merge would fold."""
        return sum(len(s) for s in self.segments[1:]) + sum(int(d.size) for d in self.dead)

    # --- queries -------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return sum(len(s) - int(d.size) for s, d in zip(self.segments, self.dead))

    @property
    def lossy(self) -> bool:
        return self.base.lossy  # the deltas are exact (``DELTA_FACTORY``)

    def ids(self) -> np.ndarray:
        parts = [np.setdiff1d(s.ids(), d, assume_unique=True) for s, d in zip(self.segments, self.dead)]
        return np.sort(np.concatenate(parts))

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """Stored vectors of live ``ids``; KeyError for unknown or deleted ids."""
        wanted = as_ids(ids, unique=False)
        out = np.zeros((wanted.size, self.dim), np.float32)
        found = np.zeros(wanted.size, bool)
        for segment, gone in zip(self.segments, self.dead):
            pos = segment._positions(wanted)  # noqa: SLF001 - same package
            take = (pos >= 0) & ~np.isin(wanted, gone)
            if take.any():
                out[take] = segment.vectors(wanted[take])
                found |= take
        if not found.all():
            raise KeyError(f"unknown ids: {wanted[~found][:10].tolist()}")
        return out

    def search(
        self, queries: np.ndarray, k: int, allowed_ids: IdSet | np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` by cosine over the live items: ``(scores float32 [q,k], ids int64 [q,k])``, -1/-inf padded."""
        parts_s, parts_i = [], []
        allowed_ids = None if allowed_ids is None else as_id_set(allowed_ids)  # one membership table for all
        for segment, gone in zip(self.segments, self.dead):
            if len(segment) - gone.size <= 0:
                continue
            s, i = segment.search(queries, k + int(gone.size), allowed_ids)
            if gone.size:
                dropped = np.isin(i, gone)
                s, i = np.where(dropped, -np.inf, s), np.where(dropped, PAD_ID, i)
            parts_s.append(s)
            parts_i.append(i)
        q = np.asarray(queries).reshape(-1, self.dim).shape[0]
        scores = np.full((q, max(k, 0)), -np.inf, np.float32)
        found = np.full((q, max(k, 0)), PAD_ID, np.int64)
        if not parts_s or k <= 0:
            return scores, found
        s, i = np.concatenate(parts_s, axis=1), np.concatenate(parts_i, axis=1)
        for row in range(q):
            order = np.lexsort((i[row], -s[row]))
            order = order[i[row][order] >= 0][:k]
            scores[row, : order.size] = s[row][order]
            found[row, : order.size] = i[row][order]
        return scores, found
