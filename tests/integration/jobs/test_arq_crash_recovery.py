"""Crash recovery under arq: a killed worker's in-progress marker must not hold owed work back.

arq marks a job it takes with an in-progress key that lives for the longest job timeout plus
10 s, and refuses to enqueue a job id that exists; a worker killed mid-job left both behind, so
the sweep's re-queue was dropped and the order waited about two minutes.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from arq import create_pool
from arq.connections import RedisSettings
from arq.constants import in_progress_key_prefix
from sqlalchemy import select

from fulfilment.keyvault import KeyVault
from fulfilment.models import Order
from fulfilment.services.queries import get_order
from kamidesk import wiring
from kamidesk import worker as worker_module
from kamidesk.jobs import ArqJobs, job_id
from kamidesk.worker import IN_PROGRESS_TIMEOUT_SECONDS, on_shutdown, sweep
from tests.conftest import REDIS_URL
from tests.factories import card_product, paid_order
from tests.integration.jobs.support import make_worker

pytestmark = [pytest.mark.integration, pytest.mark.redis]
ROOT = Path(__file__).resolve().parents[3]
DYING_WORKER = "tests.integration.jobs.dying_worker"


async def delivered_after(pool, runtime, order_no: str, *, within: float) -> float | None:  # type: ignore[no-untyped-def]
    """Run a fresh worker and the sweep (every 0.2 s) until the order is delivered; seconds."""
    own_pool = await create_pool(
        RedisSettings.from_dsn(REDIS_URL), default_queue_name=pool.default_queue_name
    )
    worker = make_worker(own_pool, runtime, burst=False)
    task = asyncio.create_task(worker.async_run())
    ctx = {"redis": pool, "container": runtime}
    started = time.monotonic()
    try:
        while time.monotonic() - started < within:
            await sweep(ctx)
            if get_order(uow=runtime.uow(), order_no=order_no).status == "delivered":
                return time.monotonic() - started
            await asyncio.sleep(0.2)
        return None
    finally:
        await stop(worker, task)


async def stop(worker, task) -> None:  # type: ignore[no-untyped-def]
    """Stop a worker started with `async_run` and close the pool it was given."""
    task.cancel()
    await asyncio.gather(task, *worker.tasks.values(), return_exceptions=True)
    await on_shutdown(worker.ctx)
    await worker.pool.aclose()


async def queued_delivery(pool, order_no: str) -> str:  # type: ignore[no-untyped-def]
    jobs = ArqJobs(RedisSettings(), queue_name=pool.default_queue_name, pool=pool)
    await jobs.start()
    await jobs.trigger_delivery(order_no)
    return in_progress_key_prefix + job_id(pool.default_queue_name, "deliver", order_no)


def test_the_claim_timeout_assumed_by_the_sweep_is_the_one_arq_gives(arq_pool, runtime):
    assert make_worker(arq_pool, runtime).in_progress_timeout_s == IN_PROGRESS_TIMEOUT_SECONDS


async def test_a_job_claimed_by_a_worker_killed_before_running_it_resumes_within_seconds(
    arq_pool, runtime
):
    uow = runtime.uow()
    card_product(uow, keys=2)
    paid_order(uow, "KM4100000001")
    marker = await queued_delivery(arq_pool, "KM4100000001")
    # What arq leaves when a worker takes the job and is killed at once, ten seconds ago.
    ttl_ms = IN_PROGRESS_TIMEOUT_SECONDS * 1000 - 10_000
    await arq_pool.psetex(marker, ttl_ms, b"1")
    took = await delivered_after(arq_pool, runtime, "KM4100000001", within=8)
    assert took is not None, "the order waited for the dead worker's marker to expire"


@pytest.mark.slow
async def test_a_worker_killed_in_the_middle_of_a_job_holds_the_order_back_for_seconds_only(
    arq_pool, runtime, db_url, tmp_path
):
    uow = runtime.uow()
    card_product(uow, keys=2)
    paid_order(uow, "KM4100000002")
    marker = await queued_delivery(arq_pool, "KM4100000002")
    holder = runtime.session_factory()  # holds the order, so the job blocks mid-way
    holder.execute(select(Order.id).where(Order.order_no == "KM4100000002").with_for_update())
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "REDIS_URL": REDIS_URL,
        "KEY_ENCRYPTION_KEY": KeyVault.generate_key(),
    }
    with open(tmp_path / "worker.log", "wb") as log:
        dying = subprocess.Popen(
            [sys.executable, "-m", DYING_WORKER, arq_pool.default_queue_name],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while not await arq_pool.exists(marker):
            assert dying.poll() is None, (tmp_path / "worker.log").read_text()
            assert time.monotonic() < deadline, "the worker never took the job"
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # the job is running, blocked on the order
    finally:
        dying.send_signal(signal.SIGKILL)
        dying.wait()
        holder.rollback()
        holder.close()
    assert get_order(uow=uow, order_no="KM4100000002").status == "paid"
    took = await delivered_after(arq_pool, runtime, "KM4100000002", within=12)
    assert took is not None, "the order waited for the dead worker's marker to expire"


async def test_a_long_running_job_keeps_its_marker_and_is_never_started_twice(
    arq_pool, runtime, monkeypatch
):
    monkeypatch.setattr(worker_module, "LEASE_SECONDS", 1.0)
    monkeypatch.setattr(worker_module, "CLAIM_GRACE_SECONDS", 1.0)
    uow = runtime.uow()
    card_product(uow, keys=2)
    paid_order(uow, "KM4100000003")
    marker = await queued_delivery(arq_pool, "KM4100000003")
    entered: list[float] = []
    release = asyncio.Event()
    loop = asyncio.get_running_loop()

    real_deliver = wiring.deliver_order

    def slow_deliver(**kwargs):  # type: ignore[no-untyped-def]
        entered.append(time.monotonic())
        asyncio.run_coroutine_threadsafe(release.wait(), loop).result(timeout=30)
        return real_deliver(**kwargs)

    monkeypatch.setattr(wiring, "deliver_order", slow_deliver)  # the delivery task's service

    own_pool = await create_pool(
        RedisSettings.from_dsn(REDIS_URL), default_queue_name=arq_pool.default_queue_name
    )
    worker = make_worker(own_pool, runtime, burst=False)
    task = asyncio.create_task(worker.async_run())
    ctx = {"redis": arq_pool, "container": runtime}
    try:
        while not entered:
            await asyncio.sleep(0.02)
        for _ in range(15):  # three lease periods, sweeping all the while
            await sweep(ctx)
            ttl = await arq_pool.pttl(marker)
            assert 0 < ttl <= 1000, ttl  # held on the short lease, renewed while running
            await asyncio.sleep(0.2)
        assert len(entered) == 1
        release.set()
        deadline = time.monotonic() + 10
        while get_order(uow=uow, order_no="KM4100000003").status != "delivered":
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
    finally:
        release.set()
        await stop(worker, task)
    assert len(entered) == 1
