"""Knowledge-base tables on real SQLite and PostgreSQL.

PostgreSQL gets a dedicated database (kb_test_<random>) for the session, so these tests never
collide with other suites on the same server. With CI=true an unreachable PostgreSQL fails the
test; elsewhere it is skipped with the reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from kamidesk.db import make_engine, make_session_factory, upgrade
from knowledge_base import KnowledgeBase
from knowledge_base.text import Tokenizer

PG_ADMIN_URL = os.environ.get(
    "KAMIDESK_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
ON_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
KB_TABLES = ("kb_feedback", "kb_query_log")


@pytest.fixture(scope="session")
def kb_pg_url() -> Iterator[str]:
    name = f"kb_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        message = f"PostgreSQL at {PG_ADMIN_URL} is unreachable: {exc}"
        if ON_CI:
            pytest.fail(message)
        pytest.skip(message)
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def kb_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("kb") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", "postgres"])
def kb_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated database with empty knowledge-base tables."""
    if request.param == "sqlite":
        path = tmp_path / "kb.db"
        path.write_bytes(request.getfixturevalue("kb_sqlite_template").read_bytes())
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("kb_pg_url")
    engine = create_engine(url)
    with engine.begin() as conn:
        for table in KB_TABLES:
            conn.execute(text(f"DELETE FROM {table}"))
    engine.dispose()
    return url


@pytest.fixture
def kb_sessions(kb_db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(kb_db_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def shared_kb() -> KnowledgeBase:
    return KnowledgeBase(tokenizer=Tokenizer())
