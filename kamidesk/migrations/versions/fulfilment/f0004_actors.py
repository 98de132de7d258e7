"""Actors: the audit log records who acted (kind and display name), and actor labels get room.

`audit_log.actor_kind` and `audit_log.actor_name` are NULL on entries written before. The
columns that hold an `Actor.label` (`kind:id`, up to 109 characters) grow from 80 to 120; SQLite
does not enforce VARCHAR lengths, so only PostgreSQL is altered (a rebuilt SQLite table would
lose the audit log's append-only triggers).

Revision ID: f0004
Revises: f0003
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "f0004"
down_revision = "f0003"
branch_labels = None
depends_on = None

LABEL_COLUMNS = (
    ("audit_log", "actor", False),
    ("refunds", "requested_by", False),
    ("refunds", "decided_by", True),
    ("reissue_requests", "requested_by", False),
)


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("actor_kind", sa.String(length=10), nullable=True))
    op.add_column("audit_log", sa.Column("actor_name", sa.String(length=200), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        for table, column, nullable in LABEL_COLUMNS:
            op.alter_column(
                table,
                column,
                type_=sa.String(length=120),
                existing_type=sa.String(length=80),
                existing_nullable=nullable,
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, column, nullable in LABEL_COLUMNS:
            op.alter_column(
                table,
                column,
                type_=sa.String(length=80),
                existing_type=sa.String(length=120),
                existing_nullable=nullable,
            )
    op.drop_column("audit_log", "actor_name")  # SQLite >= 3.35 drops columns in place
    op.drop_column("audit_log", "actor_kind")
