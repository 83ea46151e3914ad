"""Background jobs of the service: one ranker retrain at a time, on its own thread, never holding up the index."""

from __future__ import annotations

import itertools
import threading
from dataclasses import replace

import pytest

from recsys.accounts.principal import SYSTEM
from recsys.search.types import SearchRequest
from recsys.service import taillift
from recsys.service.jobs import BackgroundJob
from recsys.training.catalog_ranker import CATALOG_GRID, FIRST_START_GRID
from tests.small_catalog import photo, small_search_service_at


@pytest.fixture
def service(tmp_path):
    service = small_search_service_at(tmp_path / "data")
    yield service
    service.close()


def test_a_job_reports_done_or_failed_with_its_message():
    done = BackgroundJob("ok").start(lambda job: "all good")
    failed = BackgroundJob("broken").start(lambda job: 1 / 0)
    assert done.wait(10) and failed.wait(10)
    assert (done.status, done.message) == ("done", "all good")
    assert failed.status == "failed" and "ZeroDivisionError" in failed.message


def test_an_item_added_during_a_ranker_retrain_is_searchable_before_the_retrain_ends(service, monkeypatch):
    release, started = threading.Event(), threading.Event()

    def slow_training(catalog, snapshot, **options):  # stands in for minutes of LightGBM grid search
        started.set()
        assert release.wait(60)
        raise RuntimeError("stopped by the test")

    monkeypatch.setattr(taillift, "train_catalog_ranker", slow_training)
    job = service.retrain_ranker(
        SYSTEM,
    )
    assert started.wait(10)
    assert (
        service.retrain_ranker(
            SYSTEM,
        )
        is job
    )  # one retrain at a time: the running job is returned
    added = service.add_item(
        SYSTEM, {"title": "Violet linen scarf", "category": "Apparel > Scarves"}, [photo((140, 40, 200))]
    )
    assert service.engine.wait_idle(30)  # the index worker is free although the retrain is still running
    assert job.running
    hits = service.search(SearchRequest(text="violet linen scarf", k=3, log=False)).hits
    assert hits and hits[0].item_id == added.id
    release.set()
    assert job.wait(30) and job.status == "failed" and "stopped by the test" in job.message
    assert service.engine.ranking.version == "fallback"  # a failed retrain leaves the served ranker as it was


def test_edits_during_a_model_switch_reach_the_served_index_and_the_new_one(service, monkeypatch):
    engine = service.engine
    built, release = threading.Event(), threading.Event()
    real_build = engine._build_state

    def slow_build(encoder, progress, progressive):  # the new state is built, then held back: minutes in real life
        state = real_build(encoder, progress, progressive)
        built.set()
        assert release.wait(60)
        return state

    monkeypatch.setattr(engine, "_build_state", slow_build)
    switch = threading.Thread(target=engine.switch_encoder, args=(engine.encoder,))
    switch.start()
    assert built.wait(30)
    added = service.add_item(
        SYSTEM, {"title": "Amber wool beanie", "category": "Apparel > Hats"}, [photo((200, 120, 0))]
    )
    assert engine.wait_idle(30)  # not held up by the switch
    assert added.id in engine.holder.get().table.ids  # searchable while the switch is still building
    release.set()
    switch.join(60)
    state = engine.holder.get()
    assert added.id in state.table.ids  # the new state was read before the add: the edit was replayed onto it
    assert set(state.vectors.ids().tolist()) == set(state.table.ids.tolist())
    hits = service.search(SearchRequest(text="amber wool beanie", k=3, log=False)).hits
    assert hits[0].item_id == added.id


def test_the_first_start_trains_one_ranker_configuration_and_a_retrain_the_whole_grid(service, monkeypatch):
    seen: list[dict] = []

    def recorded(catalog, snapshot, **options):
        seen.append(options)
        raise RuntimeError("stopped by the test")

    monkeypatch.setattr(taillift, "train_catalog_ranker", recorded)
    monkeypatch.setattr(service, "settings", replace(service.settings, auto_train_min_items=1))
    service.load_models(train_missing_ranker=True)  # what the app's start does with no ranker yet
    assert service.ranker_job is not None and service.ranker_job.wait(30)
    assert service.retrain_ranker(SYSTEM).wait(30)  # the Training tab's retrain
    assert seen == [{"grid": FIRST_START_GRID}, {}]
    assert len(list(itertools.product(*FIRST_START_GRID.values()))) == 1
    assert len(list(itertools.product(*CATALOG_GRID.values()))) > 1  # train_catalog_ranker's default
