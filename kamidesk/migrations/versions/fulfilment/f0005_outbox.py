"""Domain events: the outbox table, and alerts deduplicated by a structured key.

Revision ID: f0005
Revises: f0004
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "f0005"
down_revision = "f0004"
branch_labels = None
depends_on = None

PENDING = sa.text("dispatched_at IS NULL")
OPEN = sa.text("resolved_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("actor_kind", sa.String(length=10), nullable=False),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handled", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index("ix_outbox_name", "outbox", ["name"])
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["next_attempt_at", "created_at"],
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )
    op.add_column("alerts", sa.Column("dedupe_key", sa.String(length=200), nullable=True))
    op.create_index(
        "uq_alerts_open_dedupe_key",
        "alerts",
        ["dedupe_key"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )


def downgrade() -> None:
    op.drop_index("uq_alerts_open_dedupe_key", table_name="alerts")
    op.drop_column("alerts", "dedupe_key")
    op.drop_index("ix_outbox_pending", table_name="outbox")
    op.drop_index("ix_outbox_name", table_name="outbox")
    op.drop_table("outbox")
