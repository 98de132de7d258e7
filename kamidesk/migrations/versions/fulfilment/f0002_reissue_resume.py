"""Reissue requests left CHECKING can be resumed by the sweeper.

Revision ID: f0002
Revises: f0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "f0002"
down_revision = "f0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reissue_requests") as batch:
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_reissue_requests_next_attempt_at", ["next_attempt_at"])


def downgrade() -> None:
    with op.batch_alter_table("reissue_requests") as batch:
        batch.drop_index("ix_reissue_requests_next_attempt_at")
        batch.drop_column("next_attempt_at")
