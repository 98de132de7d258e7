"""Tables of the desk (its own Alembic branch, `desk`)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fulfilment.models import UtcDateTime, utcnow


class Base(DeclarativeBase):
    """Metadata of the desk's tables."""


class TicketStatus(StrEnum):
    OPEN = "open"
    PENDING_CUSTOMER = "pending_customer"
    PENDING_SUPPLIER = "pending_supplier"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Tier(StrEnum):
    L1 = "L1"  # the bot and automation
    L2 = "L2"  # agents
    L3 = "L3"  # experts, supplier disputes, large refunds


class Priority(StrEnum):
    NORMAL = "normal"
    HIGH = "high"


class Ticket(Base):
    __tablename__ = "desk_tickets"
    __table_args__ = (
        Index("ix_desk_tickets_status", "status", "id"),
        Index("ix_desk_tickets_conversation", "conversation_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(12))
    order_no: Mapped[str | None] = mapped_column(String(64), index=True)
    category: Mapped[str] = mapped_column(String(40))
    tier: Mapped[str] = mapped_column(String(4), default=Tier.L2)
    priority: Mapped[str] = mapped_column(String(8), default=Priority.NORMAL)
    status: Mapped[str] = mapped_column(String(20), default=TicketStatus.OPEN)
    reason: Mapped[str] = mapped_column(String(200))
    customer_name: Mapped[str | None] = mapped_column(String(120))
    language: Mapped[str] = mapped_column(String(8), default="en")
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
