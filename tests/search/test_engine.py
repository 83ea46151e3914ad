"""Search end to end on a small generated catalog: recall, filters, facets, live updates, logs, restarts."""

import io
import threading

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func, select

from recsys.accounts.principal import SYSTEM
from recsys.catalog.models import Interaction, QueryLog
from recsys.search.filters import SearchFilters
from recsys.search.types import SearchRequest
from recsys.service.taillift import TailLiftService
from tests.small_catalog import COLOURS, photo


@pytest.fixture
def service(small_search_service):
    return small_search_service


def titles(service, response):
    items = service.get_items([h.item_id for h in response.hits])
    return [items[h.item_id].title for h in response.hits]


def test_every_item_is_found_in_the_top_10_by_its_own_title(service):
    page = service.browse()
    assert page.total == 30
    for item in page.items:
        response = service.search(SearchRequest(text=item.title, k=10, log=False))
        assert item.id in [h.item_id for h in response.hits], item.title


def test_text_query_ranks_the_exact_item_first_and_explains(service):
    response = service.search(SearchRequest(text="blue cotton dress", k=5, log=False))
    assert titles(service, response)[0] == "Blue cotton dress"
    assert response.hits[0].explanation and "text_bert" in response.hits[0].similarities
    assert [h.rank for h in response.hits] == [1, 2, 3, 4, 5]


def test_filters_apply_at_recall_and_facets_count_candidates(service):
    response = service.search(
        SearchRequest(text="cotton", k=50, filters=SearchFilters(category=("Dresses",)), log=False)
    )
    assert len(response.hits) == 6 and all(t.endswith("dress") for t in titles(service, response))
    assert dict(response.facets.counts["category"]) == {"Dresses": 6}
    price_capped = service.search(SearchRequest(text="cotton", k=50, filters=SearchFilters(max_price=15), log=False))
    assert {t.split()[-1] for t in titles(service, price_capped)} == {"shirt", "dress", "watch"}
    unfiltered = service.search(SearchRequest(text="cotton", k=50, log=False))
    assert sum(n for _, n in unfiltered.facets.counts["category"]) == unfiltered.candidates


def test_image_query_finds_items_of_that_colour(service):
    image = Image.open(io.BytesIO(photo(COLOURS["green"])))
    response = service.search(SearchRequest(image=image, k=5, log=False))
    assert "image_image" in response.hits[0].similarities
    assert titles(service, response)[0].startswith("Green")


def test_uploads_become_searchable_and_deletes_disappear(service):
    item = service.add_item(
        SYSTEM, {"title": "Purple silk scarf", "category": "Accessories > Scarves"}, [photo((120, 20, 140))]
    )
    assert service.engine.wait_idle()
    assert (
        titles(service, service.search(SearchRequest(text="purple silk scarf", k=3, log=False)))[0]
        == "Purple silk scarf"
    )
    service.delete_item(SYSTEM, item.id)
    assert service.engine.wait_idle()
    response = service.search(SearchRequest(text="purple silk scarf", k=40, log=False))
    assert item.id not in [h.item_id for h in response.hits]


def test_searches_never_fail_while_the_index_changes(service):
    errors, stop = [], threading.Event()

    def searcher():
        while not stop.is_set():
            try:
                service.search(SearchRequest(text="red shirt", k=5, log=False))
            except Exception as exc:  # noqa: BLE001 - any failure is the bug we look for
                errors.append(exc)

    thread = threading.Thread(target=searcher)
    thread.start()
    added = [service.add_item(SYSTEM, {"title": f"Temporary hat {n}"}, [photo((n * 20, 0, 0))]).id for n in range(3)]
    for item_id in added:
        service.delete_item(SYSTEM, item_id)
    service.engine.wait_idle()
    stop.set()
    thread.join()
    assert errors == []
    state = service.engine.holder.get()
    np.testing.assert_array_equal(state.vectors.ids(), state.table.ids)  # index and table agree after the edits
    assert not set(added) & set(state.table.ids.tolist())


