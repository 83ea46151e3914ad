"""The route matrices a complete build saves beside the vector index: a restart reads them instead of the catalog's
rows, patches in the rows written since (by generation), and falls back to a full read whenever the copy cannot be
trusted (rows deleted without a write, a damaged file, another model version)."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import delete

from recsys.accounts.principal import SYSTEM
from recsys.catalog import repository as repo
from recsys.catalog.models import ItemEmbedding
from recsys.encoders.routes import REVIEWS_BERT, TEXT_BERT
from recsys.search import route_snapshot
from recsys.search.indexing import read_route
from recsys.search.route_matrices import ROUTE_DTYPE, STORED_ROUTES
from recsys.search.route_snapshot import current_generation, read_routes
from recsys.search.table import load_item_table
from recsys.search.types import SearchRequest
from recsys.service.taillift import TailLiftService
from tests.small_catalog import photo, small_search_service_at


@pytest.fixture
def service(tmp_path):
    built = small_search_service_at(tmp_path / "data")
    assert built.engine.wait_idle()  # the save runs on the worker after the publish
    yield built
    built.close()


def routes_dir(service):
    return service.settings.index_dir / "routes"


def read_now(service):
    """(table ids, RouteRead) as a restart of ``service`` would read them."""
    state = service.engine.holder.get()
    encoder = service.engine.encoder_for(state)
    generation = current_generation(service.store)
    with service.store.sessions() as session:
        ids = load_item_table(session).ids
    read = read_routes(
        service.store, state.model_version, ids, encoder.dims, encoder.weights, generation, routes_dir(service)
    )
    return ids, read


def assert_same_as_catalog(service, ids, read):
    version = service.engine.holder.get().model_version
    for route in STORED_ROUTES:
        matrix, present = read_route(service.store, version, route, ids, read.routes.dim(route))
        np.testing.assert_array_equal(np.asarray(read.routes.stored[route]), matrix, err_msg=route)
        np.testing.assert_array_equal(read.present[route], present, err_msg=route)


def test_a_build_saves_its_routes_and_a_restart_reads_them_without_the_catalog(service, monkeypatch):
    assert (routes_dir(service) / "manifest.json").is_file()
    folder = next(p for p in routes_dir(service).iterdir() if p.name.startswith("gen-"))
    # No item has reviews: every item has a (zero) reviews row, none is copied back from the file.
    assert np.load(folder / f"{REVIEWS_BERT}.present.npy").all()
    assert not np.load(folder / f"{REVIEWS_BERT}.nonzero.npy").any()
    assert np.load(folder / f"{TEXT_BERT}.nonzero.npy").all()
    ids, read = read_now(service)
    assert read.patched == 0 and not read.worth_saving
    assert_same_as_catalog(service, ids, read)
    before = service.search(SearchRequest(text="yellow handbag", k=5, log=False))
    service.close()

    def no_full_read(*args, **kwargs):
        raise AssertionError("a restart on an unchanged catalog read a route from the database")

    monkeypatch.setattr(route_snapshot, "read_route", no_full_read)
    again = TailLiftService(service.settings)
    again.load_models()
    try:
        after = again.search(SearchRequest(text="yellow handbag", k=5, log=False))
        assert [h.item_id for h in after.hits][:1] == [h.item_id for h in before.hits][:1]
        state = again.engine.holder.get()
        assert len(state.table) == len(ids) and state.routes.stored[STORED_ROUTES[0]].dtype == ROUTE_DTYPE
    finally:
        again.close()


def test_edits_after_the_save_are_patched_in(service):
    items = service.browse().items
    generation = current_generation(service.store)
    added = service.add_item(
        SYSTEM, {"title": "Purple silk scarf", "category": "Accessories > Scarves"}, [photo((120, 20, 140))]
    )
    service.update_item(SYSTEM, items[0].id, {"title": "Orange linen dress"})
    service.delete_item(SYSTEM, items[3].id)
    assert service.engine.wait_idle()
    assert current_generation(service.store).value > generation.value  # each write of vectors takes a new one
    ids, read = read_now(service)
    assert added.id in ids and items[3].id not in ids
    assert read.patched == 2 * len(STORED_ROUTES)  # the added and the updated item, every route
    assert_same_as_catalog(service, ids, read)


def test_vectors_deleted_without_a_write_mean_a_full_read(service):
    item_id = service.browse().items[5].id
    version = service.engine.holder.get().model_version
    with service.store.sessions.begin() as session:
        session.execute(
            delete(ItemEmbedding).where(ItemEmbedding.item_id == item_id, ItemEmbedding.model_version == version)
        )
    ids, read = read_now(service)
    assert read.patched == -1 and read.worth_saving
    assert_same_as_catalog(service, ids, read)
    row = int(np.searchsorted(ids, item_id))
    assert not any(read.present[route][row] for route in STORED_ROUTES)


def test_a_damaged_copy_is_not_used(service):
    manifest = (routes_dir(service) / "manifest.json").read_text()
    folder = next(p for p in routes_dir(service).iterdir() if p.name.startswith("gen-"))
    target = folder / f"{STORED_ROUTES[0]}.npy"
    target.write_bytes(target.read_bytes()[:-64])  # a torn write
    ids, read = read_now(service)
    assert read.patched == -1
    assert_same_as_catalog(service, ids, read)
    assert (routes_dir(service) / "manifest.json").read_text() == manifest  # reading never rewrites it


def test_a_copy_newer_than_the_catalog_or_of_another_catalog_is_not_used(service):
    with service.store.sessions.begin() as session:
        repo.next_embedding_generation(session)
    ids, fresh = read_now(service)
    assert fresh.patched == 0
    path = routes_dir(service) / "manifest.json"
    manifest = path.read_text()
    path.write_text(manifest.replace(f'"generation": {fresh.generation.value - 1}', '"generation": 10000'))
    assert read_now(service)[1].patched == -1
    # The data dir kept, the database replaced: ids and generations may match, the catalog's own id does not.
    path.write_text(manifest.replace(fresh.generation.catalog_id, "0" * 32))
    assert read_now(service)[1].patched == -1
    path.write_text(manifest)
    assert read_now(service)[1].patched == 0
