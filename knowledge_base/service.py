"""One object for the edges (chatbot, admin API, CLI): ask, give feedback, report, edit.

`KnowledgeBaseService` wires the retrieval engine to the feedback tables. Without a session
factory it still answers questions (nothing is logged), which is what the evaluation and the
unit tests use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from knowledge_base import feedback
from knowledge_base.articles import Article, make_article
from knowledge_base.engine import KnowledgeBase, SearchResult
from knowledge_base.errors import ArticleFormatError, ArticleNotFound, FeedbackError
from knowledge_base.feedback import Report


@dataclass(frozen=True)
class Asked:
    """A search result plus the id under which the question was logged (for feedback)."""

    result: SearchResult
    query_id: int | None


class KnowledgeBaseService:
    """Retrieval plus feedback storage plus article editing."""

    def __init__(
        self, kb: KnowledgeBase, session_factory: sessionmaker[Session] | None = None
    ) -> None:
        self.kb = kb
        self.session_factory = session_factory

    def ask(
        self, question: object, language: str | None = None, k: int = 3, channel: str | None = None
    ) -> Asked:
        """Answer a customer question and log it (never raises for bad input)."""
        result = self.kb.search(question, language, k)
        query_id = None
        if self.session_factory is not None and result.question:
            top = result.answers[0] if result.answers else None
            query_id = feedback.log_question(
                session_factory=self.session_factory,
                question=question if isinstance(question, str) else result.question,
                language=result.language,
                answered=result.confident,
                top_article_id=top.article.id if top else None,
                confidence=top.score if top else 0.0,
                channel=channel,
            )
        return Asked(result, query_id)

    def give_feedback(
        self,
        *,
        article_id: str,
        helpful: bool,
        question: str | None = None,
        comment: str | None = None,
        channel: str | None = None,
        query_id: int | None = None,
    ) -> int:
        """Store "did this help?" for an existing article."""
        try:
            article = self.kb.store.get(article_id)
        except ArticleNotFound:
            raise FeedbackError(f"unknown article {article_id!r}") from None
        return feedback.record_feedback(
            session_factory=self._sessions(),
            article_id=article.id,
            language=article.language,
            helpful=helpful,
            question=question,
            comment=comment,
            channel=channel,
            query_id=query_id,
        )

    def report(
        self, *, since: datetime | None = None, limit: int = 20, min_votes: int = 3
    ) -> Report:
        """Questions with no confident answer and articles often marked unhelpful."""
        return feedback.build_report(
            session_factory=self._sessions(), since=since, limit=limit, min_votes=min_votes
        )

    def titles(self) -> dict[str, str]:
        return {a.id: a.title for a in self.kb.store.all()}

    def list_articles(self, language: str | None = None) -> list[Article]:
        self.kb.store.refresh()
        return self.kb.store.all(language)

    def get_article(self, article_id: str) -> Article:
        self.kb.store.refresh()
        return self.kb.store.get(article_id)

    def save_article(self, fields: dict, body: str, *, article_id: str | None = None) -> Article:
        """Create or replace an article from API fields; the index follows at once."""
        if article_id is not None and fields.get("id", article_id) != article_id:
            raise ArticleFormatError("the id in the body differs from the id in the path")
        meta = dict(fields, id=article_id or fields.get("id"))
        article = make_article(meta, body, where="article")
        current = self.kb.store.all()
        if any(a.id == article.id and a.language != article.language for a in current):
            raise ArticleFormatError("an article cannot change language; create a new one")
        saved = self.kb.store.save(article)
        self.kb.reload()
        return saved

    def delete_article(self, article_id: str) -> None:
        self.kb.store.delete(article_id)
        self.kb.reload()

    def _sessions(self) -> sessionmaker[Session]:
        if self.session_factory is None:
            raise FeedbackError("no database configured for feedback")
        return self.session_factory
