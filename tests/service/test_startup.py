"""The page is up before the start-up ends: browsing works at once, search says how far the start got."""

from __future__ import annotations

import threading

import pytest

from recsys.config import Settings
from recsys.search.types import NotReady, SearchRequest
from recsys.service.startup import StartupStatus
from recsys.service.taillift import TailLiftService
from recsys.ui import app
from tests.small_catalog import fill_small_catalog


def test_the_status_line_says_the_phase_n_of_n_and_what_works():
    status = StartupStatus()
    status.progress(1000, 4000, "encoding items")
    line = status.line()
    assert "encoding items 1,000 of 4,000" in line and "left" in line and "the rest by keywords" in line
    status.finish()
    assert status.ready


def test_a_background_start_serves_browsing_at_once_and_search_when_the_index_is_built(tmp_path, monkeypatch):
    service = TailLiftService(Settings.from_env({"data_dir": tmp_path / "data", "demo_limit": 0}, environ={}))
    fill_small_catalog(service)
    release, reported = threading.Event(), threading.Event()
    real_load = TailLiftService.load_models

    def held_load(self, progress=None, train_missing_ranker=False, progressive=False):  # a first start's minutes
        progress(5, 30, "encoding items")
        reported.set()
        assert release.wait(60)
        real_load(self, progress, train_missing_ranker, progressive)

    monkeypatch.setattr(TailLiftService, "load_models", held_load)
    started = service.start_in_background()
    try:
        assert service.browse().total == 30  # the catalog is there while the models load
        with pytest.raises(NotReady):
            service.search(SearchRequest(text="red shirt", log=False))
        assert reported.wait(60)  # the start thread got as far as the encoding (it runs on its own)
        banner, timer = app.startup_banner(service)
        assert banner["visible"] and "encoding items 5 of 30" in banner["value"] and timer.active
        release.set()
        started.join(120)
        assert service.engine.encoder.text._traced is not None  # traced by the start, not by the first search
        assert service.startup.ready and service.search(SearchRequest(text="red shirt", k=3, log=False)).hits
        banner, timer = app.startup_banner(service)
        assert not banner["visible"] and not timer.active
    finally:
        release.set()
        service.close()


def test_the_recommenders_are_fitted_before_the_index_build_starts(tmp_path, monkeypatch):
    # One build at a time: "For you" serves first, then the index build has the heap to itself (docs/scale.md).
    service = TailLiftService(Settings.from_env({"data_dir": tmp_path / "data", "demo_limit": 0}, environ={}))
    fill_small_catalog(service)
    seen: list[str | None] = []
    real_load = TailLiftService.load_models

    def watched_load(self, progress=None, train_missing_ranker=False, progressive=False):
        seen.append(self.recommendations.version)
        real_load(self, progress, train_missing_ranker, progressive)

    monkeypatch.setattr(TailLiftService, "load_models", watched_load)
    try:
        service.start()
        assert len(seen) == 1 and seen[0] is not None and seen[0] == service.recommendations.version
    finally:
        service.close()


def test_each_long_step_logs_a_line_per_tenth(caplog):
    status = StartupStatus()
    with caplog.at_level("INFO", logger="recsys.service.startup"):
        for done in range(0, 1001):
            status.progress(done, 1000, "encoding items")
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0] == "start-up: encoding items"
    assert [line for line in lines if " of 1000" in line] == [
        f"start-up: encoding items {n} of 1000" for n in range(0, 1001, 100)
    ]