def test_impressions_and_clicks_are_logged_with_query_and_position(service):
    response = service.search(SearchRequest(text="white watch", k=4, session_id="s1"))
    service.log_event("s1", response.hits[1].item_id, "click", "white watch", 2)
    service.engine.wait_idle()
    with service.sessions() as session:
        events = session.execute(
            select(Interaction.event, Interaction.position, Interaction.query).where(Interaction.session_id == "s1")
        ).all()
        logged = session.scalar(select(func.count()).select_from(QueryLog).where(QueryLog.session_id == "s1"))
    assert sorted(events) == sorted(
        [("impression", p, "white watch") for p in (1, 2, 3, 4)] + [("click", 2, "white watch")]
    )
    assert logged == 1


def test_more_like_this_excludes_the_item(service):
    first = service.search(SearchRequest(text="black sneakers", k=1, log=False)).hits[0].item_id
    similar = service.similar(first, k=5)
    assert len(similar.hits) == 5 and first not in [h.item_id for h in similar.hits]


def test_restart_reuses_stored_vectors_and_index(service, monkeypatch):
    import recsys.search.engine as engine_module

    encoded = []
    real = engine_module.encode_and_store
    monkeypatch.setattr(engine_module, "encode_and_store", lambda *a, **k: encoded.append(a[2]) or real(*a, **k))
    again = TailLiftService(service.settings)
    again.load_models()
    assert encoded == []  # nothing re-encoded
    a = service.search(SearchRequest(text="yellow handbag", k=5, log=False))
    b = again.search(SearchRequest(text="yellow handbag", k=5, log=False))
    assert a.hits[0].item_id == b.hits[0].item_id
    # The same stored vectors give the same route similarities for every item both return. (The order further
    # down may differ: the restarted service also reads the clicks that earlier tests logged.)
    sims_a = {h.item_id: h.similarities for h in a.hits}
    for hit in b.hits:
        if hit.item_id in sims_a:
            assert hit.similarities.keys() == sims_a[hit.item_id].keys()
            np.testing.assert_allclose(list(hit.similarities.values()), list(sims_a[hit.item_id].values()), rtol=1e-6)


def test_clicked_items_feed_the_session_features(service):
    from recsys.ranking.features import FEATURES, build_features
    from recsys.search.recall import recall

    state = service.engine.holder.get()
    request = SearchRequest(text="red cotton shirt", k=5, log=False)
    got = recall(state, service.engine.encoder, request, 50)
    clicked = int(got.item_ids[0])
    with_click = recall(
        state,
        service.engine.encoder,
        SearchRequest(text="red cotton shirt", k=5, log=False, clicked_item_ids=(clicked,)),
        50,
    )
    column = FEATURES.index("session_max_sim")
    assert np.isnan(build_features(got.candidates, state.priors)[:, column]).all()
    session = build_features(with_click.candidates, state.priors)[:, column]
    assert session[list(with_click.item_ids).index(clicked)] == pytest.approx(1.0, abs=1e-5)


def test_a_burst_of_edits_costs_one_index_rebuild(service, monkeypatch):
    engine = service.engine
    calls, release = [], threading.Event()
    real_apply = engine._apply_change
    monkeypatch.setattr(engine, "_apply_change", lambda kind, ids: (calls.append((kind, ids)), real_apply(kind, ids)))
    engine.submit(release.wait)  # keep the worker busy while the edits arrive
    added = [service.add_item(SYSTEM, {"title": f"Burst lamp {n}"}, [photo((0, n * 40, 200))]).id for n in range(3)]
    service.delete_item(SYSTEM, added[0])
    release.set()
    assert engine.wait_idle()
    assert calls == [("upsert", sorted(added))]  # one application for four edits
    state = engine.holder.get()
    np.testing.assert_array_equal(state.vectors.ids(), state.table.ids)
    assert added[0] not in state.table.ids and {added[1], added[2]} <= set(state.table.ids.tolist())
    hits = service.search(SearchRequest(text="burst lamp 2", k=3, log=False)).hits
    assert added[2] in [h.item_id for h in hits]
    for item_id in added[1:]:
        service.delete_item(SYSTEM, item_id)
    assert engine.wait_idle()
