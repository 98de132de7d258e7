"""Readiness against real services: Redis when configured, the schema on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from kamidesk.db import make_engine
from kamidesk.observability.health import Readiness
from tests.conftest import REDIS_URL, service_unavailable

pytestmark = pytest.mark.integration


@pytest.fixture
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:
        service_unavailable("Redis", exc)
    return REDIS_URL


async def test_a_migrated_database_and_a_live_redis_are_ready(db_url, redis_url):
    engine = make_engine(db_url)
    try:
        checks = await Readiness(engine, redis_url).check()
    finally:
        engine.dispose()
    assert checks == {"database": "ok", "migrations": "ok", "redis": "ok"}


async def test_an_unreachable_redis_and_an_empty_database_are_named(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        checks = await Readiness(engine, "redis://127.0.0.1:1/0", timeout=2).check()
    finally:
        engine.dispose()
    assert checks["database"] == "ok"
    assert checks["migrations"].startswith("not current (missing ")
    assert checks["redis"] == "unreachable (ConnectionError)"
