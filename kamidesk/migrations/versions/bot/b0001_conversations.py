"""Chatbot: conversations, transcript, order links, notices.

Revision ID: b0001
Revises:
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "b0001"
down_revision = None
branch_labels = ("bot",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bot_conversations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("channel_chat_id", sa.String(length=40), nullable=True),
        sa.Column("channel_user_id", sa.String(length=40), nullable=True),
        sa.Column("customer_name", sa.String(length=120), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("client_ip", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "channel_chat_id", name="uq_bot_conversations_chat"),
    )
    op.create_index(
        "ix_bot_conversations_channel_user_id", "bot_conversations", ["channel_user_id"]
    )
    op.create_table(
        "bot_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=40), nullable=False),
        sa.Column("sender", sa.String(length=10), nullable=False),
        sa.Column("sender_name", sa.String(length=120), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("buttons", sa.JSON(), nullable=True),
        sa.Column("intent", sa.String(length=40), nullable=True),
        sa.Column("delivery", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["bot_conversations.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_bot_messages_conversation", "bot_messages", ["conversation_id", "id"])
    op.create_index("ix_bot_messages_delivery", "bot_messages", ["delivery", "id"])
    op.create_table(
        "bot_order_links",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_no", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=40), nullable=False),
        sa.Column("proof", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["bot_conversations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("order_no", "conversation_id"),
    )
    op.create_index("ix_bot_order_links_order_no", "bot_order_links", ["order_no"])
    op.create_table(
        "bot_notices",
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("bot_notices")
    op.drop_table("bot_order_links")
    op.drop_table("bot_messages")
    op.drop_table("bot_conversations")
