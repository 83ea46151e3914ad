"""The item table and BM25 base a complete build saves: a restart loads them, patches in the items written since (by
``Item.generation``) and drops deleted ones, and reads in full whenever the copy cannot be trusted (a row changed
without the stamp, another tokenizer, another catalog, a damaged file). A restored table and index answer exactly as
a full read and build would."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy import insert, text

from recsys.accounts.principal import SYSTEM
from recsys.catalog import repository as repo
from recsys.catalog.models import Item
from recsys.index.segmented_lexical import SegmentedBM25
from recsys.search import table_snapshot
from recsys.search.route_snapshot import current_generation
from recsys.search.table import ItemTable, load_item_table
from recsys.search.table_snapshot import read_table
from recsys.search.types import SearchRequest
from recsys.service.taillift import TailLiftService
from tests.small_catalog import photo, small_search_service_at

QUERIES = ["red cotton dress", "men shoes", "yellow handbag", "watch", "silk scarf purple", "jeens"]


@pytest.fixture
def service(tmp_path):
    built = small_search_service_at(tmp_path / "data")
    assert built.engine.wait_idle()  # the save runs on the worker after the publish
    yield built
    built.close()


def table_dir(service):
    return service.settings.index_dir / "table"


def read_now(service, now=None):
    return read_table(service.store, current_generation(service.store), table_dir(service), now)


def full_read(service, now):
    with service.store.sessions() as session:
        return load_item_table(session, now)


def assert_same_table(restored: ItemTable, full: ItemTable) -> None:
    np.testing.assert_array_equal(restored.ids, full.ids)
    for field in fields(ItemTable):
        a, b = getattr(restored, field.name), getattr(full, field.name)
        if field.name == "age_days":
            np.testing.assert_allclose(a, b, atol=1e-3)
        elif isinstance(b, list):
            assert list(a) == b, field.name
        else:
            np.testing.assert_array_equal(np.asarray(a), b, err_msg=field.name)


def assert_same_lexical(restored: SegmentedBM25, full: ItemTable) -> None:
    built = SegmentedBM25.build(full.ids, full.lexical_texts())
    np.testing.assert_array_equal(restored.ids(), built.ids())
    for query in QUERIES:
        scores, ids = restored.search(query, 10)
        want_scores, want_ids = built.search(query, 10)
        np.testing.assert_array_equal(ids, want_ids, err_msg=query)
        np.testing.assert_array_equal(scores, want_scores, err_msg=query)
        assert restored.unknown_words(query) == built.unknown_words(query)
    assert restored.vocabulary().frequency == built.vocabulary().frequency
    assert restored.vocabulary().correction("jeens") == built.vocabulary().correction("jeens")


def test_a_build_saves_the_table_and_a_restart_reads_no_item_row(service, monkeypatch):
    assert (table_dir(service) / "manifest.json").is_file()
    now = datetime.now(UTC)
    read = read_now(service, now)
    assert read.patched == 0 and not read.worth_saving and read.lexical is not None
    full = full_read(service, now)
    assert_same_table(read.table, full)
    assert_same_lexical(read.lexical, full)
    before = service.search(SearchRequest(text="yellow handbag", k=5, log=False))
    service.close()

    def no_full_read(*args, **kwargs):
        raise AssertionError("a restart on an unchanged catalog read the whole item table")

    monkeypatch.setattr(table_snapshot, "load_item_table", no_full_read)
    again = TailLiftService(service.settings)
    again.load_models()
    try:
        after = again.search(SearchRequest(text="yellow handbag", k=5, log=False))
        assert [h.item_id for h in after.hits] == [h.item_id for h in before.hits]
    finally:
        again.close()


def test_items_written_after_the_save_are_patched_in_and_deleted_ones_dropped(service):
    items = service.browse().items
    added = service.add_item(
        SYSTEM, {"title": "Purple silk scarf", "category": "Accessories > Scarves"}, [photo((120, 20, 140))]
    )
    service.update_item(SYSTEM, items[0].id, {"title": "Orange linen dress"})
    service.update_item(SYSTEM, items[1].id, {"price": 99.5})  # a price only: no new vectors, still re-read
    service.add_review(SYSTEM, items[2].id, 5, "Lovely", "soft and warm")  # totals are read afresh anyway
    service.delete_item(SYSTEM, items[3].id)
    assert service.engine.wait_idle()
    now = datetime.now(UTC)
    read = read_now(service, now)
    assert read.patched == 4  # added, two updated, one deleted
    full = full_read(service, now)
    assert added.id in full.ids and items[3].id not in full.ids
    assert_same_table(read.table, full)
    assert_same_lexical(read.lexical, full)
    assert read.table.rating_count[read.table.rows(np.array([items[2].id]))][0] == 1


def test_an_item_inserted_without_the_stamp_is_still_read(service):
    """A plain ``INSERT`` (a bulk seeder's) bypasses the ORM stamp: the ids read at restart still find it."""
    with service.store.sessions.begin() as session:
        merchant = repo.get_or_create_merchant(session)
        session.execute(insert(Item), [{"merchant_id": merchant.id, "external_id": "raw-1", "title": "Teal raincoat"}])
    now = datetime.now(UTC)
    read = read_now(service, now)
    assert read.patched == 1
    assert_same_table(read.table, full_read(service, now))
    assert_same_lexical(read.lexical, full_read(service, now))


def test_a_row_changed_without_the_stamp_means_a_full_read(service):
    """The sampled rows are derived again at each restart: a title changed by plain SQL is caught, not served."""
    item_id = int(service.browse().items[4].id)
    with service.store.sessions.begin() as session:
        session.execute(text("UPDATE items SET title = 'Changed behind its back' WHERE id = :id"), {"id": item_id})
    read = read_now(service)
    assert read.patched == -1 and read.lexical is None and read.worth_saving
    assert "Changed behind its back" in read.table.titles


@pytest.mark.parametrize(
    "field, value",
    [("stemmer", "none"), ("catalog", "0" * 32), ("generation", 10**9), ("layout", 0)],
)
def test_a_copy_made_otherwise_is_not_used(service, field, value):
    path = table_dir(service) / "manifest.json"
    manifest = json.loads(path.read_text())
    assert read_now(service).patched == 0
    path.write_text(json.dumps({**manifest, field: value}))
    assert read_now(service).patched == -1


def test_a_damaged_copy_is_not_used(service):
    folder = next(p for p in table_dir(service).iterdir() if p.name.startswith("gen-"))
    target = folder / "titles.text"
    target.write_bytes(target.read_bytes()[:-3])  # a torn write
    read = read_now(service)
    assert read.patched == -1
    assert_same_table(read.table, full_read(service, read.read_at))


def test_texts_with_newlines_and_other_scripts_survive_the_copy(service):
    """Saved as one UTF-8 text plus character offsets: a CRLF, a Chinese title and an emoji keep their places.
    (Written through the ORM, past the validator, which would normalise the line ends.)"""
    crlf = "line one\r\nline two\rthree\n"
    item_id = int(service.browse().items[2].id)
    with service.store.sessions.begin() as session:
        item = session.get(Item, item_id)
        item.title, item.description = "连衣裙 红色 👗", crlf
    first = read_now(service)
    assert first.patched == 1
    table_snapshot.save_table(table_dir(service), first)  # what a restart that re-read much would do
    read = read_now(service)
    assert read.patched == 0
    assert_same_table(read.table, full_read(service, read.read_at))
    assert_same_lexical(read.lexical, full_read(service, read.read_at))
    row = int(read.table.rows(np.array([item_id]))[0])
    assert read.table.descriptions[row] == crlf and read.table.titles[row] == "连衣裙 红色 👗"
