"""Serving states for a first start that is still building: search works before every item has vectors.

While the projection heads train, a keyword state serves BM25 over the whole catalog (no vectors yet); while items
are encoded, a partial state serves the items encoded so far by every route and the rest by keywords. Both are
ordinary ``ServingState`` objects, so searches, filters, facets and live edits treat them like a full one.
"""

from __future__ import annotations

from recsys.encoders import FUSED
from recsys.encoders.fusion import FusionWeights
from recsys.index.lexical import BM25Index
from recsys.index.segmented_lexical import SegmentedBM25
from recsys.index.vector import VectorIndex
from recsys.search.route_matrices import RouteMatrices
from recsys.search.state import ServingState, serving_state
from recsys.search.table import ItemTable


def keyword_state(
    version: str,
    table: ItemTable,
    lexical: BM25Index | SegmentedBM25,
    dims: dict[str, int],
    factory: str,
    weights: FusionWeights,
    nprobe: int | None = None,
) -> ServingState:
    """Every item by keywords; no item vectors (the vector route finds nothing, route scores are zero)."""
    routes = RouteMatrices.empty(len(table), dims, weights)
    return serving_state(version, VectorIndex(dims[FUSED], factory, nprobe=nprobe), lexical, table, routes)


def partial_state(
    version: str,
    table: ItemTable,
    lexical: BM25Index | SegmentedBM25,
    routes: RouteMatrices,
    factory: str,
    nprobe: int | None = None,
) -> ServingState:
    """Every item by keywords, and the items whose vectors are stored (non-zero rows of ``routes``) by vector too.

    The vector index holds only encoded items: a zero vector would tie at similarity 0 with every query."""
    encoded = routes.encoded()
    vectors = VectorIndex(routes.dim(FUSED), factory, nprobe=nprobe)
    if encoded.size:
        vectors.build(table.ids[encoded], routes.rows(FUSED, encoded))
    return serving_state(version, vectors, lexical, table, routes)
