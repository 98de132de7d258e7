"""Per-product key case sensitivity; ownership failures counted per order number too.

- `products.keys_case_sensitive`: whether two keys that differ only in case are different keys.
  Products created from now on default to exact (case-sensitive) matching; products that exist
  keep case-insensitive matching, because their stored key fingerprints were made that way.
- `ownership_attempts.throttled`: a proof refused without being checked (the order number was
  being guessed); it counts against the claimant, not as a guess on the order.
  Index on (order_no, at) for the per-order-number limit.

Revision ID: f0003
Revises: f0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "f0003"
down_revision = "f0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.add_column(
            sa.Column(
                "keys_case_sensitive", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    with op.batch_alter_table("ownership_attempts") as batch:
        batch.add_column(
            sa.Column("throttled", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.create_index("ix_ownership_attempts_order_no_at", ["order_no", "at"])


def downgrade() -> None:
    with op.batch_alter_table("ownership_attempts") as batch:
        batch.drop_index("ix_ownership_attempts_order_no_at")
        batch.drop_column("throttled")
    with op.batch_alter_table("products") as batch:
        batch.drop_column("keys_case_sensitive")
