"""Bring a test database to one Alembic revision (the migration tests start from an older schema)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from recsys.catalog.db import MIGRATIONS_DIR


def upgrade_to(engine, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
