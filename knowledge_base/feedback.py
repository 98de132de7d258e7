"""Service functions over the knowledge-base tables: log questions, store feedback, report.

Each function opens one transaction with the given session factory and commits once.
Customers paste order numbers, card keys and phone numbers into questions; `mask` removes them
before anything is stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, sessionmaker

from knowledge_base.errors import FeedbackError
from knowledge_base.models import Feedback, QueryLog
from knowledge_base.text import clean, mask

MAX_STORED_TEXT = 1000


@dataclass(frozen=True)
class UnansweredQuestion:
    question: str
    language: str
    count: int
    last_asked: datetime


@dataclass(frozen=True)
class ArticleScore:
    article_id: str
    helpful: int
    unhelpful: int
    comments: tuple[str, ...] = ()

    @property
    def unhelpful_rate(self) -> float:
        total = self.helpful + self.unhelpful
        return self.unhelpful / total if total else 0.0


@dataclass(frozen=True)
class Report:
    """What to write next: questions without a confident answer, articles that don't help."""

    since: datetime | None
    questions: int
    answered: int
    unanswered: list[UnansweredQuestion] = field(default_factory=list)
    unhelpful_articles: list[ArticleScore] = field(default_factory=list)

    @property
    def answered_rate(self) -> float:
        return self.answered / self.questions if self.questions else 0.0


def log_question(
    *,
    session_factory: sessionmaker[Session],
    question: str,
    language: str,
    answered: bool,
    top_article_id: str | None,
    confidence: float,
    channel: str | None = None,
) -> int:
    """Record a question and its outcome; returns the log id (for linking feedback)."""
    text = mask(question)[:MAX_STORED_TEXT]
    with session_factory() as session, session.begin():
        row = QueryLog(
            language=language,
            question=text,
            normalized=clean(text)[:500] or "(empty)",
            answered=answered,
            top_article_id=top_article_id,
            confidence=float(confidence),
            channel=_channel(channel),
        )
        session.add(row)
        session.flush()
        return row.id


def record_feedback(
    *,
    session_factory: sessionmaker[Session],
    article_id: str,
    language: str,
    helpful: bool,
    question: str | None = None,
    comment: str | None = None,
    channel: str | None = None,
    query_id: int | None = None,
) -> int:
    """Store one "did this help?" answer; returns its id."""
    if not isinstance(helpful, bool):
        raise FeedbackError("helpful must be true or false")
    if language not in ("zh", "en"):
        raise FeedbackError("language must be zh or en")
    with session_factory() as session, session.begin():
        row = Feedback(
            article_id=article_id,
            language=language,
            helpful=helpful,
            question=mask(question)[:MAX_STORED_TEXT] if question else None,
            comment=mask(comment)[:MAX_STORED_TEXT] if comment else None,
            channel=_channel(channel),
            query_id=query_id,
        )
        session.add(row)
        session.flush()
        return row.id


def build_report(
    *,
    session_factory: sessionmaker[Session],
    since: datetime | None = None,
    limit: int = 20,
    min_votes: int = 3,
    min_unhelpful_rate: float = 0.3,
) -> Report:
    """Unanswered questions (most frequent first) and articles often marked unhelpful."""
    with session_factory() as session:
        log_filter = [QueryLog.created_at >= since] if since else []
        total, answered = session.execute(
            select(
                func.count(QueryLog.id),
                func.coalesce(func.sum(case((QueryLog.answered, 1), else_=0)), 0),
            ).where(*log_filter)
        ).one()
        unanswered = [
            UnansweredQuestion(question, language, count, _aware(last))
            for question, language, count, last in session.execute(
                select(
                    func.min(QueryLog.question),
                    QueryLog.language,
                    func.count(QueryLog.id),
                    func.max(QueryLog.created_at),
                )
                .where(QueryLog.answered.is_(False), *log_filter)
                .group_by(QueryLog.normalized, QueryLog.language)
                .order_by(func.count(QueryLog.id).desc(), func.max(QueryLog.created_at).desc())
                .limit(limit)
            )
        ]
        articles = _unhelpful_articles(session, since, limit, min_votes, min_unhelpful_rate)
    return Report(since, int(total), int(answered), unanswered, articles)


def _unhelpful_articles(
    session: Session, since: datetime | None, limit: int, min_votes: int, min_rate: float
) -> list[ArticleScore]:
    fb_filter = [Feedback.created_at >= since] if since else []
    unhelpful = func.sum(case((Feedback.helpful, 0), else_=1))
    rows = session.execute(
        select(Feedback.article_id, func.sum(case((Feedback.helpful, 1), else_=0)), unhelpful)
        .where(*fb_filter)
        .group_by(Feedback.article_id)
        .having(func.count(Feedback.id) >= min_votes)
    ).all()
    scores = [ArticleScore(a, int(h), int(u)) for a, h, u in rows]
    scores = [s for s in scores if s.unhelpful and s.unhelpful_rate >= min_rate]
    scores.sort(key=lambda s: (-s.unhelpful_rate, -s.unhelpful, s.article_id))
    out = []
    for score in scores[:limit]:
        comments = session.scalars(
            select(Feedback.comment)
            .where(
                Feedback.article_id == score.article_id,
                Feedback.helpful.is_(False),
                Feedback.comment.is_not(None),
                *fb_filter,
            )
            .order_by(Feedback.created_at.desc())
            .limit(3)
        ).all()
        texts = tuple(c for c in comments if c)
        out.append(ArticleScore(score.article_id, score.helpful, score.unhelpful, texts))
    return out


def _channel(channel: str | None) -> str | None:
    return channel.strip()[:32] or None if channel else None


def _aware(value: datetime) -> datetime:
    # SQLite hands timezone-aware columns back naive; they were written in UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)
