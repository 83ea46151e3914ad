"""A search's dense and BM25 halves run side by side on a free worker, in turn when none is free, and a search
answers exactly the same either way."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from recsys.search.filters import SearchFilters
from recsys.search.recall import recall
from recsys.search.side_by_side import SideBySide
from recsys.search.types import SearchRequest
from tests.small_catalog import small_search_service_at


def test_first_half_runs_on_a_free_worker_and_results_keep_their_order():
    halves = SideBySide(1)
    try:
        caller = threading.current_thread().name
        first, second = halves.both(lambda: ("a", threading.current_thread().name), lambda: ("b", caller))
        assert first[0] == "a" and second[0] == "b"
        assert first[1] != caller and first[1].startswith("recall-half")
    finally:
        halves.close()


def test_no_free_worker_means_both_halves_run_here_without_waiting():
    halves = SideBySide(1)
    started, release = threading.Event(), threading.Event()

    def blocking() -> str:
        started.set()
        release.wait(10)
        return threading.current_thread().name

    try:
        other = threading.Thread(target=halves.both, args=(blocking, lambda: None))
        other.start()
        assert started.wait(10)  # the one worker is busy with the other search's half
        here = threading.current_thread().name
        first, second = halves.both(lambda: threading.current_thread().name, lambda: threading.current_thread().name)
        assert first == second == here
        release.set()
        other.join(10)
        # The worker is free again: the next search hands its half off.
        assert halves.both(lambda: threading.current_thread().name, lambda: None)[0] != here
    finally:
        release.set()
        halves.close()


def test_no_workers_and_a_closed_pool_run_in_turn():
    here = threading.current_thread().name
    assert SideBySide(0).both(lambda: threading.current_thread().name, lambda: 2) == (here, 2)
    halves = SideBySide(1)
    halves.close()
    assert halves.both(lambda: threading.current_thread().name, lambda: 2) == (here, 2)


def test_errors_of_either_half_reach_the_caller_and_the_worker_is_given_back():
    halves = SideBySide(1)
    done = threading.Event()

    def slow_first() -> int:
        done.wait(0.2)
        done.set()
        return 1

    def fail() -> None:
        raise ValueError("second half failed")

    try:
        with pytest.raises(ValueError, match="second half"):
            halves.both(slow_first, fail)
        assert done.is_set()  # the caller waited for the handed-off half before raising
        with pytest.raises(KeyError):
            halves.both(lambda: {}["missing"], lambda: 2)
        assert halves.both(lambda: threading.current_thread().name, lambda: 0)[0].startswith("recall-half")
    finally:
        halves.close()


REQUESTS = [
    SearchRequest(text="purple silk scarf", k=10, log=False),
    SearchRequest(text="cotton", k=10, filters=SearchFilters(category=("Dresses",)), log=False),
    SearchRequest(text="red", k=10, filters=SearchFilters(max_price=15), log=False),
    SearchRequest(text="linen", k=10, filters=SearchFilters(gender=("Men",)), log=False),
]


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    service = small_search_service_at(tmp_path_factory.mktemp("halves") / "data")
    yield service
    service.close()


def test_recall_side_by_side_equals_recall_in_turn(service):
    engine = service.engine
    state, encoder = engine.holder.get(), engine.encoder
    assert engine.halves.workers >= 0
    halves = SideBySide(1)
    try:
        for request in REQUESTS:
            together = recall(state, encoder, request, 50, halves=halves)
            apart = recall(state, encoder, request, 50)
            np.testing.assert_array_equal(together.item_ids, apart.item_ids)
            for name, values in apart.similarities.items():
                np.testing.assert_array_equal(together.similarities[name], values)
            assert together.price_unknown == apart.price_unknown
    finally:
        halves.close()


def test_service_search_answers_the_same_with_and_without_workers(service):
    engine = service.engine
    served = engine.halves
    answers = []
    for workers in (1, 0):
        engine.halves = SideBySide(workers)
        try:
            answers.append([[(h.item_id, h.score) for h in service.search(r).hits] for r in REQUESTS])
        finally:
            engine.halves.close()
            engine.halves = served
    assert answers[0] == answers[1]
    assert all(answers[0])
