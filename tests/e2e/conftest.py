"""The FastAPI app through TestClient, on the fulfilment fixtures (both databases)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from kamidesk.app import create_app
from tests.conftest import assert_every_event_dispatched
from tests.containers import SHOP_TOKEN, STAFF_TOKEN, RecordingJobs, make_container

SHOP = {"Authorization": f"Bearer {SHOP_TOKEN}"}
STAFF = {"Authorization": f"Bearer {STAFF_TOKEN}"}


@pytest.fixture(scope="session")
def packaged_kb():  # type: ignore[no-untyped-def]
    """The packaged knowledge base, loaded once for every app of the session."""
    from knowledge_base import KnowledgeBase
    from knowledge_base.text import Tokenizer

    return KnowledgeBase(tokenizer=Tokenizer())


@pytest.fixture
def jobs() -> RecordingJobs:
    """Collects triggers (events are dispatched at once); the test decides when work runs."""
    return RecordingJobs()


@pytest.fixture
def container(parts, session_factory, jobs, packaged_kb):  # type: ignore[no-untyped-def]
    from knowledge_base import KnowledgeBaseService

    box = make_container(jobs=jobs, kb=KnowledgeBaseService(packaged_kb, session_factory), **parts)
    yield box
    box.close()
    assert_every_event_dispatched(session_factory)


@pytest.fixture
def chatbot(container):  # type: ignore[no-untyped-def]
    """The container's dialogue engine (what the app's channels use)."""
    return container.bot


@pytest.fixture
def client(container):  # type: ignore[no-untyped-def]
    app = create_app(container=container)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
