"""Every write of item vectors takes the next embedding generation and stamps its rows with it, so a saved copy of
the route matrices can re-read only what was written after it (search/route_snapshot.py). On SQLite and PostgreSQL;
the migration of a populated 0004 database leaves the old rows unstamped and the counter at 0."""

from __future__ import annotations

import numpy as np
from sqlalchemy import text

from recsys.accounts.principal import SYSTEM
from recsys.catalog import repository as repo
from recsys.catalog.db import make_engine, upgrade_schema
from tests.catalog.schema_steps import upgrade_to


def _ids_after(session, generation):
    parts = list(repo.iter_embeddings(session, "v1", "text", after_generation=generation))
    return [int(i) for ids, _ in parts for i in ids]


def test_each_write_takes_the_next_generation_and_stamps_its_rows(service):
    a, b = (service.add_item(SYSTEM, {"title": t}).id for t in ("Red shirt", "Blue dress"))
    with service.sessions.begin() as session:
        start = repo.embedding_generation(session)
        repo.save_embeddings(session, "v1", "text", [a, b], np.ones((2, 3), np.float32))
    with service.sessions.begin() as session:
        assert repo.embedding_generation(session) == start + 1
        repo.save_embeddings(session, "v1", "text", [b], np.full((1, 3), 2.0, np.float32))  # b re-encoded
    with service.sessions() as session:
        assert repo.embedding_generation(session) == start + 2
        assert _ids_after(session, start) == [a, b]
        assert _ids_after(session, start + 1) == [b]
        assert _ids_after(session, start + 2) == []
        assert repo.count_embeddings(session, "v1", "text") == 2
        assert repo.count_embeddings(session, "v1", "image") == 0
        identity = repo.catalog_identity(session)
    with service.sessions() as session:
        assert len(identity) == 32 and repo.catalog_identity(session) == identity  # made once, kept


def test_a_rolled_back_write_leaves_the_generation(service):
    item = service.add_item(SYSTEM, {"title": "Green watch"}).id
    with service.sessions() as session:
        start = repo.embedding_generation(session)
    try:
        with service.sessions.begin() as session:
            repo.save_embeddings(session, "v1", "text", [item], np.ones((1, 3), np.float32))
            raise RuntimeError("killed mid-write")
    except RuntimeError:
        pass
    with service.sessions() as session:
        assert repo.embedding_generation(session) == start
        assert repo.count_embeddings(session, "v1", "text") == 0


def test_migration_0005_on_a_populated_database(settings):
    settings.data_dir.mkdir(parents=True)
    engine = make_engine(settings.resolved_database_url)
    upgrade_to(engine, "0004")
    now = "2026-01-01 00:00:00"
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO merchants (id, name, created_at) VALUES (1, 'shop', :now)"), {"now": now})
        connection.execute(
            text(
                "INSERT INTO items (id, merchant_id, external_id, title, description, brand, category, attributes,"
                " price, currency, created_at, updated_at) VALUES (1, 1, 'x1', 'Old', '', '', '', '{}', NULL, 'USD',"
                " :now, :now)"
            ),
            {"now": now},
        )
        connection.execute(
            text(
                "INSERT INTO item_embeddings (item_id, model_version, route, dim, vector)"
                " VALUES (1, 'v1', 'text', 1, x'0000803f')"
            )
        )
    upgrade_schema(engine)
    with engine.begin() as connection:
        assert connection.execute(text("SELECT generation FROM item_embeddings")).all() == [(None,)]
        assert connection.execute(text("SELECT value FROM embedding_generation")).all() == [(0,)]
        assert len(connection.execute(text("SELECT catalog_id FROM embedding_generation")).scalar_one()) == 32
    engine.dispose()
