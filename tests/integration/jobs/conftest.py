"""Fixtures: job runners against a real database (SQLite and PostgreSQL) and a real Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings

from kamidesk.bootstrap import Container
from kamidesk.jobs import ArqJobs, InProcessJobs
from tests.conftest import REDIS_URL, service_unavailable
from tests.containers import make_container


@pytest.fixture
def in_process(parts) -> Callable[..., Container]:  # type: ignore[no-untyped-def]
    """Builds a container whose job runner is the in-process one (not started)."""
    built: list[Container] = []

    def make(*, sweep_interval: float = 0.05, **options: Any) -> Container:
        jobs = InProcessJobs(sweep_interval=sweep_interval, **options)
        built.append(make_container(jobs=jobs, **parts))
        return built[-1]

    yield make
    for box in built:
        box.close()


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


@pytest.fixture
def runtime(container):  # type: ignore[no-untyped-def]
    """The container the workers run: its events are dispatched as they are committed, so the
    queue holds only the jobs a test is about (see `arq_runtime` for dispatch through arq)."""
    return container


@pytest.fixture
def arq_runtime(parts, arq_pool):  # type: ignore[no-untyped-def]
    """A container whose runner enqueues on the test queue (once a worker starts it)."""
    jobs = ArqJobs(RedisSettings.from_dsn(REDIS_URL), queue_name=arq_pool.default_queue_name)
    box = make_container(jobs=jobs, **parts)
    yield box
    box.close()
