"""Search's exposure re-rank: the tail from logged exposure, the page's tail floor, and the engine serving it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from recsys.search import exposure
from recsys.search.rank import Ranked
from recsys.search.types import SearchRequest


def _ranked(n: int) -> Ranked:
    order = np.arange(n)
    return Ranked(order, -order.astype(float), {i: f"why {i}" for i in range(n)}, np.zeros((n, 1)), ["text"] * n)


def test_no_logged_exposure_makes_everything_tail():
    assert exposure.tail_from_counts(np.zeros(5)).all()


def test_head_is_the_fewest_most_exposed_items_holding_80_percent():
    counts = np.array([0, 50, 30, 10, 5, 5, 0])
    tail = exposure.tail_from_counts(counts)  # 50 + 30 = 80 of 100
    assert tail.tolist() == [True, False, False, True, True, True, True]
    # ties go to the lower row: with 40 of 100 needed and two items of 40, the first one is the head
    assert exposure.tail_from_counts(np.array([20, 40, 40]), head_share=0.4).tolist() == [True, False, True]


def test_share_zero_is_the_relevance_page():
    ranked = _ranked(30)
    tail = np.arange(30) % 3 == 0
    page = exposure.rerank_page(ranked, tail, 10, 0.0)
    assert page.order.tolist() == list(range(10))
    assert page.explanations == ranked.explanations


def test_a_higher_share_never_holds_fewer_tail_items_and_says_why_an_item_was_lifted():
    ranked = _ranked(30)
    tail = np.zeros(30, dtype=bool)
    tail[[12, 20, 25]] = True  # relevant tail items only below the first page
    counts = []
    for share in (0.0, 0.05, 0.1, 0.2, 0.3):
        page = exposure.rerank_page(ranked, tail, 10, share)
        assert len(page.order) == 10 and len(set(page.order.tolist())) == 10
        counts.append(int(tail[page.order].sum()))
    assert counts == [0, 0, 1, 2, 3]  # floor(share * 10) tail slots on a page of 10
    page = exposure.rerank_page(ranked, tail, 10, 0.1)
    assert page.order.tolist() == [*range(9), 12]  # the best match stays first; the tail's slot is the 10th
    assert page.explanations[12].endswith(exposure.LIFTED)
    assert exposure.LIFTED not in page.explanations[0]


def test_depth_stays_near_the_page():
    assert exposure.depth_for(10, 0.0) == 10
    assert exposure.depth_for(10, 0.1) == exposure.TAIL_DEPTH_PAGES * 10


def test_table_tail_reads_the_tables_impressions_and_events(small_search_service):
    table = small_search_service.engine.holder.get().table
    shown = np.zeros(len(table), dtype=np.float32)
    shown[:3] = 100.0  # three items hold all the exposure
    logged = replace(table, impressions=shown, clicks=np.zeros(len(table), dtype=np.float32))
    tail = exposure.table_tail(logged)
    assert not tail[:3].any() and tail[3:].all()
    assert exposure.table_tail(logged) is tail  # once per table


def test_engine_page_holds_the_tail_floor(small_search_service):
    engine = small_search_service.engine
    state = engine.holder.get()
    request = SearchRequest(text="cotton", k=6, log=False)
    settings = engine.settings
    engine.settings = settings.replace(tail_share=0.0)
    try:
        before = engine.search(request)
    finally:
        engine.settings = settings
    # Everything the relevance page shows becomes head: the re-rank must bring tail items into the page.
    ids = np.array([h.item_id for h in before.hits])
    shown = np.where(np.isin(state.table.ids, ids), 1000.0, 0.0).astype(np.float32)
    logged = replace(state, table=replace(state.table, impressions=shown))
    tail_ids = set(logged.table.ids[exposure.table_tail(logged.table)].tolist())
    engine.holder.publish(logged)
    try:
        engine.settings = settings.replace(tail_share=0.0)
        relevance = engine.search(request)
        engine.settings = settings.replace(tail_share=0.5)
        lifted = engine.search(request)
    finally:
        engine.settings = settings
        engine.holder.publish(state)
    assert sum(h.item_id in tail_ids for h in relevance.hits) < 2
    assert sum(h.item_id in tail_ids for h in lifted.hits) >= 3  # floor(0.5 * 6)
    new_hits = [h for h in lifted.hits if h.item_id not in {r.item_id for r in relevance.hits}]
    assert new_hits and all(h.explanation.endswith(exposure.LIFTED) for h in new_hits)
    assert len(lifted.hits) == 6
