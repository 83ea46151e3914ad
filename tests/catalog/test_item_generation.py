"""Every write of an item row is stamped with the catalog's generation counter (``Item.generation``), so a saved copy
of the item table re-reads only the items written after it (search/table_snapshot.py). A write that changes no
column of the item (a review posted, the same fields saved again) leaves its stamp. On SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from recsys.accounts.principal import SYSTEM
from recsys.catalog import repository as repo
from recsys.catalog.models import Item


def stamps(service) -> dict[int, int | None]:
    with service.sessions() as session:
        return dict(session.execute(select(Item.id, Item.generation)).tuples().all())


def counter(service) -> int:
    with service.sessions() as session:
        return repo.embedding_generation(session)


def test_adds_and_changes_take_the_next_generation(service):
    a = service.add_item(SYSTEM, {"title": "Red shirt"}).id
    b = service.add_item(SYSTEM, {"title": "Blue dress", "price": 20}).id
    first = stamps(service)
    assert first[a] < first[b] == counter(service)
    service.update_item(SYSTEM, a, {"price": 12.5})
    assert stamps(service)[a] == counter(service) > first[b]
    assert stamps(service)[b] == first[b]


def test_writes_that_change_no_column_of_the_item_keep_its_stamp(service):
    item = service.add_item(SYSTEM, {"title": "Green watch", "price": 30}).id
    before = stamps(service)[item]
    service.update_item(SYSTEM, item, {"price": 30})  # the same value
    service.add_review(SYSTEM, item, 4, "Nice", "keeps time")  # a review row, not the item's
    assert stamps(service)[item] == before


def test_a_bulk_import_stamps_every_item_it_writes(service, tmp_path):
    rows = "id,title,price\nx1,Black boots,40\nx2,White socks,5\n"
    path = tmp_path / "items.csv"
    path.write_text(rows)
    report = service.import_bundle(SYSTEM, path)
    assert report.ok, report
    written = stamps(service)
    assert len(written) == 2 and all(g is not None and g > 0 for g in written.values())


def test_a_rolled_back_write_leaves_the_counter(service):
    start = counter(service)
    try:
        with service.sessions.begin() as session:
            session.add(Item(merchant_id=repo.get_or_create_merchant(session).id, external_id="x", title="Gone"))
            session.flush()
            raise RuntimeError("killed mid-write")
    except RuntimeError:
        pass
    assert counter(service) == start and stamps(service) == {}
