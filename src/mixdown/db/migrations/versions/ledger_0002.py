"""Ledger, second schema: invoices, credits, split sheets, contracts, releases."""

import sqlalchemy as sa
from alembic import op

revision = "ledger_0002"
down_revision = "ledger_0001"
branch_labels = None
depends_on = None

NAME = 200


def _pk(table: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint("id", name=f"pk_{table}")


def _fk(table: str, column: str, target: str,
        ondelete: str | None = None) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"],
                                   name=f"fk_{table}_{column}_{target}", ondelete=ondelete)


def upgrade() -> None:
    op.create_table(
        "ledger_invoices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(64), nullable=False),
        sa.Column("party", sa.String(NAME), nullable=False),
        sa.Column("issued", sa.Date(), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _pk("ledger_invoices"),
        sa.UniqueConstraint("number", name="uq_ledger_invoices_number"),
    )
    op.create_table(
        "ledger_invoice_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        _pk("ledger_invoice_lines"),
        _fk("ledger_invoice_lines", "invoice_id", "ledger_invoices", "CASCADE"),
        _fk("ledger_invoice_lines", "session_id", "ledger_sessions"),
        sa.CheckConstraint("amount_minor >= 0", name="ck_ledger_invoice_lines_amount_nonneg"),
    )
    op.create_index("ix_ledger_invoice_lines_invoice_id", "ledger_invoice_lines", ["invoice_id"])
    op.create_table(
        "ledger_credits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("song_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(64), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        _pk("ledger_credits"),
        _fk("ledger_credits", "song_id", "ledger_songs"),
        _fk("ledger_credits", "person_id", "ledger_people"),
        sa.UniqueConstraint("song_id", "person_id", "role",
                            name="uq_ledger_credits_song_person_role"),
    )
    op.create_index("ix_ledger_credits_song_id", "ledger_credits", ["song_id"])
    op.create_table(
        "ledger_splits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("song_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("party", sa.String(NAME), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("share_bp", sa.Integer(), nullable=False),
        _pk("ledger_splits"),
        _fk("ledger_splits", "song_id", "ledger_songs"),
        _fk("ledger_splits", "person_id", "ledger_people"),
        sa.UniqueConstraint("song_id", "kind", "party", name="uq_ledger_splits_song_kind_party"),
        sa.CheckConstraint("share_bp > 0 AND share_bp <= 10000",
                           name="ck_ledger_splits_share_range"),
    )
    op.create_index("ix_ledger_splits_song_id", "ledger_splits", ["song_id"])
    op.create_table(
        "ledger_contracts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(NAME), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("party", sa.String(NAME), nullable=False),
        sa.Column("territory", sa.String(NAME), nullable=False),
        sa.Column("starts", sa.Date(), nullable=False),
        sa.Column("expires", sa.Date(), nullable=True),
        sa.Column("fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("song_id", sa.Integer(), nullable=True),
        _pk("ledger_contracts"),
        sa.UniqueConstraint("title", name="uq_ledger_contracts_title"),
        _fk("ledger_contracts", "song_id", "ledger_songs"),
        sa.CheckConstraint("fee_minor >= 0", name="ck_ledger_contracts_fee_nonneg"),
    )
    op.create_index("ix_ledger_contracts_expires", "ledger_contracts", ["expires"])
    op.create_table(
        "ledger_releases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(NAME), nullable=False),
        sa.Column("artist", sa.String(NAME), nullable=False),
        sa.Column("upc", sa.String(13), nullable=True),
        sa.Column("release_date", sa.Date(), nullable=True),
        sa.Column("distributor", sa.String(NAME), nullable=True),
        sa.Column("platform", sa.String(64), nullable=True),
        sa.Column("artwork", sa.String(1000), nullable=True),
        sa.Column("artwork_min_px", sa.Integer(), nullable=False),
        _pk("ledger_releases"),
        sa.UniqueConstraint("title", name="uq_ledger_releases_title"),
    )
    op.create_table(
        "ledger_release_tracks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("song_id", sa.Integer(), nullable=False),
        sa.Column("isrc", sa.String(12), nullable=False),
        sa.Column("delivery", sa.String(1000), nullable=True),
        _pk("ledger_release_tracks"),
        _fk("ledger_release_tracks", "release_id", "ledger_releases", "CASCADE"),
        _fk("ledger_release_tracks", "song_id", "ledger_songs"),
        sa.UniqueConstraint("release_id", "position",
                            name="uq_ledger_release_tracks_release_position"),
    )
    op.create_index("ix_ledger_release_tracks_release_id", "ledger_release_tracks",
                    ["release_id"])


def downgrade() -> None:
    for table in ("ledger_release_tracks", "ledger_releases", "ledger_contracts",
                  "ledger_splits", "ledger_credits", "ledger_invoice_lines", "ledger_invoices"):
        op.drop_table(table)
