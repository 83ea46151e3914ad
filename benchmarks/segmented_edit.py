"""The segmented live-edit path timed on a synthetic catalog, for bench_scale.py (no database: the edited row
stands in for the by-id read the engine does, which is a primary-key lookup and does not grow with the catalog).

One added item, as ``recsys.search.updates.segmented_state`` applies it: the item table and route matrix spliced
by rows, a delta vector segment and a delta BM25 segment (global statistics updated), then searched until both
BM25 and the dense route return it. Median of the repeats; the first edit after a build also copies the columns
once into buffers with spare rows (``edit_first_s``)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from recsys.catalog.synthetic import SyntheticCatalog
from recsys.encoders import FUSED
from recsys.index.hybrid import reciprocal_rank_fusion
from recsys.index.segmented_lexical import SegmentedBM25
from recsys.index.segmented_vectors import SegmentedVectorIndex
from recsys.index.vector import VectorIndex
from recsys.search.table import ItemTable
from recsys.search.table_splice import splice, spliced_table

NONE = np.empty(0, np.int64)


def catalog_table(ids: np.ndarray, titles: list[str], attributes: dict[str, np.ndarray], prices) -> ItemTable:
    n = ids.size
    zeros = np.zeros(n, np.float32)
    return ItemTable(
        ids=ids,
        titles=list(titles),
        descriptions=[""] * n,
        categories=[""] * n,
        leaf=np.asarray(attributes["articleType"], dtype=object),
        gender=np.asarray(attributes["gender"], dtype=object),
        colour=np.asarray(attributes["baseColour"], dtype=object),
        price=np.asarray(prices, np.float32),
        age_days=zeros,
        rating_sum=zeros,
        rating_count=zeros,
        impressions=zeros,
        clicks=zeros,
        has_image=np.zeros(n, bool),
    )


def segmented_edits(cat: SyntheticCatalog, base: VectorIndex, q_vecs: np.ndarray, repeats: int) -> dict:
    """Median seconds for an added item to become searchable, the base BM25 build, and the merge after."""
    t = time.perf_counter()
    lexical = SegmentedBM25.build(cat.ids, cat.titles)
    out: dict[str, Any] = {"segmented_bm25_build_s": time.perf_counter() - t}
    vectors = SegmentedVectorIndex([base])
    table = catalog_table(cat.ids, cat.titles, cat.attributes, cat.prices)
    routes: dict[str, Any] = {FUSED: cat.vectors}
    times = []
    for r in range(repeats):
        new_id, text = int(cat.ids.max()) + 1 + r, f"zzqy{r} Bench Added Item"
        vec = q_vecs[r : r + 1]
        one = {k: v[r : r + 1] for k, v in cat.attributes.items()}
        start = time.perf_counter()
        part = catalog_table(np.array([new_id]), [text], one, cat.prices[r : r + 1])
        _, routes = splice(table.ids, routes, NONE, part.ids, {FUSED: vec})
        table = spliced_table(table, NONE, part)
        vectors = vectors.edited(part.ids, vec, NONE)
        lexical = lexical.edited(part.ids, part.lexical_texts(), NONE)
        if new_id not in lexical.search(f"zzqy{r}", 1)[1] or new_id not in vectors.search(vec, 1)[1]:
            raise RuntimeError("added item is not searchable")
        times.append(time.perf_counter() - start)
    out["edit_visible_s"] = float(np.median(times))
    out["edit_first_s"] = times[0]  # includes the one-time copy of the columns into buffers with spare rows
    out["state"] = (vectors, lexical)
    t = time.perf_counter()
    vectors.merged(), lexical.merged()
    out["merge_s"] = time.perf_counter() - t
    return out


def hybrid_times(vectors, lexical, encode, titles: list[str], allowed: np.ndarray) -> list[float]:
    """Seconds per warm hybrid filtered query (encoding + dense top-100 + BM25 top-100 + RRF)."""
    times = []
    for title in titles:
        start = time.perf_counter()
        qv = encode([title])
        dense = vectors.search(qv, 100, allowed)
        sparse = lexical.search(title, 100, allowed)
        reciprocal_rank_fusion([(dense[1][0], dense[0][0]), (sparse[1], sparse[0])])
        times.append(time.perf_counter() - start)
    return times
