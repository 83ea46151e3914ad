"""Live edits through the engine land as delta segments, and searching them gives what a full rebuild from the
catalog gives: the same table rows, route vectors, candidates (BM25 + dense, RRF), filters and facets; also
after the background merge. The Qdrant backend's mirror is covered by test_qdrant_serving.py."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.accounts.principal import SYSTEM
from recsys.catalog import repository as repo
from recsys.encoders import FUSED, ITEM_ROUTES
from recsys.index.segmented_lexical import SegmentedBM25
from recsys.index.segmented_vectors import SegmentedVectorIndex
from recsys.index.vector import VectorIndex
from recsys.search.filters import SearchFilters, facet_counts
from recsys.search.indexing import load_route_matrix
from recsys.search.recall import recall
from recsys.search.route_matrices import ROUTE_DTYPE, STORED_ROUTES, RouteMatrices
from recsys.search.state import serving_state
from recsys.search.table import load_item_table
from recsys.search.types import SearchRequest
from recsys.search.updates import lexical_index
from tests.small_catalog import photo, small_search_service_at

REQUESTS = [
    SearchRequest(text="purple silk scarf", k=10, log=False),
    SearchRequest(text="cotton dress", k=10, log=False),
    SearchRequest(text="cotton", k=10, filters=SearchFilters(category=("Dresses",)), log=False),
    SearchRequest(text="red", k=10, filters=SearchFilters(max_price=15), log=False),
    SearchRequest(text="linen", k=10, filters=SearchFilters(gender=("Men",)), log=False),
]


@pytest.fixture(scope="module")
def edited(tmp_path_factory):
    service = small_search_service_at(tmp_path_factory.mktemp("segments") / "data")
    engine = service.engine
    engine._merger.threshold = 0  # merged by hand below  # noqa: SLF001
    items = service.browse().items
    added = [
        service.add_item(SYSTEM, {"title": t, "category": c, "price": p}, [photo(rgb)]).id
        for t, c, p, rgb in (
            ("Purple silk scarf", "Accessories > Scarves", 30, (120, 20, 140)),
            ("Grey linen shirt", "Apparel > Shirts", 12, (128, 128, 128)),
            ("Orange linen dress", "Apparel > Dresses", 14, (230, 120, 20)),
        )
    ]
    service.update_item(SYSTEM, items[0].id, {"title": "Red linen shirt"})
    service.update_item(SYSTEM, items[7].id, {"price": 9})
    service.delete_item(SYSTEM, items[3].id)
    service.delete_item(SYSTEM, added[1])
    assert engine.wait_idle()
    yield service
    service.close()


def rebuilt(service):
    """The state a full build from the catalog would serve (stored vectors, fresh table, new indexes)."""
    state = service.engine.holder.get()
    with service.store.sessions() as session:
        table = load_item_table(session)
    stored = {
        r: load_route_matrix(service.store, state.model_version, r, table.ids, state.routes.dim(r))
        for r in STORED_ROUTES
    }
    routes = RouteMatrices(stored, state.routes.weights)
    vectors = VectorIndex(routes.dim(FUSED), "Flat")
    vectors.build(table.ids, routes[FUSED])
    return serving_state(state.model_version, vectors, lexical_index(table, segmented=False), table, routes)


def assert_same_as_rebuilt(service):
    state, full = service.engine.holder.get(), rebuilt(service)
    encoder = service.engine.encoder_for(state)
    assert np.array_equal(state.table.ids, full.table.ids)
    for column in ("titles", "categories", "leaf", "gender", "colour", "rating_count", "has_image"):
        assert list(getattr(state.table, column)) == list(getattr(full.table, column)), column
    np.testing.assert_array_equal(state.table.price, full.table.price)
    for route in STORED_ROUTES:  # the fused route is derived from these
        assert state.routes[route].dtype == ROUTE_DTYPE, route  # an edit's float32 rows must not upcast the matrix
    for route in ITEM_ROUTES:
        np.testing.assert_allclose(state.routes[route], full.routes[route], atol=1e-6)
    assert np.array_equal(state.vectors.ids(), full.vectors.ids())
    for request in REQUESTS:
        got, want = recall(state, encoder, request, 50), recall(full, encoder, request, 50)
        assert got.item_ids.tolist() == want.item_ids.tolist(), request.text
        assert facet_counts(state.table, got.rows) == facet_counts(full.table, want.rows)
        np.testing.assert_allclose(got.candidates.scores.bm25_title, want.candidates.scores.bm25_title, rtol=1e-5)


def test_live_edits_are_delta_segments_that_search_as_a_full_rebuild(edited):
    state = edited.engine.holder.get()
    assert isinstance(state.lexical, SegmentedBM25) and isinstance(state.vectors, SegmentedVectorIndex)
    assert len(state.vectors.segments) > 1 and state.vectors.delta_items() > 0  # edits were not rebuilt in
    assert_same_as_rebuilt(edited)
    hits = edited.search(SearchRequest(text="purple silk scarf", k=3, log=False)).hits
    assert edited.get_items([hits[0].item_id])[hits[0].item_id].title == "Purple silk scarf"


def test_after_the_background_merge_search_is_still_a_full_rebuild(edited):
    engine = edited.engine
    engine._merger.threshold = 1  # noqa: SLF001
    assert engine._merger.maybe_merge()  # noqa: SLF001
    engine._merger.wait()  # noqa: SLF001
    assert engine.wait_idle()
    state = engine.holder.get()
    assert len(state.vectors.segments) == 1 and len(state.lexical.segments) == 1
    assert_same_as_rebuilt(edited)


def test_route_matrices_are_read_batch_by_batch_into_half_precision(edited, monkeypatch):
    """The stream (3 rows a batch here) fills the same aligned matrix as one read, zeros where an id has no vector."""
    state = edited.engine.holder.get()
    with edited.store.sessions() as session:
        ids, vectors = repo.load_embeddings(session, state.model_version, FUSED)
    monkeypatch.setattr(repo, "EMBEDDING_READ_BATCH", 3)
    with edited.store.sessions() as session:
        batches = list(repo.iter_embeddings(session, state.model_version, FUSED))
    assert len(batches) == -(-len(ids) // 3) and all(len(b[0]) <= 3 for b in batches)
    unknown = int(ids.max()) + 1000
    table_ids = np.sort(np.append(ids, unknown))
    matrix = load_route_matrix(edited.store, state.model_version, FUSED, table_ids, vectors.shape[1])
    assert matrix.dtype == ROUTE_DTYPE
    np.testing.assert_allclose(matrix[:-1].astype(np.float32), vectors, atol=2e-3)  # half precision of unit rows
    assert not matrix[-1].any()
