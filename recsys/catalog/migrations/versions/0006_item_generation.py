"""items: the generation that last wrote each row (the same counter as the vectors')

A restart can then load the item table and BM25 index it saved and re-read only the items written since
(``recsys/search/table_snapshot.py``) instead of every item row and every text. Existing rows stay NULL: they
were written before any such copy was saved, so no copy misses them.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE, not a batch (a batch rebuilds the table on SQLite, and its children would go by cascade).
    op.add_column("items", sa.Column("generation", sa.BigInteger(), nullable=True))
    op.create_index("ix_items_generation", "items", ["generation"])


def downgrade() -> None:
    op.drop_index("ix_items_generation", table_name="items")
    op.drop_column("items", "generation")  # SQLite >= 3.35 drops an unindexed column in place
