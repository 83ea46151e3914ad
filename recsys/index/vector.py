"""Cosine-similarity vector index over FAISS with int64 item ids, deletes, filters and crash-safe persistence.

Vectors are L2-normalised float32, so FAISS inner product is cosine similarity.

Why an own id map (``_labels``: FAISS position -> item id, -1 = deleted) instead of ``IndexIDMap``:
HNSW cannot remove vectors and IVF/IDMap removal renumbers differently per family. Deleting or replacing
an item therefore tombstones its position; every search then passes a bitmap ``IDSelector`` of live (and
allowed) positions through ``SearchParameters``, which all supported families honour. When a quarter of
the positions are tombstones the index is compacted (rebuilt from its own reconstructed vectors, keeping
IVF training). Lossy codecs (PQ/SQ) lose a little at each compaction: rebuild those from stored embeddings.

Filtered search on approximate indexes (HNSW/IVF) can under-fill ``k`` when the allowed set is selective,
so small allowed sets (``exact_below``) are scored exactly over their reconstructed vectors, HNSW widens
its beam by 1/selectivity, and any row still short of results is redone exactly.

Not thread-safe for mutation during search: the serving path mutates a copy (see snapshot.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import torch

from recsys.index import faiss_factory as ff
from recsys.index.arrays import PAD_ID, IdSet, as_id_set, as_ids, top_k
from recsys.index.store import load_directory, save_directory

log = logging.getLogger(__name__)

KIND = "faiss"
COMPACT_RATIO = 0.25
# Up to this many queries, a flat index is scored by one BLAS product over its own memory: FAISS's flat scan keeps
# a k-heap per query and, for one query at 40k x 640, took 22 ms against 7-9 (docs/search.md, 'Latency at 40k').
SCAN_BATCH = 32


class VectorIndex:
    """``build(ids, vectors)``, ``add``/``remove``, ``search(queries, k, allowed_ids)``, ``save``/``load``."""

    def __init__(
        self,
        dim: int,
        factory: str = "Flat",
        *,
        nprobe: int | None = None,
        ef_search: int = 64,
        ef_construction: int = 80,
        exact_below: int = 2048,
    ) -> None:
        if dim <= 0:
            raise ValueError("dim must be positive")
        self.dim = int(dim)
        self.factory = factory  # as requested (e.g. from Settings.index_factory)
        self.nprobe = nprobe  # None: sqrt(nlist) / 2, at least 8 (faiss_factory.default_nprobe)
        self.ef_search = ef_search
        self.ef_construction = ef_construction
        self.exact_below = exact_below
        self.effective_factory = factory  # may become "Flat" when there is too little data to train
        self._index = ff.make_index(self.dim, factory)
        self._labels = np.empty(0, dtype=np.int64)
        self._sorted: tuple[np.ndarray, np.ndarray] | None = None  # (live ids sorted, their positions)
        # The last IdSet filter and its candidates over positions: a filter the table keeps comes back as the same
        # object, and the mask is a gather over every position (~2 ms at a million), its count and bitmap ~0.1 ms.
        self._filtered: tuple[IdSet, Candidates] | None = None
        self.manifest: dict[str, Any] = {}  # what it was saved with, when it came from ``load``

    # --- edits ---------------------------------------------------------------------------------------
    def build(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Replace the whole content; trains IVF/PQ on ``vectors`` (or falls back to Flat, logged)."""
        ids = as_ids(ids)
        x = self._prepare(vectors, ids.size)
        self._index, self.effective_factory = ff.build_trained(self.dim, self.factory, x, self.ef_construction)
        self._index.add(x)
        self._labels = ids.copy()
        self._labels_changed()

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Insert vectors; ids already present are replaced."""
        ids = as_ids(ids)
        if not self._index.is_trained:
            if len(self):
                raise RuntimeError("untrained index holds vectors")  # cannot happen via this API
            self.build(ids, vectors)
            return
        x = self._prepare(vectors, ids.size)
        old = self._positions(ids)
        self._labels[old[old >= 0]] = PAD_ID
        self._index.add(x)
        self._labels = np.concatenate([self._labels, ids])
        self._labels_changed()
        self._maybe_compact()

    def remove(self, ids: np.ndarray) -> int:
        """Delete ids (unknown ids are ignored); returns how many were removed."""
        pos = self._positions(as_ids(ids, unique=False))
        pos = np.unique(pos[pos >= 0])
        self._labels[pos] = PAD_ID
        self._labels_changed()
        self._maybe_compact()
        return int(pos.size)

    def _maybe_compact(self) -> None:
        dead = int(np.count_nonzero(self._labels < 0))
        if dead and dead >= COMPACT_RATIO * self._labels.size:
            self.compact()

    def compact(self) -> None:
        """Drop tombstoned positions by re-adding live vectors to an empty copy of the trained index."""
        live = np.flatnonzero(self._labels >= 0)
        fresh = ff.empty_like(self._index, self.dim, self.effective_factory, self.ef_construction)
        if live.size:
            fresh.add(self._reconstruct(live))
        self._index = fresh
        self._labels = self._labels[live]
        self._labels_changed()

    # --- queries -------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(np.count_nonzero(self._labels >= 0))

    def ids(self) -> np.ndarray:
        """Live ids, sorted."""
        return self._lookup()[0].copy()

    @property
    def lossy(self) -> bool:
        """Scores come from compressed codes (``…,SQ8``, ``…,PQ<m>``), not exact cosines."""
        return ff.lossy_codes(self._index)

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """Stored (normalised, possibly lossy-coded) vectors of ``ids``; KeyError for unknown ids."""
        wanted = as_ids(ids, unique=False)
        pos = self._positions(wanted)
        if (pos < 0).any():
            raise KeyError(f"unknown ids: {wanted[pos < 0][:10].tolist()}")
        return self._reconstruct(pos)

    def search(
        self, queries: np.ndarray, k: int, allowed_ids: IdSet | np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` by cosine: ``(scores float32 [q,k], ids int64 [q,k])``, best first, -1/-inf padded."""
        q = self._prepare(queries)
        scores = np.full((q.shape[0], k), -np.inf, dtype=np.float32)
        found = np.full((q.shape[0], k), PAD_ID, dtype=np.int64)
        candidates = self._candidates(allowed_ids)
        mask = None if candidates is None else candidates.mask
        n_cand = len(self) if candidates is None else candidates.count
        if k <= 0 or n_cand == 0 or q.shape[0] == 0:
            return scores, found
        exact = ff.is_exact(self._index)
        stored = ff.flat_vectors(self._index) if exact and q.shape[0] <= SCAN_BATCH else None
        if stored is not None:
            return self._scan(q, k, stored, mask)
        if mask is not None and not exact and n_cand <= self.exact_below:
            return self._exact(q, k, np.flatnonzero(mask))
        sel = None if candidates is None else candidates.selector
        nprobe = self.nprobe or ff.default_nprobe(self._index)
        params = ff.search_params(self._index, k, sel, nprobe, self.ef_search, n_cand / max(self._labels.size, 1))
        dist, pos = self._index.search(q, k, params=params)
        hit = pos >= 0
        found[hit] = self._labels[pos[hit]]
        scores[hit] = dist[hit]
        if mask is not None and not exact:
            short = np.flatnonzero(np.count_nonzero(hit, axis=1) < min(k, n_cand))
            if short.size:
                scores[short], found[short] = self._exact(q[short], k, np.flatnonzero(mask))
        return scores, found

    def _labels_changed(self) -> None:
        self._sorted = None
        self._filtered = None

    def _candidates(self, allowed_ids: IdSet | np.ndarray | None) -> Candidates | None:
        """The positions a search may return, or None when every position is a live candidate."""
        if allowed_ids is not None:
            last = self._filtered
            if last is not None and last[0] is allowed_ids:
                return last[1]
            allowed = as_id_set(allowed_ids)
            found = Candidates(allowed.contains(self._labels))  # tombstoned positions hold -1: never members
            self._filtered = (allowed, found)  # one tuple swapped whole: concurrent searches at worst recompute
            return found
        if len(self) < self._labels.size:
            return Candidates(self._labels >= 0)
        return None

    def _scan(
        self, q: np.ndarray, k: int, stored: np.ndarray, mask: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        sims = inner_products(q, stored)
        if mask is not None:
            sims[:, ~mask] = -np.inf
        return _best_per_row(sims, k, self._labels)

    def _exact(self, q: np.ndarray, k: int, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _best_per_row(inner_products(q, self._reconstruct(positions)), k, self._labels[positions])

    # --- helpers -------------------------------------------------------------------------------------
    def _prepare(self, vectors: np.ndarray, n: int | None = None) -> np.ndarray:
        x = np.array(vectors, dtype=np.float32, order="C", copy=True)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"expected vectors of shape [n, {self.dim}], got {x.shape}")
        if n is not None and x.shape[0] != n:
            raise ValueError(f"{n} ids but {x.shape[0]} vectors")
        if not np.isfinite(x).all():
            raise ValueError("vectors contain NaN or inf")
        faiss.normalize_L2(x)
        return x

    def _reconstruct(self, positions: np.ndarray) -> np.ndarray:
        if positions.size == 0:
            return np.empty((0, self.dim), dtype=np.float32)
        return self._index.reconstruct_batch(positions.astype(np.int64))

    def _lookup(self) -> tuple[np.ndarray, np.ndarray]:
        if self._sorted is None:
            live = np.flatnonzero(self._labels >= 0)
            order = np.argsort(self._labels[live], kind="stable")
            self._sorted = (self._labels[live][order], live[order])
        return self._sorted

    def _positions(self, ids: np.ndarray) -> np.ndarray:
        """FAISS position of each id, -1 where absent (vectorised binary search)."""
        keys, pos = self._lookup()
        if keys.size == 0:
            return np.full(ids.size, -1, dtype=np.int64)
        i = np.minimum(np.searchsorted(keys, ids), keys.size - 1)
        return np.where(keys[i] == ids, pos[i], -1)

    def copy(self) -> VectorIndex:
        """A deep copy (FAISS index cloned) for copy-on-write updates."""
        other = VectorIndex.__new__(VectorIndex)
        other.__dict__.update(self.__dict__)
        other._index = faiss.clone_index(self._index)
        other._labels = self._labels.copy()
        other._labels_changed()
        return other

    # --- persistence ---------------------------------------------------------------------------------
    def save(
        self,
        directory: str | Path,
        manifest: Mapping[str, Any] | None = None,
        before_commit: Callable[[Path], None] | None = None,
    ) -> dict[str, Any]:
        """Atomically write ``index.faiss`` + ``labels.npy`` + manifest.json (see store.py).

        ``manifest`` carries the caller's fields (e.g. ``model_version``); count, dim, factory, checksums
        and the creation time are added. Returns the manifest written. ``before_commit(folder)`` runs once the
        files are written, before they are published: if it raises, the saved index stays the previous one.
        """

        def write(folder: Path) -> None:
            faiss.write_index(self._index, str(folder / "index.faiss"))
            np.save(folder / "labels.npy", self._labels)
            if before_commit is not None:
                before_commit(folder)

        full = dict(manifest or {})
        full.update(
            kind=KIND,
            count=len(self),
            dim=self.dim,
            factory=self.factory,
            effective_factory=self.effective_factory,
            params={
                "nprobe": self.nprobe,
                "ef_search": self.ef_search,
                "ef_construction": self.ef_construction,
                "exact_below": self.exact_below,
            },
        )
        return save_directory(directory, write, full)

    @classmethod
    def load(cls, directory: str | Path, expect: Mapping[str, Any] | None = None) -> VectorIndex | None:
        """The saved index, or None when missing, corrupt, or differing from ``expect`` (then rebuild).

        Typical ``expect``: ``{"model_version": v, "count": n_items, "dim": d, "factory": settings.index_factory}``.
        """
        found = load_directory(directory, expect)
        if found is None:
            return None
        folder, manifest = found
        if manifest.get("kind") != KIND:
            log.warning("%s does not hold a FAISS index", directory)
            return None
        try:
            index = faiss.read_index(str(folder / "index.faiss"))
            labels = np.load(folder / "labels.npy", allow_pickle=False)
        except (RuntimeError, OSError, ValueError) as exc:
            log.warning("cannot read FAISS index %s: %s", directory, exc)
            return None
        out = cls(int(manifest["dim"]), manifest["factory"], **manifest["params"])
        if index.d != out.dim or index.ntotal != labels.size or int(np.count_nonzero(labels >= 0)) != manifest["count"]:
            log.warning("FAISS index %s is inconsistent with its manifest", directory)
            return None
        out._index = index
        out._labels = labels.astype(np.int64, copy=False)
        out.effective_factory = manifest["effective_factory"]
        out.manifest = manifest
        return out


class Candidates:
    """A search's allowed positions: the bool mask (read-only), its count, and FAISS's selector over its bitmap,
    made once per kept filter rather than once per query."""

    def __init__(self, mask: np.ndarray) -> None:
        mask.flags.writeable = False
        self.mask, self.count = mask, int(np.count_nonzero(mask))
        # Made at once and never replaced: the selector reads the bitmap's memory, which this object holds for as
        # long as any search holds it (n = bytes).
        self._bitmap = np.packbits(mask, bitorder="little")
        self.selector = faiss.IDSelectorBitmap(self._bitmap.size, faiss.swig_ptr(self._bitmap))


def inner_products(q: np.ndarray, x: np.ndarray) -> np.ndarray:
    """[q, n] inner products. torch's product runs on the thread pool the encoders use; numpy's OpenBLAS threads
    spin after each call and slowed the next query encode 3x on 2 cores."""
    return (torch.from_numpy(np.ascontiguousarray(q)) @ torch.from_numpy(np.ascontiguousarray(x)).T).numpy()


def _best_per_row(sims: np.ndarray, k: int, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows = [top_k(row, k, ids, pad_score=-np.inf) for row in sims]
    return np.stack([r[0] for r in rows]), np.stack([r[1] for r in rows])
