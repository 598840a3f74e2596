"""Review studio, first schema: songs, versions, status history, comments, references,
share links (every table prefixed ``review_``)."""

import sqlalchemy as sa
from alembic import op

revision = "review_0001"
down_revision = "base_0001"
branch_labels = ("review",)
depends_on = None

TZ = sa.DateTime(timezone=True)


def _song_fk() -> sa.Column:
    return sa.Column("song_id", sa.Integer,
                     sa.ForeignKey("review_songs.id", ondelete="CASCADE"), nullable=False)


def _version_fk() -> sa.Column:
    return sa.Column("version_id", sa.Integer,
                     sa.ForeignKey("review_versions.id", ondelete="CASCADE"), nullable=False)


def _loudness() -> list[sa.Column]:
    return [sa.Column("sample_rate", sa.Integer, nullable=False),
            sa.Column("channels", sa.Integer, nullable=False),
            sa.Column("frames", sa.Integer, nullable=False),
            sa.Column("integrated_lufs", sa.Float, nullable=True),
            sa.Column("true_peak_dbtp", sa.Float, nullable=True),
            sa.Column("loudness_range_lu", sa.Float, nullable=True)]


def upgrade() -> None:
    op.create_table(
        "review_songs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.UniqueConstraint("name", name="uq_review_songs_name"),
    )
    op.create_table(
        "review_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        _song_fk(),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("folder", sa.String(512), nullable=False),
        sa.Column("audio_file", sa.String(64), nullable=False),
        sa.Column("audio_format", sa.String(16), nullable=False),
        *_loudness(),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("tempo", sa.Float, nullable=False),
        sa.Column("song_toml", sa.Text, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("status_by", sa.String(128), nullable=True),
        sa.Column("status_at", TZ, nullable=True),
        sa.UniqueConstraint("song_id", "number", name="uq_review_versions_number"),
    )
    op.create_index("ix_review_versions_song_id", "review_versions", ["song_id"])
    op.create_table(
        "review_status_changes",
        sa.Column("id", sa.Integer, primary_key=True),
        _version_fk(),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("by", sa.String(128), nullable=False),
        sa.Column("at", TZ, nullable=False),
    )
    op.create_index("ix_review_status_changes_version_id", "review_status_changes",
                    ["version_id"])
    op.create_table(
        "review_comments",
        sa.Column("id", sa.Integer, primary_key=True),
        _song_fk(),
        _version_fk(),
        sa.Column("parent_id", sa.Integer,
                  sa.ForeignKey("review_comments.id", ondelete="CASCADE"), nullable=True),
        sa.Column("bar", sa.Integer, nullable=False),
        sa.Column("beat", sa.Float, nullable=False),
        sa.Column("end_bar", sa.Integer, nullable=True),
        sa.Column("end_beat", sa.Float, nullable=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("author", sa.String(128), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("resolved_at", TZ, nullable=True),
        sa.Column("resolved_by", sa.String(128), nullable=True),
    )
    op.create_index("ix_review_comments_song_id", "review_comments", ["song_id"])
    op.create_index("ix_review_comments_version_id", "review_comments", ["version_id"])
    op.create_table(
        "review_references",
        sa.Column("id", sa.Integer, primary_key=True),
        _song_fk(),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("folder", sa.String(512), nullable=False),
        sa.Column("audio_file", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        *_loudness(),
    )
    op.create_index("ix_review_references_song_id", "review_references", ["song_id"])
    op.create_table(
        "review_share_links",
        sa.Column("id", sa.Integer, primary_key=True),
        _song_fk(),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("label", sa.String(255), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("revoked_at", TZ, nullable=True),
        sa.UniqueConstraint("token_hash", name="uq_review_share_links_token_hash"),
    )
    op.create_index("ix_review_share_links_song_id", "review_share_links", ["song_id"])


def downgrade() -> None:
    for table in ("review_share_links", "review_references", "review_comments",
                  "review_status_changes", "review_versions", "review_songs"):
        op.drop_table(table)
