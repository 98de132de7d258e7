"""Fixtures: job runners against a real database (SQLite and PostgreSQL) and a real Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings

from kamidesk.settings import Settings
from tests.conftest import REDIS_URL, service_unavailable
from tests.integration.jobs.support import TestRuntime


@pytest.fixture
def runtime(session_factory, vault, suppliers, payments, policy) -> TestRuntime:  # type: ignore[no-untyped-def]
    settings = Settings(_env_file=None, demo_mode=True, sweep_interval_seconds=0.05)
    return TestRuntime(settings, session_factory, vault, suppliers, payments, policy)


@pytest.fixture
async def arq_pool() -> AsyncIterator[ArqRedis]:
    """A connection to the real Redis with a queue of its own; its keys are removed afterwards."""
    queue = f"kamidesk-test:{uuid.uuid4().hex[:12]}"
    settings = RedisSettings.from_dsn(REDIS_URL)
    settings.conn_retries = 0
    settings.conn_timeout = 2
    try:
        pool = await create_pool(settings, default_queue_name=queue)
        await pool.ping()
    except Exception as exc:
        service_unavailable("Redis", exc)
    try:
        yield pool
    finally:
        keys = [queue, f"{queue}:health-check"]
        for pattern in (f"arq:*:{queue}:*", f"{queue}*"):
            keys += [k async for k in pool.scan_iter(match=pattern)]
        await pool.delete(*keys)
        await pool.aclose()
