"""Knowledge-base admin API: articles, search, feedback, report (mounted at /api/v1/kb).

Routes only parse input, call `KnowledgeBaseService` and shape the output. The service comes
from `app.state.kb`, which the app sets at start-up from its container; a bare app that mounts
only this router (tests, tools) gets one built on first use, with the packaged articles.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from knowledge_base import (
    Article,
    ArticleFormatError,
    ArticleNotFound,
    FeedbackError,
    KnowledgeBase,
    KnowledgeBaseService,
)
from knowledge_base.engine import SearchResult
from knowledge_base.reporting import report_markdown

router = APIRouter()
_build_lock = threading.Lock()


def get_kb_service(request: Request) -> KnowledgeBaseService:
    """The app's knowledge-base service (built once if start-up did not provide one)."""
    state = request.app.state
    service = getattr(state, "kb", None)
    if service is None:
        with _build_lock:
            service = getattr(state, "kb", None)
            if service is None:
                box = getattr(state, "container", None)
                sessions = getattr(box, "session_factory", None)
                service = KnowledgeBaseService(KnowledgeBase(), sessions)
                state.kb = service
    return service  # type: ignore[no-any-return]


KbDep = Annotated[KnowledgeBaseService, Depends(get_kb_service)]


class ArticleIn(BaseModel):
    language: Literal["zh", "en"]
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=50_000)
    tags: list[str] = Field(default_factory=list, max_length=50)
    intents: list[str] = Field(default_factory=list, max_length=20)
    products: list[str] = Field(default_factory=list, max_length=50)
    questions: list[str] = Field(default_factory=list, max_length=50)
    topic: str = Field(default="", max_length=80)


class NewArticleIn(ArticleIn):
    id: str = Field(min_length=2, max_length=80)


class AskIn(BaseModel):
    question: str = Field(max_length=20_000)
    language: str | None = None
    k: int = Field(default=3, ge=1, le=20)
    channel: str | None = Field(default=None, max_length=32)


class FeedbackIn(BaseModel):
    article_id: str = Field(max_length=80)
    helpful: bool
    question: str | None = Field(default=None, max_length=5000)
    comment: str | None = Field(default=None, max_length=5000)
    channel: str | None = Field(default=None, max_length=32)
    query_id: int | None = None


def _article(a: Article, *, full: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": a.id,
        "language": a.language,
        "title": a.title,
        "topic": a.topic,
        "tags": list(a.tags),
        "intents": list(a.intents),
        "products": list(a.products),
    }
    if full:
        out |= {"questions": list(a.questions), "body": a.body}
    return out


def _result(result: SearchResult, query_id: int | None = None) -> dict[str, Any]:
    return {
        "question": result.question,
        "language": result.language,
        "confident": result.confident,
        "threshold": result.threshold,
        "query_id": query_id,
        "answers": [
            {"article": _article(a.article, full=False), "score": a.score, "snippet": a.snippet}
            for a in result.answers
        ],
    }


def _http(exc: Exception) -> HTTPException:
    if isinstance(exc, ArticleNotFound):
        return HTTPException(status.HTTP_404_NOT_FOUND, f"no article {exc}")
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc))


@router.get("/articles")
def list_articles(kb: KbDep, language: Literal["zh", "en"] | None = None) -> dict[str, Any]:
    """Every article (without bodies), plus files that failed to load."""
    articles = kb.list_articles(language)
    return {"articles": [_article(a, full=False) for a in articles], "errors": kb.kb.store.errors}


@router.get("/articles/{article_id}")
def get_article(article_id: str, kb: KbDep) -> dict[str, Any]:
    try:
        return _article(kb.get_article(article_id))
    except ArticleNotFound as exc:
        raise _http(exc) from None


@router.post("/articles", status_code=status.HTTP_201_CREATED)
def create_article(body: NewArticleIn, kb: KbDep) -> dict[str, Any]:
    """Create an article; 409 if the id exists."""
    if body.id in set(kb.kb.store.ids()):
        raise HTTPException(status.HTTP_409_CONFLICT, f"article {body.id} exists; use PUT")
    try:
        return _article(kb.save_article(body.model_dump(exclude={"body"}), body.body))
    except ArticleFormatError as exc:
        raise _http(exc) from None


@router.put("/articles/{article_id}")
def put_article(article_id: str, body: ArticleIn, kb: KbDep) -> dict[str, Any]:
    """Create or replace an article (written to its Markdown file, searchable at once)."""
    try:
        fields = body.model_dump(exclude={"body"})
        return _article(kb.save_article(fields, body.body, article_id=article_id))
    except ArticleFormatError as exc:
        raise _http(exc) from None


@router.delete("/articles/{article_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_article(article_id: str, kb: KbDep) -> Response:
    try:
        kb.delete_article(article_id)
    except ArticleNotFound as exc:
        raise _http(exc) from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/reload")
def reload_articles(kb: KbDep) -> dict[str, Any]:
    """Re-read the article files now (edits are also picked up within seconds on their own)."""
    kb.kb.reload()
    return {"articles": len(kb.kb.store.all()), "errors": kb.kb.store.errors}


@router.get("/search")
def search(
    kb: KbDep,
    q: Annotated[str, Query(max_length=20_000)] = "",
    language: str | None = None,
    k: Annotated[int, Query(ge=1, le=20)] = 5,
) -> dict[str, Any]:
    """Candidates for agents (not logged)."""
    return _result(kb.kb.search(q, language, k))


@router.post("/ask")
def ask(body: AskIn, kb: KbDep) -> dict[str, Any]:
    """A customer question: answers if confident, logged for the report."""
    asked = kb.ask(body.question, body.language, body.k, channel=body.channel)
    return _result(asked.result, asked.query_id)


@router.post("/feedback", status_code=status.HTTP_201_CREATED)
def give_feedback(body: FeedbackIn, kb: KbDep) -> dict[str, Any]:
    """Store a "did this help?" answer."""
    if kb.session_factory is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "feedback storage is not set up")
    try:
        feedback_id = kb.give_feedback(**body.model_dump())
    except FeedbackError as exc:
        raise _http(exc) from None
    return {"id": feedback_id}


@router.get("/report", response_model=None)
def report(
    kb: KbDep,
    days: Annotated[int, Query(ge=1, le=3650)] = 30,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
    min_votes: Annotated[int, Query(ge=1, le=1000)] = 3,
    format: Literal["json", "markdown"] = "json",
) -> dict[str, Any] | PlainTextResponse:
    """Unanswered questions and unhelpful articles over the last `days` days."""
    if kb.session_factory is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "feedback storage is not set up")
    since = datetime.now(UTC) - timedelta(days=days)
    data = kb.report(since=since, limit=limit, min_votes=min_votes)
    if format == "markdown":
        return PlainTextResponse(report_markdown(data, kb.titles()), media_type="text/markdown")
    return {
        "since": data.since.isoformat() if data.since else None,
        "questions": data.questions,
        "answered": data.answered,
        "answered_rate": round(data.answered_rate, 4),
        "unanswered": [
            {
                "question": u.question,
                "language": u.language,
                "count": u.count,
                "last_asked": u.last_asked.isoformat(),
            }
            for u in data.unanswered
        ],
        "unhelpful_articles": [
            {
                "article_id": a.article_id,
                "helpful": a.helpful,
                "unhelpful": a.unhelpful,
                "unhelpful_rate": round(a.unhelpful_rate, 4),
                "comments": list(a.comments),
            }
            for a in data.unhelpful_articles
        ],
    }
