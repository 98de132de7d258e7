"""Tables of the knowledge base: customer feedback on articles and the questions asked.

Articles themselves live in Markdown files (see `knowledge_base.articles`); the database only
holds what customers tell us, so a report can say what to write next. Question text is stored
with long digit and key-like sequences masked (order numbers, card keys, phone numbers).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Boolean, DateTime, Float, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    """Timezone-aware now (UTC)."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Metadata of the knowledge-base tables (its own Alembic branch)."""


class Feedback(Base):
    """One "did this help?" answer from a customer (or an agent) about one article."""

    __tablename__ = "kb_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    article_id: Mapped[str] = mapped_column(String(80))
    language: Mapped[str] = mapped_column(String(8))
    helpful: Mapped[bool] = mapped_column(Boolean)
    question: Mapped[str | None] = mapped_column(Text, nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    channel: Mapped[str | None] = mapped_column(String(32), nullable=True)
    query_id: Mapped[int | None] = mapped_column(Integer, nullable=True)

    __table_args__ = (Index("ix_kb_feedback_article_created", "article_id", "created_at"),)


class QueryLog(Base):
    """A question put to the knowledge base and whether it got a confident answer."""

    __tablename__ = "kb_query_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    language: Mapped[str] = mapped_column(String(8))
    question: Mapped[str] = mapped_column(Text)
    normalized: Mapped[str] = mapped_column(String(500))
    answered: Mapped[bool] = mapped_column(Boolean)
    top_article_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    channel: Mapped[str | None] = mapped_column(String(32), nullable=True)

    __table_args__ = (Index("ix_kb_query_log_answered_created", "answered", "created_at"),)
