"""The admin router over a knowledge base without a database (articles, search, ask)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from kamidesk.api import errors
from kamidesk.api import kb as kb_api
from knowledge_base import KnowledgeBase, KnowledgeBaseService

BASE = "/api/v1/kb"
NEW = {
    "id": "gift-wrapping-en",
    "language": "en",
    "title": "Can I send a card key as a gift?",
    "body": "Yes. Enter the recipient's email at checkout and add a gift message.",
    "tags": ["gift", "recipient"],
}
PUT_BODY = {k: v for k, v in NEW.items() if k != "id"}


def _app(service: KnowledgeBaseService | None = None) -> FastAPI:
    app = FastAPI()
    app.include_router(kb_api.router, prefix=BASE)
    errors.install(app)  # the app's shared error mapping
    if service is not None:
        app.state.kb = service
    return app


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.fixture
async def client(writable_kb: KnowledgeBase):
    async with _client(_app(KnowledgeBaseService(writable_kb))) as c:
        yield c


async def test_articles_are_listed_without_bodies(client: httpx.AsyncClient):
    data = (await client.get(f"{BASE}/articles", params={"language": "zh"})).json()
    assert len(data["articles"]) >= 25
    assert all(a["language"] == "zh" and "body" not in a for a in data["articles"])
    assert data["errors"] == []


async def test_one_article_has_its_body(client: httpx.AsyncClient):
    data = (await client.get(f"{BASE}/articles/invoice-zh")).json()
    assert data["title"] and "发票" in data["body"]


async def test_an_unknown_article_is_404(client: httpx.AsyncClient):
    assert (await client.get(f"{BASE}/articles/nope")).status_code == 404
    assert (await client.delete(f"{BASE}/articles/nope")).status_code == 404


async def test_a_created_article_is_searchable_at_once_and_can_be_deleted(
    client: httpx.AsyncClient,
):
    assert (await client.post(f"{BASE}/articles", json=NEW)).status_code == 201
    assert (await client.post(f"{BASE}/articles", json=NEW)).status_code == 409
    params = {"q": "send a key as a gift to a recipient"}
    found = (await client.get(f"{BASE}/search", params=params)).json()
    assert found["answers"][0]["article"]["id"] == "gift-wrapping-en"
    assert (await client.delete(f"{BASE}/articles/gift-wrapping-en")).status_code == 204
    assert (await client.get(f"{BASE}/articles/gift-wrapping-en")).status_code == 404


async def test_put_replaces_an_article(client: httpx.AsyncClient):
    assert (await client.put(f"{BASE}/articles/gift-wrapping-en", json=PUT_BODY)).is_success
    changed = dict(PUT_BODY, title="Sending a card key as a present")
    data = (await client.put(f"{BASE}/articles/gift-wrapping-en", json=changed)).json()
    assert data["title"] == "Sending a card key as a present"


async def test_invalid_articles_are_422(client: httpx.AsyncClient):
    assert (await client.put(f"{BASE}/articles/Bad_Id", json=PUT_BODY)).status_code == 422
    bad = await client.put(f"{BASE}/articles/x-en", json={"language": "en"})
    assert bad.status_code == 422
    other_lang = dict(PUT_BODY, language="zh")
    assert (await client.put(f"{BASE}/articles/invoice-en", json=other_lang)).status_code == 422


async def test_ask_returns_a_confident_answer_or_none(client: httpx.AsyncClient):
    good = await client.post(f"{BASE}/ask", json={"question": "发票怎么开", "language": "zh"})
    assert good.json()["confident"] is True
    assert good.json()["answers"][0]["article"]["topic"] == "invoice"
    bad = await client.post(f"{BASE}/ask", json={"question": "😀😀", "language": "zh"})
    assert bad.json()["confident"] is False and bad.json()["answers"] == []


async def test_feedback_and_report_need_a_database(client: httpx.AsyncClient):
    fb = {"article_id": "invoice-en", "helpful": True}
    assert (await client.post(f"{BASE}/feedback", json=fb)).status_code == 503
    assert (await client.get(f"{BASE}/report")).status_code == 503


async def test_the_service_is_built_on_first_use_when_start_up_did_not():
    app = _app()
    async with _client(app) as c:
        assert (await c.get(f"{BASE}/articles")).status_code == 200
    assert isinstance(app.state.kb, KnowledgeBaseService)
