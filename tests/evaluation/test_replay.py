"""The replay suite on generated logs whose right answer is known, imported through the app's own importers:
shoppers who always buy pairs (the suite must find the pair and beat popularity), and a log whose answers lie only
after T (a leak of future events into the fit would find them)."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from recsys.catalog.events_import import import_events
from recsys.catalog.importer import import_catalog
from recsys.catalog.mapping import PRESETS
from recsys.catalog.store import CatalogStore
from recsys.config import Settings
from recsys.evaluation import replay
from recsys.evaluation.replay_log import head_by_event_share, split_log

START = datetime(2025, 1, 1, tzinfo=UTC)
SPLIT = START + timedelta(days=20)
PAIRS = 12
POPULAR = 5


def _settings(data_dir: Path) -> Settings:
    return Settings.from_env({"data_dir": data_dir, "database_url": "", "import_rows_per_hour": 0}, environ={})


def write_log(data_dir: Path, items: list[tuple[str, str, str]], events: list[tuple]) -> Path:
    """Import ``items`` (id, title, category) and ``events`` (user, item, event, time, order) into ``data_dir``."""
    files = data_dir.parent / f"{data_dir.name}-files"
    files.mkdir(parents=True)
    with (files / "catalog.csv").open("w", newline="") as f:
        csv.writer(f).writerows([("id", "title", "category"), *items])
    with (files / "events.csv").open("w", newline="") as f:
        rows = [(u, i, e, t.isoformat(), o) for u, i, e, t, o in events]
        csv.writer(f).writerows([("user", "item", "event", "time", "order"), *rows])
    settings = _settings(data_dir)
    store = CatalogStore(settings)
    try:
        kw = {"sessions": store.sessions, "settings": settings, "merchant_name": "shop"}
        assert import_catalog(files / "catalog.csv", None, PRESETS["default"], store=store.images, **kw).ok
        assert import_events(files / "events.csv", **kw).imported == len(events)
    finally:
        store.close()
    return data_dir


def catalog() -> list[tuple[str, str, str]]:
    # one category for all: only the baskets can tell a pair from any other two items
    rows = [(f"a{i}", f"Left {i}", "Home > Things") for i in range(PAIRS)]
    rows += [(f"b{i}", f"Right {i}", "Home > Things") for i in range(PAIRS)]
    rows += [(f"p{j}", f"Bestseller {j}", "Home > Things") for j in range(POPULAR)]
    rows += [(f"f{i}", f"Fresh {i}", "Garden > New") for i in range(PAIRS)]  # nobody touches these before T
    return rows


def past_events() -> list[tuple]:
    """Before T: teachers buy each pair together, crowds buy the bestsellers, each test shopper buys a left item."""
    events, minute = [], 0

    def at() -> datetime:
        nonlocal minute
        minute += 1
        return START + timedelta(minutes=minute)

    for i in range(PAIRS):
        for t in range(3):
            when = at()
            events += [(f"teacher{i}-{t}", f"{side}{i}", "purchase", when, f"o-t{i}-{t}") for side in "ab"]
    for c in range(20):
        when = at()
        events += [(f"crowd{c}", f"p{j}", "purchase", when, f"o-c{c}") for j in range(POPULAR)]
    for i in range(PAIRS):
        events.append((f"shopper{i}", f"a{i}", "purchase", at(), f"o-s{i}"))
    assert all(e[3] < SPLIT for e in events)
    return events


def pair_log(tmp_path) -> Path:
    future = []
    for i in range(PAIRS):  # each shopper's next visit: they look at the other half of their pair, then buy it
        when = SPLIT + timedelta(hours=i)
        future += [
            (f"shopper{i}", f"b{i}", "view", when, ""),
            (f"shopper{i}", f"b{i}", "purchase", when + timedelta(minutes=1), f"o-n{i}"),
        ]
    return write_log(tmp_path / "pairs", catalog(), past_events() + future)


def test_replay_finds_the_pairs_and_beats_popularity(tmp_path):
    data = pair_log(tmp_path)
    report = replay.run(data, settings=_settings(data), split_at=SPLIT.isoformat(), k=5)
    recall = {name: m["metrics"]["recall@5"] for name, m in report["methods"].items()}
    assert recall["for_you [purchases]"] == 1.0 and recall["for_you [views/clicks]"] == 1.0
    assert recall["popularity [purchases]"] == 0.0  # the bestsellers are not what these shoppers buy next
    assert recall["personal_history [purchases]"] == 0.0  # nor their own past items
    assert report["dataset"]["fit_events"] == len(past_events())
    assert report["dataset"]["shoppers_scored"] == {"purchases": PAIRS, "views/clicks": PAIRS}
    served = report["methods"]["for_you [purchases]"]
    assert served["segments"]["returning shoppers"]["n"] == PAIRS and served["metrics"]["ndcg@5"] > 0.6
    assert set(served["segments"]) >= {"head items", "tail items"}
    json.dumps(report, allow_nan=False)  # storable as is


def test_the_time_split_does_not_leak_future_events(tmp_path):
    # The only future purchases are fresh items nobody touched before T, the first exactly at T: any future event
    # in the fit (or an event at T counted as past) puts them in the shopper's history and the pair's baskets.
    future = []
    for i in range(PAIRS):
        when = SPLIT + timedelta(hours=i)
        future += [(f"shopper{i}", f"f{i}", "purchase", when, f"o-n{i}"), (f"shopper{i}", f"f{i}", "view", when, "")]
    data = write_log(tmp_path / "fresh", catalog(), past_events() + future)
    report = replay.run(data, settings=_settings(data), split_at=SPLIT.isoformat(), k=5)
    for name, result in report["methods"].items():
        assert result["metrics"]["recall@5"] == 0.0, name
    assert report["dataset"]["fit_events"] == len(past_events())


def test_split_by_fraction_keeps_ties_on_the_test_side_and_refuses_empty_sides(tmp_path):
    data = pair_log(tmp_path)
    store = CatalogStore(_settings(data))
    try:
        with store.sessions() as session:
            events = replay.read_events(session)
    finally:
        store.close()
    split = split_log(events, test_fraction=0.2)
    assert split.fit and split.test and max(e.at for e in split.fit) < split.at == min(e.at for e in split.test)
    assert len(split.test) >= 0.2 * len(events)
    with pytest.raises(ValueError, match="nothing to fit"):
        split_log(events, split_at=START)
    with pytest.raises(ValueError, match="nothing to predict"):
        split_log(events, split_at=SPLIT + timedelta(days=30))
    with pytest.raises(ValueError, match="between 0 and 1"):
        split_log(events, test_fraction=1.5)


def test_head_is_the_most_interacted_items_up_to_the_event_share():
    counts = [50, 0, 30, 10, 10]  # 100 events: 50 + 30 = 80%
    assert head_by_event_share(counts).tolist() == [True, False, True, False, False]
    assert head_by_event_share([0, 0]).tolist() == [False, False]


def test_eval_cli_replays_a_data_dir_and_stores_the_report(tmp_path, capsys, monkeypatch):
    from recsys import cli
    from recsys.config import get_settings

    monkeypatch.setenv("RECSYS_DATA_DIR", str(tmp_path / "app"))
    get_settings.cache_clear()

    data = pair_log(tmp_path)
    out = tmp_path / "replay.json"
    argv = ["eval", "replay", "--data-dir", str(data), "--split-at", SPLIT.isoformat(), "--k", "5", "--json"]
    assert cli.main([*argv, "-o", str(out)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["suite"] == "replay" and json.loads(out.read_text()) == report
    assert report["methods"]["for_you [purchases]"]["metrics"]["recall@5"] == 1.0
    assert cli.main(["eval", "replay", "--data-dir", str(tmp_path / "nothing-here")]) == 2
    assert cli.main(["eval", "replay", "--data-dir", str(data), "--split-at", "yesterday"]) == 2
    assert [p.stem.split("-")[1] for p in (tmp_path / "app" / "reports").iterdir()] == ["replay"]
    get_settings.cache_clear()
