"""FAISS index construction from a factory string: training rules, fallback, and per-family search knobs.

Supported families (inner product metric): ``Flat``; graph ``HNSW<M>[,Flat|SQ8...]``; inverted lists
``IVF<nlist>,<codec>`` (Flat, SQ8, PQ<m>). Pre-transforms (``OPQ``, ``PCA``) and ``IDMap`` are refused: the
vector index keeps its own id map and passes ID selectors straight to the index it searches.
"""

from __future__ import annotations

import logging
import math
import re
from typing import Any

import faiss
import numpy as np

log = logging.getLogger(__name__)

# k-means in FAISS warns below 39 training points per centroid; under that the clusters are noise.
MIN_POINTS_PER_CENTROID = 39
PQ_CENTROIDS = 256
# A refine step (``...,RFlat`` / ``...,Refine(SQfp16)``) re-scores k * this many coarse hits with finer codes.
REFINE_K_FACTOR = 4


def make_index(dim: int, factory: str) -> faiss.Index:
    """An empty (possibly untrained) inner-product index; raises ValueError for unsupported strings."""
    if re.search(r"IDMap|OPQ|PCA|RR\d|L2norm", factory, re.IGNORECASE):
        raise ValueError(f"factory {factory!r}: pre-transforms and IDMap are not supported here")
    try:
        index = faiss.index_factory(dim, factory, faiss.METRIC_INNER_PRODUCT)
    except RuntimeError as exc:
        raise ValueError(f"invalid FAISS factory string {factory!r}: {exc}") from exc
    found = faiss.try_extract_index_ivf(index)
    ivf: Any = faiss.downcast_index(found) if found is not None else None
    if hasattr(ivf, "do_polysemous_training"):  # IVF-PQ
        # Polysemous training (Hamming-distance filtering, which search never uses) is most of an IVF-PQ's
        # training time: 30 of 31 s on 12k vectors here.
        ivf.do_polysemous_training = False
    return index


def min_train_size(index: faiss.Index, factory: str) -> int:
    """Vectors needed to train ``index`` sensibly (0 when it needs no training)."""
    if index.is_trained:
        return 0
    need = 1
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        need = max(need, MIN_POINTS_PER_CENTROID * ivf.nlist)
    if re.search(r"PQ\d", factory):
        need = max(need, MIN_POINTS_PER_CENTROID * PQ_CENTROIDS)
    return need


def build_trained(dim: int, factory: str, vectors: np.ndarray, ef_construction: int) -> tuple[faiss.Index, str]:
    """A trained, empty index for ``factory``, or Flat when ``vectors`` are too few to train it.

    Returns ``(index, effective factory)``. IVF indexes get a direct map so vectors can be reconstructed
    (exact filtered fallback, compaction).
    """
    index = make_index(dim, factory)
    need = min_train_size(index, factory)
    if need and vectors.shape[0] < need:
        log.warning(
            "index factory %r needs >= %d vectors to train, got %d: using Flat instead",
            factory,
            need,
            vectors.shape[0],
        )
        return make_index(dim, "Flat"), "Flat"
    if need:
        index.train(vectors)
    configure(index, ef_construction)
    return index, factory


def configure(index: faiss.Index, ef_construction: int) -> None:
    """Set build-time knobs on a fresh index (HNSW graph quality, IVF reconstructability)."""
    inner = faiss.downcast_index(index)
    if isinstance(inner, faiss.IndexRefine):
        inner.k_factor = max(float(inner.k_factor), REFINE_K_FACTOR)
        inner = faiss.downcast_index(inner.base_index)
    if isinstance(inner, faiss.IndexHNSW):
        inner.hnsw.efConstruction = ef_construction
    ivf = faiss.try_extract_index_ivf(index)
    # faiss-cpu's .pyi has no DirectMap class (direct_map is typed Any); faiss itself has it
    if ivf is not None and ivf.direct_map.type == faiss.DirectMap.NoMap:  # type: ignore[attr-defined]
        ivf.make_direct_map()


def empty_like(index: faiss.Index, dim: int, factory: str, ef_construction: int) -> faiss.Index:
    """An empty index with the same trained state (IVF centroids, codecs) as ``index``."""
    fresh = make_index(dim, factory)
    if not fresh.is_trained:  # keep the learned centroids/codecs; cloning a graph just to reset it is avoided
        fresh = faiss.clone_index(index)
        fresh.reset()
    configure(fresh, ef_construction)
    return fresh


