"""interactions: the order (basket) id of a purchase; indexes for a shopper's history and for baskets

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("interactions") as batch_op:
        batch_op.add_column(sa.Column("order_id", sa.String(length=100), nullable=True))
    op.create_index("ix_interactions_user_time", "interactions", ["user_id", "created_at"])
    op.create_index("ix_interactions_order", "interactions", ["order_id"])


def downgrade() -> None:
    op.drop_index("ix_interactions_order", table_name="interactions")
    op.drop_index("ix_interactions_user_time", table_name="interactions")
    with op.batch_alter_table("interactions") as batch_op:
        batch_op.drop_column("order_id")
