"""benchmarks/bench_service_scale.py seeds a catalog the service serves as if it had encoded it: every item with
every route stored under the encoder's version (nothing left to encode), the fused route as the encoder fuses."""

from __future__ import annotations

import argparse

import numpy as np

from benchmarks.bench_service_scale import seed, settings_for
from recsys.encoders import FUSED
from recsys.search.indexing import load_route_matrix, missing_item_ids
from recsys.search.route_matrices import ROUTE_DTYPE, STORED_ROUTES
from recsys.search.types import SearchRequest
from recsys.service.taillift import TailLiftService
from tests.catalog.test_synthetic import STYLES


def test_seeded_catalog_is_served_without_encoding_and_searchable(tmp_path):
    styles = tmp_path / "styles.csv"
    styles.write_text(STYLES, encoding="utf-8")
    args = argparse.Namespace(styles=str(styles), base_items=3, cache_dir=str(tmp_path / "cache"), factory="Flat")
    data = tmp_path / "data"
    seeded = seed(60, args, data)
    assert seeded["synthetic"] is True
    service = TailLiftService(settings_for(data, "Flat"))
    try:
        assert missing_item_ids(service.store, seeded["model_version"]) == []  # nothing for the service to encode
        service.load_models()
        engine = service.engine
        assert engine is not None
        state = engine.holder.get()
        assert state.model_version == seeded["model_version"] and len(state.table) == 60
        assert all(state.routes[r].dtype == ROUTE_DTYPE for r in STORED_ROUTES)
        # The seeded fused vectors are the ones serving derives from the other routes (as for encoded items).
        seeded = load_route_matrix(service.store, state.model_version, FUSED, state.table.ids, state.routes.dim(FUSED))
        np.testing.assert_allclose(state.routes[FUSED], seeded.astype(np.float32), atol=5e-3)
        items = service.get_items(state.table.ids[:5].tolist())
        assert all(view.attributes.get("synthetic") == "1" for view in items.values())
        title = state.table.titles[0]
        hits = service.search(SearchRequest(text=title, k=5, log=False)).hits
        assert hits and hits[0].item_id == int(state.table.ids[0])
    finally:
        service.close()
