"""Tables of the chatbot: conversations, their transcript, and which orders a conversation may
hear about.

- `bot_conversations`: one per customer chat (a web-chat session, a Telegram private chat, a
  terminal session). The web chat's id is the unguessable conversation id itself.
- `bot_messages`: every message in and out, in order (the id is the cursor). Text is stored
  with card keys masked; what a customer was shown in plain text lives only in the reply that
  was sent. Messages for a channel that must be pushed (Telegram) carry a delivery status, so a
  proactive notice or an agent's reply is sent once, in order, and survives a restart.
- `bot_order_links`: a conversation proved it owns an order (or the order names its Telegram
  identity): only such conversations get proactive notices about the order.
- `bot_notices`: notices already queued, by a stable key, so an event handled twice notifies once.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fulfilment.models import UtcDateTime, utcnow


class Base(DeclarativeBase):
    """Metadata of the chatbot's tables (its own Alembic branch, `bot`)."""


class Channel(StrEnum):
    WEB = "web"
    TELEGRAM = "telegram"
    TERMINAL = "terminal"


class Sender(StrEnum):
    CUSTOMER = "customer"
    BOT = "bot"
    AGENT = "agent"


class Delivery(StrEnum):
    """Whether a stored message still has to be pushed to the customer's channel."""

    NONE = "none"  # inbound, or shown in the synchronous reply, or read by polling (web)
    PENDING = "pending"  # to be pushed (Telegram) by the sender job
    SENT = "sent"
    FAILED = "failed"  # gave up (e.g. the customer blocked the bot)


class Conversation(Base):
    __tablename__ = "bot_conversations"
    __table_args__ = (
        UniqueConstraint("channel", "channel_chat_id", name="uq_bot_conversations_chat"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    channel: Mapped[str] = mapped_column(String(12))
    # Telegram: the private chat id (messages go there); web/terminal: NULL.
    channel_chat_id: Mapped[str | None] = mapped_column(String(40))
    # Telegram: the user id (an order's buyer_telegram_id); web: NULL.
    channel_user_id: Mapped[str | None] = mapped_column(String(40), index=True)
    customer_name: Mapped[str | None] = mapped_column(String(120))
    language: Mapped[str] = mapped_column(String(8), default="en")
    client_ip: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_message_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Message(Base):
    __tablename__ = "bot_messages"
    __table_args__ = (
        Index("ix_bot_messages_conversation", "conversation_id", "id"),
        Index("ix_bot_messages_delivery", "delivery", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("bot_conversations.id"))
    sender: Mapped[str] = mapped_column(String(10))
    sender_name: Mapped[str | None] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    intent: Mapped[str | None] = mapped_column(String(40))
    delivery: Mapped[str] = mapped_column(String(8), default=Delivery.NONE)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class OrderLink(Base):
    __tablename__ = "bot_order_links"
    __table_args__ = (UniqueConstraint("order_no", "conversation_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_no: Mapped[str] = mapped_column(String(64), index=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("bot_conversations.id"))
    proof: Mapped[str] = mapped_column(String(12))  # telegram | email | phone
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Notice(Base):
    __tablename__ = "bot_notices"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
