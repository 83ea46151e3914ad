"""The events schema (migration 0004): purchases carry their order id, a shopper's history and the baskets read
back through ``reads``; an 0003 database keeps its interactions through the upgrade."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from recsys.accounts.principal import SYSTEM
from recsys.catalog import reads
from recsys.catalog import repository as repo
from recsys.catalog.db import make_engine, upgrade_schema
from recsys.catalog.models import INTEREST_EVENTS, Base
from tests.catalog.schema_steps import upgrade_to

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _event(item_id: int, event: str, minutes: int, *, user: str = "", session: str = "s", order: str | None = None):
    return {
        "user_id": user,
        "session_id": session,
        "item_id": item_id,
        "event": event,
        "created_at": T0 + timedelta(minutes=minutes),
        "order_id": order,
    }


def test_models_match_the_migrations(settings):
    settings.data_dir.mkdir(parents=True)
    engine = make_engine(settings.resolved_database_url)
    upgrade_schema(engine)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == []


def test_upgrade_from_0003_keeps_interactions_and_adds_order_ids(settings):
    settings.data_dir.mkdir(parents=True)
    engine = make_engine(settings.resolved_database_url)
    upgrade_to(engine, "0003")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO merchants (id, name, created_at) VALUES (1, 'shop', '2026-01-01')"))
        connection.execute(
            text(
                "INSERT INTO items (id, merchant_id, external_id, title, description, brand, category, attributes,"
                " currency, created_at, updated_at) VALUES (1, 1, 'x1', 'Item', '', '', '', '{}', 'USD',"
                " '2026-01-01', '2026-01-01')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO interactions (user_id, session_id, item_id, event, query, created_at)"
                " VALUES ('', 's', 1, 'click', 'bag', '2026-01-01')"
            )
        )
    upgrade_schema(engine)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT event, order_id FROM interactions")).all()
        indexes = {r[1] for r in connection.execute(text("PRAGMA index_list(interactions)"))}
    engine.dispose()
    assert rows == [("click", None)]
    assert {"ix_interactions_order", "ix_interactions_user_time"} <= indexes


def test_user_events_and_baskets_read_back(service):
    a, b, c = (service.add_item(SYSTEM, {"title": t}).id for t in ("Apple", "Bread", "Cheese"))
    with service.sessions.begin() as session:
        repo.log_events(
            session,
            [
                _event(a, "view", 1, session="browser-1"),
                _event(b, "impression", 2, session="browser-1"),
                _event(a, "purchase", 3, user="ann", session="browser-1", order="o1"),
                _event(b, "purchase", 3, user="ann", session="browser-1", order="o1"),
                _event(c, "purchase", 10, user="bob", session="browser-2", order="o2"),
                _event(c, "cart", 11, user="bob", session="browser-2"),
            ],
        )
    with service.sessions() as session:
        anonymous = reads.user_events(session, "browser-1", limit=10)
        ann = reads.user_events(session, "ann", limit=10)
        newest_interest = reads.user_events(session, "browser-1", limit=2, events=INTEREST_EVENTS)
        everything = reads.baskets(session)
        recent = reads.baskets(session, since=T0 + timedelta(minutes=5))
        owners = reads.basket_owners(session)
        nobody = reads.user_events(session, "", limit=10)

    assert [(e.item_id, e.event) for e in anonymous] == [
        (b, "purchase"),
        (a, "purchase"),
        (b, "impression"),
        (a, "view"),
    ]
    assert [e.order_id for e in ann] == ["o1", "o1"]
    assert [(e.item_id, e.event) for e in newest_interest] == [(b, "purchase"), (a, "purchase")]
    assert everything == {"o1": [a, b], "o2": [c]}
    assert recent == {"o2": [c]}
    assert owners == {"o1": ("ann", owners["o1"][1]), "o2": ("bob", owners["o2"][1])}
    assert owners["o1"][1].replace(tzinfo=UTC) == T0 + timedelta(minutes=3)
    assert nobody == []
