"""Alembic environment: runs on the connection handed in by recsys.catalog.db.upgrade_schema,
or on RECSYS_DATABASE_URL when called from the ``alembic`` command line."""

from alembic import context
from sqlalchemy import engine_from_config, pool

import recsys.accounts.models  # noqa: F401  (the users table joins the same metadata, for --autogenerate)
from recsys.catalog.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    from recsys.config import get_settings

    section = {"sqlalchemy.url": get_settings().resolved_database_url}
    connectable = engine_from_config(section, prefix="sqlalchemy.", poolclass=pool.NullPool)
    with connectable.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
