"""items: ids are never reused (SQLite AUTOINCREMENT)

Without AUTOINCREMENT SQLite hands out max(rowid) + 1, so deleting the newest item gives its id to the next new
item, and old clicks, logs and index entries then point at a different product. PostgreSQL's serial sequence
never hands an id out twice, so there this migration does nothing.

SQLite cannot add AUTOINCREMENT in place: the table is rebuilt (copied into a new one, the old one dropped). With
foreign keys on, dropping ``items`` deletes every image, review, embedding and interaction row through ON DELETE
CASCADE, so the copy runs with foreign keys off. That pragma is ignored inside a transaction, so the rebuild ends
the transaction Alembic has open (its earlier steps are complete), runs in a transaction of its own, checks the
foreign keys and restores the pragma. It is idempotent: a rebuild committed before its version row is simply
skipped on the next start.

Revision ID: 0003
Revises: 0002
"""

from typing import Any

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _rebuild_items_sqlite(autoincrement=True)


def downgrade() -> None:
    _rebuild_items_sqlite(autoincrement=False)


def _has_autoincrement(raw: Any) -> bool:
    row = raw.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'items'").fetchone()
    return row is not None and "AUTOINCREMENT" in row[0].upper()


def _rebuild_items_sqlite(*, autoincrement: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return  # PostgreSQL (and other servers): sequences already never reuse an id
    # The sqlite3 connection itself: its transactions and pragmas as SQLite sees them.
    raw: Any = bind.connection.dbapi_connection
    if _has_autoincrement(raw) == autoincrement:
        return
    raw.commit()  # PRAGMA foreign_keys is a no-op inside a transaction
    foreign_keys_were_on = bool(raw.execute("PRAGMA foreign_keys").fetchone()[0])
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        if raw.execute("PRAGMA foreign_keys").fetchone()[0]:
            raise RuntimeError("foreign keys could not be turned off; the items table was not rebuilt")
        raw.execute("BEGIN")  # the whole rebuild, DDL included, commits or rolls back as one
        try:
            with op.batch_alter_table(
                "items", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
            ) as batch_op:
                del batch_op  # nothing changes but the table option: recreate copies every row, index and key
            broken = raw.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"the rebuilt items table breaks {len(broken)} foreign key(s): {broken[:5]}")
            raw.commit()
        except BaseException:
            raw.rollback()
            raise
    finally:
        raw.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys_were_on else 'OFF'}")
