"""benchmarks/bench_service_scale.py seeds a catalog the service serves as if it had encoded it: every item with
every route stored under the encoder's version (nothing left to encode), the fused route as the encoder fuses."""

from __future__ import annotations

import argparse

import numpy as np

from benchmarks.bench_service_scale import seed, settings_for
from recsys.encoders import FUSED, IMAGE, ITEM_ROUTES, TEXT_BERT, TEXT_CLIP
from recsys.encoders.fusion import fuse
from recsys.search.indexing import missing_item_ids
from recsys.search.state import ROUTE_DTYPE
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
        assert all(state.routes[r].dtype == ROUTE_DTYPE for r in ITEM_ROUTES)
        routes = {r: state.routes[r].astype(np.float32) for r in ITEM_ROUTES}
        refused = fuse((routes[IMAGE] + routes[TEXT_CLIP]) / 2, routes[TEXT_BERT], engine.encoder_for(state).weights)
        np.testing.assert_allclose(routes[FUSED], refused, atol=5e-3)  # stored as the encoder would fuse them
        items = service.get_items(state.table.ids[:5].tolist())
        assert all(view.attributes.get("synthetic") == "1" for view in items.values())
        title = state.table.titles[0]
        hits = service.search(SearchRequest(text=title, k=5, log=False)).hits
        assert hits and hits[0].item_id == int(state.table.ids[0])
    finally:
        service.close()
