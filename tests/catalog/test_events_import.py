"""import-events: bad rows refused with reasons, unknown item ids reported, orders never imported twice, batched
commits, the size limit, Parquet, and who may import (service.import_events)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import func, select

from recsys.accounts.principal import ANONYMOUS, MERCHANT, SHOPPER, SYSTEM, Principal
from recsys.catalog import reads
from recsys.catalog.models import Interaction
from recsys.service.errors import NotAllowed

HEADER = ["user", "item", "event", "time", "order"]


def _write(path: Path, rows: list[list[object]], header: list[str] = HEADER) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _count(service) -> int:
    with service.sessions() as session:
        return session.scalar(select(func.count()).select_from(Interaction)) or 0


@pytest.fixture
def shop(service):
    for external_id in ("a1", "a2", "a3"):
        service.add_item(SYSTEM, {"external_id": external_id, "title": f"Item {external_id}"})
    return service


def test_good_rows_are_imported_and_read_back_as_baskets(shop, tmp_path):
    path = _write(
        tmp_path / "events.csv",
        [
            ["ann", "a1", "purchase", "2026-01-01T10:00:00", "o1"],
            ["ann", "a2", "Purchase", "2026-01-01T10:00:00Z", "o1"],
            ["bob", "a3", "view", "2026-01-02", ""],
            ["bob", "a1", "cart", 1767355200, ""],  # epoch seconds: 2026-01-02T12:00:00Z
        ],
    )
    report = shop.import_events(SYSTEM, path)
    assert report.ok and report.rejected == []
    assert (report.imported, report.orders_added) == (4, 1)
    ids = {i.external_id: i.id for i in shop.browse().items}
    with shop.sessions() as session:
        assert reads.baskets(session) == {"o1": [ids["a1"], ids["a2"]]}
        bob = reads.user_events(session, "bob", limit=10)
    assert [(e.item_id, e.event) for e in bob] == [(ids["a1"], "cart"), (ids["a3"], "view")]
    assert bob[0].created_at.hour == 12
    with shop.sessions() as session:
        sessions = sorted(session.execute(select(Interaction.user_id, Interaction.session_id)).all())
    assert sessions == [("ann", "o1"), ("ann", "o1"), ("bob", "bob"), ("bob", "bob")]  # a basket is a session


def test_bad_rows_are_refused_with_their_reasons_and_the_rest_imported(shop, tmp_path):
    path = _write(
        tmp_path / "events.csv",
        [
            ["ann", "a1", "click", "2026-01-01", ""],
            ["", "a1", "click", "2026-01-01", ""],
            ["ann", "a1", "teleport", "2026-01-01", ""],
            ["ann", "a1", "click", "yesterday", ""],
            ["ann", "", "click", "2026-01-01", ""],
            ["ann", "a2", "click", "", ""],
            ["ann", "a1", "click", "2026-01-01", ""],  # the same event again
            ["ann", "a2", "purchase", "2026-01-03", "o9"],
            ["bob", "a3", "purchase", "2026-01-03", "o9"],  # another shopper's order
            ["x" * 101, "a1", "view", "2026-01-01", ""],
        ],
    )
    report = shop.import_events(SYSTEM, path)
    reasons = {e.row: " ".join(e.reasons) for e in report.rejected}
    assert sorted(reasons) == [2, 3, 4, 5, 6, 7, 9, 10]
    assert "user is empty" in reasons[2]
    assert "unknown event 'teleport'" in reasons[3]
    assert "'yesterday' is not an ISO 8601" in reasons[4]
    assert "item is empty" in reasons[5]
    assert "time is empty" in reasons[6]
    assert "repeats row 1" in reasons[7]
    assert "belongs to user 'ann' (row 8)" in reasons[9]
    assert "over the 100 limit" in reasons[10]
    assert report.imported == 2 == _count(shop)


def test_unknown_item_ids_are_named_and_their_rows_refused(shop, tmp_path):
    path = _write(
        tmp_path / "events.csv",
        [["ann", "a1", "view", "2026-01-01", ""], ["ann", "nope", "view", "2026-01-01", ""]]
        + [["bob", "gone", "click", f"2026-01-0{d}", ""] for d in (1, 2)],
    )
    report = shop.import_events(SYSTEM, path)
    assert report.unknown_items == ["gone", "nope"] and report.unknown_item_count == 2
    assert [e.row for e in report.rejected] == [2, 3, 4]
    assert "unknown item 'nope'" in report.rejected[0].reasons[0]
    assert report.imported == 1


def test_reimporting_adds_nothing_and_an_order_is_never_doubled(shop, tmp_path):
    rows = [
        ["ann", "a1", "purchase", "2026-01-01T10:00:00", "o1"],
        ["ann", "a2", "purchase", "2026-01-01T10:00:00", "o1"],
        ["ann", "a3", "view", "2026-01-01T09:00:00+01:00", ""],
    ]
    first = shop.import_events(SYSTEM, _write(tmp_path / "a.csv", rows))
    again = shop.import_events(SYSTEM, _write(tmp_path / "b.csv", rows))
    # The order again, now with one more line: the order was imported, so none of its lines is added.
    grown = shop.import_events(
        SYSTEM, _write(tmp_path / "c.csv", [*rows, ["ann", "a3", "purchase", "2026-01-01T10:00:00", "o1"]])
    )
    assert (first.imported, first.orders_added) == (3, 1)
    assert (again.imported, again.already_imported, again.orders_already_imported) == (0, 3, 1)
    assert (grown.imported, grown.already_imported) == (0, 4)
    assert _count(shop) == 3
    with shop.sessions() as session:
        assert len(reads.baskets(session)["o1"]) == 2


def test_an_order_split_across_batches_is_imported_whole(shop, tmp_path, settings):
    from recsys.catalog.events_import import import_events

    rows = [["ann", item, "purchase", "2026-01-01", "o1"] for item in ("a1", "a2", "a3")]
    rows.append(["bob", "a1", "purchase", "2026-01-02", "o2"])
    report = import_events(
        _write(tmp_path / "e.csv", rows), sessions=shop.sessions, settings=settings.replace(events_batch_size=2)
    )
    assert (report.imported, report.orders_added, report.already_imported) == (4, 2, 0)
    with shop.sessions() as session:
        assert [len(v) for v in reads.baskets(session).values()] == [3, 1]


def test_whole_file_refusals_write_nothing(shop, tmp_path, settings):
    from recsys.catalog.events_import import import_events

    missing = shop.import_events(SYSTEM, _write(tmp_path / "m.csv", [["ann", "a1"]], header=["user", "item"]))
    assert "lacks required column(s) event, time" in missing.refused
    big = _write(tmp_path / "big.csv", [["ann", "a1", "view", "2026-01-01", ""]] * 50)
    too_big = import_events(big, sessions=shop.sessions, settings=settings.replace(max_events_bytes=100))
    assert "over the" in too_big.refused and "limit" in too_big.refused
    nobody = shop.import_events(SYSTEM, big, merchant="no-such-shop")
    assert "no merchant is named 'no-such-shop'" in nobody.refused
    assert _count(shop) == 0


def test_parquet_events_import(shop, tmp_path):
    import pandas as pd

    path = tmp_path / "events.parquet"
    pd.DataFrame(
        {
            "user": [7, 7],  # numeric ids, as pandas writes them
            "item": ["a1", "a2"],
            "event": ["purchase", "purchase"],
            "time": pd.to_datetime(["2026-01-01 10:00", "2026-01-01 10:00"]),
            "order": [11.0, 11.0],
        }
    ).to_parquet(path)
    report = shop.import_events(SYSTEM, path)
    assert report.rejected == [] and report.imported == 2
    with shop.sessions() as session:
        assert list(reads.baskets(session)) == ["11"]
        assert [e.order_id for e in reads.user_events(session, "7", limit=5)] == ["11", "11"]


def test_who_may_import_events(service, tmp_path):
    mine, theirs = Principal("mine", MERCHANT), Principal("theirs", MERCHANT)
    service.add_item(mine, {"external_id": "shared-id", "title": "Mine"})
    service.add_item(theirs, {"external_id": "shared-id", "title": "Theirs"})
    path = _write(tmp_path / "e.csv", [["ann", "shared-id", "view", "2026-01-01", ""]])
    for actor in (ANONYMOUS, Principal("shopper", SHOPPER)):
        with pytest.raises(NotAllowed):
            service.import_events(actor, path)
    with pytest.raises(NotAllowed):
        service.import_events(mine, path, merchant="theirs")
    ambiguous = service.import_events(SYSTEM, path)  # an admin naming no merchant: the id is two merchants'
    assert "an id of 2 merchants' items" in ambiguous.rejected[0].reasons[0]
    assert service.import_events(mine, path).imported == 1  # a merchant's own items
    with service.sessions() as session:
        (event,) = reads.user_events(session, "ann", limit=5)
    assert service.get_item(event.item_id).title == "Mine"


def test_hostile_arguments_give_a_refused_report(shop, tmp_path):
    path = _write(tmp_path / "e.csv", [["ann", "a1", "view", "2026-01-01", ""]])
    assert shop.import_events(SYSTEM, 123).refused == "no events file was given"
    assert "whole number" in shop.import_events(SYSTEM, path, limit=-1).refused
    assert "markup" in shop.import_events(SYSTEM, path, merchant="<b>x</b>").refused
    assert "cannot be read" in shop.import_events(SYSTEM, tmp_path / "absent.csv").refused
    assert _count(shop) == 0
