"""Item ids are never reused: after the newest item is deleted the next one gets a new id (SQLite AUTOINCREMENT,
migration 0003), and the migration of a populated database keeps every child row."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from recsys.accounts.principal import MERCHANT, SYSTEM, Principal
from recsys.catalog.db import MIGRATIONS_DIR, make_engine, upgrade_schema
from recsys.service.catalog import CatalogService
from tests.catalog.bad_inputs import jpeg
from tests.catalog.schema_steps import upgrade_to

CHILD_TABLES = ("item_images", "reviews", "item_embeddings", "interactions")


def test_deleting_the_newest_item_never_gives_its_id_to_the_next(service):
    shop = Principal("shop", MERCHANT)
    first = service.add_item(shop, {"title": "First"})
    newest = service.add_item(shop, {"title": "Newest"})
    service.delete_item(shop, newest.id)
    after = service.add_item(shop, {"title": "After the delete"})
    assert after.id > newest.id > first.id


def _populate(connection) -> None:
    """Two items of one merchant with one row in every child table, written as rows (the 0002 schema)."""
    now = "2026-01-01 00:00:00"
    connection.execute(text("INSERT INTO merchants (id, name, created_at) VALUES (1, 'shop', :now)"), {"now": now})
    for item_id in (1, 2):
        connection.execute(
            text(
                "INSERT INTO items (id, merchant_id, external_id, title, description, brand, category, attributes,"
                " price, currency, created_at, updated_at) VALUES (:id, 1, :ext, :title, '', '', 'Bags', '{}', NULL,"
                " 'USD', :now, :now)"
            ),
            {"id": item_id, "ext": f"x{item_id}", "title": f"Item {item_id}", "now": now},
        )
        connection.execute(
            text(
                "INSERT INTO item_images (item_id, sha256, path, width, height, position)"
                " VALUES (:id, 'abc', 'ab/abc.jpg', 10, 10, 0)"
            ),
            {"id": item_id},
        )
        connection.execute(
            text(
                "INSERT INTO reviews (item_id, rating, title, text, created_at, source)"
                " VALUES (:id, 5, '', 'good', :now, 'merchant')"
            ),
            {"id": item_id, "now": now},
        )
        connection.execute(
            text(
                "INSERT INTO item_embeddings (item_id, model_version, route, dim, vector)"
                " VALUES (:id, 'v1', 'text', 1, x'0000803f')"
            ),
            {"id": item_id},
        )
        connection.execute(
            text(
                "INSERT INTO interactions (user_id, session_id, item_id, event, query, created_at)"
                " VALUES ('', 's', :id, 'click', 'bag', :now)"
            ),
            {"id": item_id, "now": now},
        )


def _counts(connection) -> dict[str, int]:
    return {t: connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in ("items", *CHILD_TABLES)}


def test_migration_0003_keeps_children_and_stops_id_reuse(settings):
    settings.data_dir.mkdir(parents=True)
    engine = make_engine(settings.resolved_database_url)  # foreign keys on, as the app runs
    upgrade_to(engine, "0002")
    with engine.begin() as connection:
        _populate(connection)
        before = _counts(connection)
    assert before == {"items": 2, **dict.fromkeys(CHILD_TABLES, 2)}

    upgrade_schema(engine)  # 0002 -> 0003: the table rebuild

    with engine.connect() as connection:
        schema = connection.execute(text("SELECT sql FROM sqlite_master WHERE name = 'items'")).scalar_one()
        assert "AUTOINCREMENT" in schema
        assert _counts(connection) == before
        assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1  # restored on the pooled connection
        assert connection.execute(text("PRAGMA foreign_key_check")).all() == []
        indexes = {r[1] for r in connection.execute(text("PRAGMA index_list(items)"))}
        assert {"ix_items_category", "ix_items_merchant_id"} <= indexes
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0006"  # head
    engine.dispose()

    service = CatalogService(settings)  # migrates again: a no-op at head
    try:
        service.delete_item(SYSTEM, 2)  # the newest; its children go with it, as before
        added = service.add_item(SYSTEM, {"title": "New after the migration"}, [jpeg()])
        assert added.id == 3
        assert service.get_item(1).reviews and service.get_item(1).images
    finally:
        service.close()


def test_migration_0003_rebuild_is_skipped_when_already_done_and_downgrades(settings):
    settings.data_dir.mkdir(parents=True)
    engine = make_engine(settings.resolved_database_url)
    upgrade_schema(engine)  # a fresh database straight to head
    with engine.begin() as connection:
        _populate(connection)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0002")
    with engine.connect() as connection:
        schema = connection.execute(text("SELECT sql FROM sqlite_master WHERE name = 'items'")).scalar_one()
        assert "AUTOINCREMENT" not in schema
        assert _counts(connection) == {"items": 2, **dict.fromkeys(CHILD_TABLES, 2)}
    engine.dispose()