def default_nprobe(index: faiss.Index) -> int:
    """Lists probed per query: half of sqrt(nlist), at least 8 (32 of 4096 lists, 16 of 1024); ``search_params``
    probes more when a filter or a large re-scored k needs them. At 1M items with ``IVF4096,PQ96`` on two held-out
    sets of real titles, 32 lists kept filtered recall@10 at 1.000 and R@100 at 0.997-0.998 of exact search (0.999
    at 64) and took the first stage's p95 from 3.8-4.4 to 3.5-3.6 ms (docs/scale.md, "Probing half as many lists").
    Synthetic vectors cluster around real ones, which suits IVF: on a real catalog, measure recall against exact
    search (``bench_scale.py`` prints it) and raise ``RECSYS_INDEX_NPROBE`` if it falls short."""
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is None:
        return 0
    return int(min(ivf.nlist, max(8, math.isqrt(ivf.nlist) // 2)))


def search_params(
    index: faiss.Index, k: int, sel: faiss.IDSelector | None, nprobe: int, ef_search: int, selectivity: float
) -> faiss.SearchParameters:
    """Per-call parameters; HNSW widens its beam and IVF probes more lists by 1/selectivity so a filter still fills
    k results."""
    # The ignores below: faiss-cpu's .pyi lacks SearchParametersHNSW and the keyword constructor that faiss's
    # Python wrappers give every SearchParameters class (each keyword sets that attribute).
    outer = faiss.downcast_index(index)
    if isinstance(outer, faiss.IndexRefine):  # the selector goes to the coarse index, which picks candidates
        coarse = search_params(outer.base_index, k, sel, nprobe, ef_search, selectivity)
        return faiss.IndexRefineSearchParameters(  # type: ignore[call-arg]
            k_factor=outer.k_factor, base_index_params=coarse, sel=sel
        )
    if isinstance(outer, faiss.IndexHNSW):
        base = max(ef_search, k)
        ef = int(min(max(base, math.ceil(base / max(selectivity, 1e-6))), 16 * base, 4096))
        return faiss.SearchParametersHNSW(sel=sel, efSearch=max(ef, k))  # type: ignore[attr-defined]
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        # Probing p of nlist lists scans about p/nlist of the allowed vectors: probe enough that 2k of them are
        # expected, or a filter (half the items) or a re-scored k (800) comes back short and falls to the exact
        # scan of every allowed vector (5 ms at 40k with IVF1024 and 32 lists).
        wide = math.ceil(2 * k * ivf.nlist / max(selectivity * ivf.ntotal, 1.0))
        return faiss.SearchParametersIVF(sel=sel, nprobe=int(min(ivf.nlist, max(nprobe, wide))))  # type: ignore[call-arg]
    return faiss.SearchParameters(sel=sel)  # type: ignore[call-arg]


def is_exact(index: faiss.Index) -> bool:
    """Flat search is exhaustive, so a filtered search never needs the exact fallback."""
    return isinstance(faiss.downcast_index(index), faiss.IndexFlat)


def lossy_codes(index: faiss.Index) -> bool:
    """Whether the index scores compressed codes (SQ, PQ) rather than the vectors it was given: its scores and,
    near the k-th hit, its order differ from exact inner products (``search/dense.py`` re-scores such hits)."""
    inner = faiss.downcast_index(index)
    if isinstance(inner, faiss.IndexRefine):
        return lossy_codes(inner.refine_index)
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        return not isinstance(faiss.downcast_index(ivf), faiss.IndexIVFFlat)
    if isinstance(inner, faiss.IndexHNSW):
        return not isinstance(faiss.downcast_index(inner.storage), faiss.IndexFlat)
    return not isinstance(inner, faiss.IndexFlat)


def flat_vectors(index: faiss.Index) -> np.ndarray | None:
    """A flat inner-product index's stored vectors as a [n, d] float32 view of FAISS's own memory (no copy), or
    None for any other index. The view is only valid until the index is next changed: take it per search."""
    flat = faiss.downcast_index(index)
    if not isinstance(flat, faiss.IndexFlat) or flat.metric_type != faiss.METRIC_INNER_PRODUCT or flat.ntotal == 0:
        return None
    return faiss.rev_swig_ptr(flat.get_xb(), flat.ntotal * flat.d).reshape(flat.ntotal, flat.d)
