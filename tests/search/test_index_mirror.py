"""A served state mirrored into each index engine answers a filtered hybrid search as the served recall does."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.config import Settings
from recsys.encoders import FUSED
from recsys.index.backend import BACKENDS
from recsys.index.engines import make_backend
from recsys.search.filters import SearchFilters, allowed_ids
from recsys.search.index_mirror import mirror_state, payload_filter
from recsys.search.recall import _candidate_ids
from recsys.search.types import SearchRequest

FILTERS = [
    SearchFilters(),
    SearchFilters(gender=("Women",)),
    SearchFilters(category=("Shirts", "Shoes"), max_price=16.0),
    SearchFilters(min_price=16.0),
]


@pytest.mark.parametrize("name", BACKENDS)
def test_mirrored_engine_returns_the_served_recall_under_each_filter(small_search_service, name):
    engine = small_search_service.engine
    state = engine.holder.get()
    encoder = engine.encoder_for(state)
    backend = make_backend(Settings(index_backend=name), state.routes[FUSED].shape[1])
    assert mirror_state(state, backend) == len(state.table)
    for filters in FILTERS:
        allowed = allowed_ids(state.table, filters)
        for text in ("red shirt", "blue dress", "green"):
            query = encoder.encode_query(text)
            served = _candidate_ids(state, encoder, query, text, SearchRequest(filters=filters), filters, 10)
            ids, _ = backend.hybrid(query[FUSED], text, 10, payload_filter(filters))
            assert allowed is None or np.isin(ids, allowed).all()
            assert set(ids.tolist()) == set(served.tolist()), (filters, text)
    backend.close()
