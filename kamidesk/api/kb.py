"""Knowledge-base admin API: articles, search, feedback, report (mounted at /api/v1/kb).

Routes only parse input, call `KnowledgeBaseService` and shape the output. The service comes
from `app.state.kb`, which the app sets at start-up from its container; a bare app that mounts
only this router (tests, tools) gets one built on first use, with the packaged articles. The
knowledge base's errors reach the client through the shared mapping (`kamidesk.api.errors`).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field, StrictBool, StrictInt

from kamidesk.api.schemas import INT32_MAX
from knowledge_base import Article, KnowledgeBase, KnowledgeBaseService
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
    k: StrictInt = Field(default=3, ge=1, le=20)
    channel: str | None = Field(default=None, max_length=32)


class FeedbackIn(BaseModel):
    article_id: str = Field(max_length=80)
    helpful: StrictBool
    question: str | None = Field(default=None, max_length=5000)
    comment: str | None = Field(default=None, max_length=5000)
    channel: str | None = Field(default=None, max_length=32)
    query_id: StrictInt | None = Field(default=None, ge=1, le=INT32_MAX)  # kb_query_log.id


class ArticleSummaryOut(BaseModel):
    id: str
    language: str
    title: str
    topic: str
    tags: list[str]
    intents: list[str]
    products: list[str]


class ArticleOut(ArticleSummaryOut):
    questions: list[str]
    body: str


class ArticlesOut(BaseModel):
    articles: list[ArticleSummaryOut]
    errors: list[str] = Field(description="article files that failed to load")


class AnswerOut(BaseModel):
    article: ArticleSummaryOut
    score: float
    snippet: str


class SearchOut(BaseModel):
    question: str
    language: str
    confident: bool = Field(description="false: no confident answer (say so, or ask a person)")
    threshold: float
    query_id: int | None = Field(description="the logged question (for feedback)")
    answers: list[AnswerOut]


class ReloadOut(BaseModel):
    articles: int
    errors: list[str]


class FeedbackOut(BaseModel):
    id: int


class UnansweredOut(BaseModel):
    question: str
    language: str
    count: int
    last_asked: str


class UnhelpfulOut(BaseModel):
    article_id: str
    helpful: int
    unhelpful: int
    unhelpful_rate: float
    comments: list[str]


class ReportOut(BaseModel):
    since: str | None
    questions: int
    answered: int
    answered_rate: float
    unanswered: list[UnansweredOut]
    unhelpful_articles: list[UnhelpfulOut]


def _summary(a: Article) -> ArticleSummaryOut:
    return ArticleSummaryOut(
        id=a.id,
        language=a.language,
        title=a.title,
        topic=a.topic,
        tags=list(a.tags),
        intents=list(a.intents),
        products=list(a.products),
    )


def _article(a: Article) -> ArticleOut:
    return ArticleOut(**_summary(a).model_dump(), questions=list(a.questions), body=a.body)


def _result(result: SearchResult, query_id: int | None = None) -> SearchOut:
    return SearchOut(
        question=result.question,
        language=result.language,
        confident=result.confident,
        threshold=result.threshold,
        query_id=query_id,
        answers=[
            AnswerOut(article=_summary(a.article), score=a.score, snippet=a.snippet)
            for a in result.answers
        ],
    )


@router.get("/articles")
def list_articles(kb: KbDep, language: Literal["zh", "en"] | None = None) -> ArticlesOut:
    """Every article (without bodies), plus files that failed to load."""
    articles = kb.list_articles(language)
    return ArticlesOut(articles=[_summary(a) for a in articles], errors=kb.kb.store.errors)


@router.get("/articles/{article_id}")
def get_article(article_id: str, kb: KbDep) -> ArticleOut:
    """One article with its body."""
    return _article(kb.get_article(article_id))


@router.post("/articles", status_code=status.HTTP_201_CREATED)
def create_article(body: NewArticleIn, kb: KbDep) -> ArticleOut:
    """Create an article; 409 if the id exists."""
    if body.id in set(kb.kb.store.ids()):
        raise HTTPException(status.HTTP_409_CONFLICT, f"article {body.id} exists; use PUT")
    return _article(kb.save_article(body.model_dump(exclude={"body"}), body.body))


@router.put("/articles/{article_id}")
def put_article(article_id: str, body: ArticleIn, kb: KbDep) -> ArticleOut:
    """Create or replace an article (written to its Markdown file, searchable at once)."""
    fields = body.model_dump(exclude={"body"})
    return _article(kb.save_article(fields, body.body, article_id=article_id))


@router.delete("/articles/{article_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_article(article_id: str, kb: KbDep) -> Response:
    """Delete an article (its file too)."""
    kb.delete_article(article_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/reload")
def reload_articles(kb: KbDep) -> ReloadOut:
    """Re-read the article files now (edits are also picked up within seconds on their own)."""
    kb.kb.reload()
    return ReloadOut(articles=len(kb.kb.store.all()), errors=kb.kb.store.errors)


@router.get("/search")
def search(
    kb: KbDep,
    q: Annotated[str, Query(max_length=20_000)] = "",
    language: str | None = None,
    k: Annotated[int, Query(ge=1, le=20)] = 5,
) -> SearchOut:
    """Candidates for agents (not logged)."""
    return _result(kb.kb.search(q, language, k))


@router.post("/ask")
def ask(body: AskIn, kb: KbDep) -> SearchOut:
    """A customer question: answers if confident, logged for the report."""
    asked = kb.ask(body.question, body.language, body.k, channel=body.channel)
    return _result(asked.result, asked.query_id)


@router.post("/feedback", status_code=status.HTTP_201_CREATED)
def give_feedback(body: FeedbackIn, kb: KbDep) -> FeedbackOut:
    """Store a "did this help?" answer."""
    if kb.session_factory is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "feedback storage is not set up")
    return FeedbackOut(id=kb.give_feedback(**body.model_dump()))


@router.get(
    "/report",
    response_model=ReportOut,
    responses={200: {"content": {"text/markdown": {"schema": {"type": "string"}}}}},
)
def report(
    kb: KbDep,
    days: Annotated[int, Query(ge=1, le=3650)] = 30,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
    min_votes: Annotated[int, Query(ge=1, le=1000)] = 3,
    format: Literal["json", "markdown"] = "json",
) -> Any:
    """Unanswered questions and unhelpful articles over the last `days` days (JSON or Markdown)."""
    if kb.session_factory is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "feedback storage is not set up")
    since = datetime.now(UTC) - timedelta(days=days)
    data = kb.report(since=since, limit=limit, min_votes=min_votes)
    if format == "markdown":
        return PlainTextResponse(report_markdown(data, kb.titles()), media_type="text/markdown")
    return ReportOut(
        since=data.since.isoformat() if data.since else None,
        questions=data.questions,
        answered=data.answered,
        answered_rate=round(data.answered_rate, 4),
        unanswered=[
            UnansweredOut(
                question=u.question,
                language=u.language,
                count=u.count,
                last_asked=u.last_asked.isoformat(),
            )
            for u in data.unanswered
        ],
        unhelpful_articles=[
            UnhelpfulOut(
                article_id=a.article_id,
                helpful=a.helpful,
                unhelpful=a.unhelpful,
                unhelpful_rate=round(a.unhelpful_rate, 4),
                comments=list(a.comments),
            )
            for a in data.unhelpful_articles
        ],
    )
