"""The admin router end to end with a real database: ask -> feedback -> report."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from kamidesk.api import errors
from kamidesk.api import kb as kb_api
from knowledge_base import KnowledgeBase, KnowledgeBaseService

BASE = "/api/v1/kb"


@pytest.fixture
async def client(kb_sessions, shared_kb: KnowledgeBase):
    app = FastAPI()
    app.include_router(kb_api.router, prefix=BASE)
    errors.install(app)  # the app's shared error mapping
    app.state.kb = KnowledgeBaseService(shared_kb, kb_sessions)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def test_a_question_feedback_and_the_report(client: httpx.AsyncClient):
    asked = (await client.post(f"{BASE}/ask", json={"question": "do you sell netflix"})).json()
    assert asked["confident"] is False and asked["query_id"] is not None
    good = (await client.post(f"{BASE}/ask", json={"question": "need a receipt"})).json()
    article_id = good["answers"][0]["article"]["id"]
    for helpful in (False, False, False):
        vote = {"article_id": article_id, "helpful": helpful, "query_id": good["query_id"]}
        assert (await client.post(f"{BASE}/feedback", json=vote)).status_code == 201
    report = (await client.get(f"{BASE}/report", params={"min_votes": 3})).json()
    assert report["questions"] == 2
    assert report["unanswered"][0]["question"] == "do you sell netflix"
    assert report["unhelpful_articles"][0]["article_id"] == article_id
    markdown = await client.get(f"{BASE}/report", params={"format": "markdown"})
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert "do you sell netflix" in markdown.text


async def test_feedback_on_an_unknown_article_is_422(client: httpx.AsyncClient):
    vote = {"article_id": "nope", "helpful": True}
    assert (await client.post(f"{BASE}/feedback", json=vote)).status_code == 422
    bad = {"article_id": "invoice-en", "helpful": "maybe"}
    assert (await client.post(f"{BASE}/feedback", json=bad)).status_code == 422
