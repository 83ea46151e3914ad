"""Search served from Qdrant (RECSYS_INDEX_BACKEND=qdrant, qdrant-client local mode) on the 30-item catalog:
the text route's hybrid recall reads the engine, filters and live edits reach it; the default stays embedded."""

import numpy as np
import pytest

from recsys.accounts.principal import SYSTEM
from recsys.config import Settings
from recsys.encoders import FUSED
from recsys.index.qdrant_backend import QdrantBackend
from recsys.search.filters import SearchFilters
from recsys.search.index_mirror import mirror_rows
from recsys.search.types import SearchRequest
from recsys.service.taillift import TailLiftService
from tests.small_catalog import fill_small_catalog, photo


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("qdrant-search") / "data"
    settings = Settings.from_env(
        {"data_dir": data_dir, "demo_limit": 0, "index_backend": "qdrant", "qdrant_url": ":memory:"}, environ={}
    )
    service = TailLiftService(settings)
    fill_small_catalog(service)
    service.load_models()
    yield service
    service.engine.wait_idle()


def titles(service, response):
    items = service.get_items([h.item_id for h in response.hits])
    return [items[h.item_id].title for h in response.hits]


def hit_ids(response):
    return [h.item_id for h in response.hits]


def test_the_served_state_holds_its_items_in_qdrant(service):
    state = service.engine.holder.get()
    assert isinstance(state.backend, QdrantBackend)
    assert len(state.backend) == len(state.table) == 30


def test_the_default_engine_serves_from_the_embedded_indexes(small_search_service):
    assert small_search_service.settings.index_backend == "faiss"
    assert small_search_service.engine.holder.get().backend is None


def test_every_item_is_found_in_the_top_10_by_its_own_title(service):
    for item in service.browse().items:
        response = service.search(SearchRequest(text=item.title, k=10, log=False))
        assert item.id in hit_ids(response), item.title
    assert titles(service, service.search(SearchRequest(text="blue cotton dress", k=5, log=False)))[0] == (
        "Blue cotton dress"
    )


def test_text_recall_reads_the_engine(service):
    """An item taken out of the engine alone (still in the table and FAISS) is no longer recalled by text."""
    state = service.engine.holder.get()
    item_id = hit_ids(service.search(SearchRequest(text="blue cotton dress", k=1, log=False)))[0]
    assert state.backend.delete(np.array([item_id])) == 1
    try:
        response = service.search(SearchRequest(text="blue cotton dress", k=30, log=False))
        assert response.hits and item_id not in hit_ids(response)
    finally:
        rows = state.table.rows(np.array([item_id]))
        mirror_rows(state.table, rows, state.routes.rows(FUSED, rows), state.backend)
    assert hit_ids(service.search(SearchRequest(text="blue cotton dress", k=1, log=False))) == [item_id]


def test_filters_hold_at_recall(service):
    response = service.search(
        SearchRequest(text="cotton", k=50, filters=SearchFilters(category=("Dresses",)), log=False)
    )
    assert len(response.hits) == 6 and all(t.endswith("dress") for t in titles(service, response))
    assert dict(response.facets.counts["category"]) == {"Dresses": 6}
    capped = service.search(SearchRequest(text="cotton", k=50, filters=SearchFilters(max_price=15), log=False))
    assert {t.split()[-1] for t in titles(service, capped)} == {"shirt", "dress", "watch"}
    items = service.get_items(hit_ids(capped))
    assert all(items[i].price is not None and items[i].price <= 15 for i in hit_ids(capped))


def test_excluded_items_are_not_recalled(service):
    first = hit_ids(service.search(SearchRequest(text="blue cotton dress", k=5, log=False)))
    again = service.search(SearchRequest(text="blue cotton dress", k=5, exclude_item_ids=(first[0],), log=False))
    assert first[0] not in hit_ids(again) and len(again.hits) == 5


def test_an_added_item_is_found_through_qdrant_and_a_deleted_one_disappears(service):
    item = service.add_item(
        SYSTEM, {"title": "Purple silk scarf", "category": "Accessories > Scarves"}, [photo((120, 20, 140))]
    )
    assert service.engine.wait_idle()
    state = service.engine.holder.get()
    assert len(state.backend) == 31
    ids, _ = state.backend.hybrid(state.routes[FUSED][state.table.rows(np.array([item.id]))][0], "purple scarf", 3)
    assert ids[0] == item.id
    assert titles(service, service.search(SearchRequest(text="purple silk scarf", k=3, log=False)))[0] == (
        "Purple silk scarf"
    )
    service.delete_item(SYSTEM, item.id)
    assert service.engine.wait_idle()
    state = service.engine.holder.get()
    assert len(state.backend) == 30
    assert item.id not in hit_ids(service.search(SearchRequest(text="purple silk scarf", k=40, log=False)))
