"""Ledger, first schema: people, studios and rooms, budgets, songs, sessions, expenses."""

import sqlalchemy as sa
from alembic import op

revision = "ledger_0001"
down_revision = "base_0001"
branch_labels = ("ledger",)
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
        "ledger_locks",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("counter", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_ledger_locks"),
    )
    op.bulk_insert(sa.table("ledger_locks", sa.column("name"), sa.column("counter")),
                   [{"name": "booking", "counter": 0}])
    op.create_table(
        "ledger_people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(NAME), nullable=False),
        sa.Column("roles", sa.String(500), nullable=False),
        sa.Column("email", sa.String(NAME), nullable=True),
        sa.Column("phone", sa.String(64), nullable=True),
        sa.Column("pro", sa.String(64), nullable=True),
        sa.Column("ipi", sa.String(11), nullable=True),
        _pk("ledger_people"),
        sa.UniqueConstraint("name", name="uq_ledger_people_name"),
    )
    op.create_table(
        "ledger_studios",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(NAME), nullable=False),
        sa.Column("address", sa.String(500), nullable=True),
        _pk("ledger_studios"),
        sa.UniqueConstraint("name", name="uq_ledger_studios_name"),
    )
    op.create_table(
        "ledger_rooms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(NAME), nullable=False),
        sa.Column("studio_id", sa.Integer(), nullable=True),
        sa.Column("rate_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        _pk("ledger_rooms"),
        sa.UniqueConstraint("name", name="uq_ledger_rooms_name"),
        _fk("ledger_rooms", "studio_id", "ledger_studios"),
        sa.CheckConstraint("rate_minor >= 0", name="ck_ledger_rooms_rate_nonneg"),
    )
    op.create_table(
        "ledger_budgets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(NAME), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        _pk("ledger_budgets"),
        sa.UniqueConstraint("name", name="uq_ledger_budgets_name"),
    )
    op.create_table(
        "ledger_songs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(NAME), nullable=False),
        sa.Column("project_path", sa.String(1000), nullable=True),
        sa.Column("project_version", sa.String(NAME), nullable=True),
        sa.Column("budget_id", sa.Integer(), nullable=True),
        _pk("ledger_songs"),
        sa.UniqueConstraint("name", name="uq_ledger_songs_name"),
        _fk("ledger_songs", "budget_id", "ledger_budgets"),
    )
    op.create_index("ix_ledger_songs_budget_id", "ledger_songs", ["budget_id"])
    op.create_table(
        "ledger_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("start_utc", sa.DateTime(), nullable=False),
        sa.Column("end_utc", sa.DateTime(), nullable=False),
        sa.Column("budget_id", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        _pk("ledger_sessions"),
        _fk("ledger_sessions", "room_id", "ledger_rooms"),
        _fk("ledger_sessions", "budget_id", "ledger_budgets"),
        sa.CheckConstraint("end_utc > start_utc", name="ck_ledger_sessions_end_after_start"),
    )
    op.create_index("ix_ledger_sessions_start_utc", "ledger_sessions", ["start_utc"])
    op.create_index("ix_ledger_sessions_budget_id", "ledger_sessions", ["budget_id"])
    op.create_index("ix_ledger_sessions_room_start", "ledger_sessions", ["room_id", "start_utc"])
    op.create_table(
        "ledger_session_people",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("session_id", "person_id", name="pk_ledger_session_people"),
        _fk("ledger_session_people", "session_id", "ledger_sessions", "CASCADE"),
        _fk("ledger_session_people", "person_id", "ledger_people"),
    )
    op.create_index("ix_ledger_session_people_person_id", "ledger_session_people", ["person_id"])
    op.create_table(
        "ledger_session_songs",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("song_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("session_id", "song_id", name="pk_ledger_session_songs"),
        _fk("ledger_session_songs", "session_id", "ledger_sessions", "CASCADE"),
        _fk("ledger_session_songs", "song_id", "ledger_songs"),
    )
    op.create_index("ix_ledger_session_songs_song_id", "ledger_session_songs", ["song_id"])
    for table in ("ledger_budget_lines", "ledger_expenses"):
        extra = [sa.Column("currency", sa.String(3), nullable=False),
                 sa.Column("spent_on", sa.Date(), nullable=False),
                 sa.Column("description", sa.String(500), nullable=False)] \
            if table == "ledger_expenses" else []
        op.create_table(
            table,
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("budget_id", sa.Integer(), nullable=False),
            sa.Column("category", sa.String(NAME), nullable=False),
            sa.Column("song_id", sa.Integer(), nullable=True),
            sa.Column("amount_minor", sa.BigInteger(), nullable=False),
            *extra,
            _pk(table),
            _fk(table, "budget_id", "ledger_budgets"),
            _fk(table, "song_id", "ledger_songs"),
            sa.CheckConstraint("amount_minor >= 0", name=f"ck_{table}_amount_nonneg"),
        )
        op.create_index(f"ix_{table}_budget_id", table, ["budget_id"])


def downgrade() -> None:
    for table in ("ledger_expenses", "ledger_budget_lines", "ledger_session_songs",
                  "ledger_session_people", "ledger_sessions", "ledger_songs", "ledger_budgets",
                  "ledger_rooms", "ledger_studios", "ledger_people", "ledger_locks"):
        op.drop_table(table)
