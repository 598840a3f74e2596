"""The first schema: a table recording which mixdown version created the database."""

import sqlalchemy as sa
from alembic import op

revision = "base_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mixdown_meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(256), nullable=False),
    )
    op.bulk_insert(sa.table("mixdown_meta", sa.column("key"), sa.column("value")),
                   [{"key": "created_by", "value": "mixdown"}])


def downgrade() -> None:
    op.drop_table("mixdown_meta")
