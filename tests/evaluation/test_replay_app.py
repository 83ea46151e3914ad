"""The app replays its own log after a background recommender refit (once it has enough events, and again only when
the log has grown), stores the report, and the Evaluation tab's summary shows it with head vs tail."""

from __future__ import annotations

from datetime import timedelta

from recsys.catalog.store import CatalogStore
from recsys.evaluation import replay, run_history
from recsys.evaluation import report as reports
from recsys.service.recommendations import Recommendations
from recsys.ui import evaluation as tab
from tests.evaluation.test_replay import PAIRS, SPLIT, _settings, catalog, pair_log, past_events, write_log


def _refit(recommendations: Recommendations) -> str:
    job = recommendations.refit()
    assert job.wait(120) and job.status == "done", job.message
    return job.message


def test_a_refit_replays_the_log_once_and_the_tab_shows_head_and_tail(tmp_path):
    data = pair_log(tmp_path)
    settings = _settings(data)
    store = CatalogStore(settings)
    try:
        recommendations = Recommendations(store, settings)
        assert tab.replay_summary([])[0].startswith("**Recommendations on this app's log:** none yet")
        message = _refit(recommendations)
        assert "replay stored:" in message
        found = run_history.replay_results(settings)
        assert len(found) == 1 and found[0]["by_app"] and found[0]["model_version"] == recommendations.version
        assert found[0]["events"] == len(past_events()) + 2 * PAIRS
        targets = {(r["target"], r["method"]) for r in found[0]["rows"]}
        assert ("purchases", "for_you") in targets and ("purchases", "popularity") in targets
        assert "replay stored:" not in _refit(recommendations)  # same log: not replayed again
        assert len(run_history.replay_reports(settings)) == 1
    finally:
        store.close()
    summary = tab.runs_summary(settings)
    assert summary != tab.NOTHING_YET and "**Recommendations on this app's log** (replay," in summary
    assert "| target | method | shoppers | Recall@20 | nDCG@20 | head recall | tail recall | coverage |" in summary
    assert f"after the refit serving {found[0]['model_version']}" in summary
    row = next(line for line in summary.splitlines() if line.startswith("| purchases | for_you |"))
    first = found[0]["rows"][0]
    assert row.count("|") == 9 and (first["tail_recall"] is None or f"{first['tail_recall']:.3f}" in summary)
    # The recommender versions table: the served version from the registry, with the replay taken while it served.
    # Two refits, newest first; the replay belongs to the first (the second saw the same log and replayed nothing).
    versions = run_history.recommender_versions(settings)
    assert len(versions) == 2 and versions[1]["version"] == found[0]["model_version"]
    assert versions[0]["parent"] == versions[1]["version"] and not versions[0]["for_you"]
    assert versions[1]["metrics"]["events"] > 0 and versions[1]["fingerprint"]
    served = next(r for r in found[0]["rows"] if (r["target"], r["method"]) == ("purchases", "for_you"))
    line = next(x for x in summary.splitlines() if x.startswith(f"| {versions[1]['version']} |"))
    assert f"purchases R@20 {served['recall']:.3f}, tail " in line and line.count("|") == 10
    learned = versions[1]["metrics"]["ranker"]
    assert (" | learned, " if learned else " | hand blend | ") in line
    newest = next(x for x in summary.splitlines() if x.startswith(f"| {versions[0]['version']} |"))
    assert newest.endswith("| – |")
    assert "**Recommender versions** (refitted" in summary


def test_the_tab_says_when_no_recommender_version_exists_yet(tmp_path):
    assert tab.recommender_summary([])[0].startswith("**Recommender versions:** none yet")
    assert run_history.recommender_versions(_settings(pair_log(tmp_path))) == []


def test_the_log_is_replayed_again_only_once_it_has_grown(tmp_path):
    data = pair_log(tmp_path)
    settings = _settings(data)
    events = len(past_events()) + 2 * PAIRS
    assert run_history.replay_due(settings, events)
    store = CatalogStore(settings)
    try:
        stored = replay.replay_store(store, data)
    finally:
        store.close()
    reports.store(stored, settings, label=run_history.APP_REPLAY_LABEL)
    assert not run_history.replay_due(settings, events)
    assert not run_history.replay_due(settings, int(events * (1 + run_history.REPLAY_GROWTH)) - 1)
    assert run_history.replay_due(settings, int(events * (1 + run_history.REPLAY_GROWTH)) + 1)
    reports.store(stored, settings)  # a CLI replay (no label) does not hold the app's own back, but is listed
    assert run_history.replay_due(settings, int(events * 1.2))
    assert [r["by_app"] for r in run_history.replay_results(settings)] == [False, True]


def test_a_small_log_is_not_replayed(tmp_path):
    few = [(f"u{i}", f"a{i}", "purchase", SPLIT + timedelta(minutes=i), f"o{i}") for i in range(PAIRS)]
    settings = _settings(write_log(tmp_path / "few", catalog(), few))
    store = CatalogStore(settings)
    try:
        recommendations = Recommendations(store, settings)
        assert "replay stored:" not in _refit(recommendations)
        assert run_history.replay_results(settings) == [] and replay.MIN_EVENTS > len(few)
        version = recommendations.version
    finally:
        store.close()
    # Nothing measured yet, and the tab says so first; the fitted version is listed below it, with no replay.
    summary = tab.runs_summary(settings)
    assert summary.startswith(tab.NOTHING_YET) and "**Recommender versions** (refitted" in summary
    assert next(x for x in summary.splitlines() if x.startswith(f"| {version} |")).endswith("| – |")
