"""item_embeddings: the generation that wrote each row, and the counter it comes from

A restart can then load the route matrices it saved beside the vector index and re-read only the rows written
since (``recsys/search/route_snapshot.py``) instead of a million rows per route.

Revision ID: 0005
Revises: 0004
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "embedding_generation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("catalog_id", sa.String(length=32), nullable=False),
    )
    op.bulk_insert(table, [{"id": 1, "value": 0, "catalog_id": uuid.uuid4().hex}])
    with op.batch_alter_table("item_embeddings") as batch_op:
        batch_op.add_column(sa.Column("generation", sa.BigInteger(), nullable=True))
    op.create_index("ix_item_embeddings_generation", "item_embeddings", ["model_version", "route", "generation"])


def downgrade() -> None:
    op.drop_index("ix_item_embeddings_generation", table_name="item_embeddings")
    with op.batch_alter_table("item_embeddings") as batch_op:
        batch_op.drop_column("generation")
    op.drop_table("embedding_generation")
