"""The arq worker (`kamidesk worker`): runs triggered jobs and sweeps the database.

Jobs run the synchronous fulfilment services in threads (`asyncio.to_thread`), each in its own
unit of work. The cron `sweep` reads `due_work` and enqueues one job per due item with a
deterministic job id, so a trigger already queued absorbs the sweep's copy and two workers
sweeping at once queue each item only once. A job that raises is not retried by arq: the row
stays due in the database and the next sweep enqueues it again.

Several workers can share one Redis queue and one database; the services make every job safe
to run twice (a key is never handed out twice).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from typing import Any

from arq import create_pool, cron, func
from arq.connections import ArqRedis, RedisSettings
from arq.cron import CronJob
from arq.worker import run_worker as arq_run_worker

from fulfilment.actors import Actor
from kamidesk.jobs import (
    DELIVER_JOB,
    QUEUE_NAME,
    REFUND_JOB,
    REISSUE_JOB,
    ServiceWork,
    check_order_no,
    check_refund_id,
    describe_failure,
    job_id,
)

log = logging.getLogger(__name__)

JOB_TIMEOUT = 120  # a top-up pass makes up to 10 supplier calls with a 5 s timeout each
DEFAULT_SWEEP_SECONDS = 2.0
HEALTH_CHECK_SECONDS = 20  # heartbeat period; the key lives one second longer
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class JobFailed(RuntimeError):
    """A job raised; carries only the exception type and place, never its message."""


def _work(ctx: dict[str, Any]) -> ServiceWork:
    work: ServiceWork = ctx["work"]
    return work


async def _in_thread(fn: Callable[[Any], object], arg: object) -> object:
    # arq logs failed jobs with their traceback; messages could carry customer data, so the
    # job reports a sanitised failure instead (the row stays due and the sweep retries it).
    try:
        return await asyncio.to_thread(fn, arg)
    except Exception as exc:
        raise JobFailed(describe_failure(exc)) from None


async def deliver_order(ctx: dict[str, Any], order_no: str) -> str:
    """Deliver (or advance) what is owed on one order; returns the outcome status."""
    order_no = check_order_no(order_no)
    outcome = await _in_thread(_work(ctx).deliver, order_no)
    return str(getattr(outcome, "status", "done"))


async def push_refund(ctx: dict[str, Any], refund_id: int) -> str:
    """Push a processing refund to the payment provider; returns the refund status."""
    refund_id = check_refund_id(refund_id)
    result = await _in_thread(_work(ctx).refund, refund_id)
    return str(getattr(result, "status", "done"))


async def resume_reissue(ctx: dict[str, Any], request_id: str) -> str:
    """Finish a reissue request left CHECKING; returns its outcome status."""
    if not isinstance(request_id, str) or not 0 < len(request_id) <= 80:
        raise ValueError("request_id must be a string of 1-80 characters")
    result = await _in_thread(_work(ctx).reissue, request_id)
    return str(getattr(result, "status", "done"))


async def sweep(ctx: dict[str, Any]) -> int:
    """Enqueue every due order, refund and reissue (deduplicated by job id); returns new ones."""
    redis: ArqRedis = ctx["redis"]
    queue = redis.default_queue_name
    work = await asyncio.to_thread(_work(ctx).due)
    queued = 0
    for order_no in work.orders:
        jid = job_id(queue, "deliver", order_no)
        queued += await redis.enqueue_job(DELIVER_JOB, order_no, _job_id=jid) is not None
    for refund_id in work.refunds:
        jid = job_id(queue, "refund", refund_id)
        queued += await redis.enqueue_job(REFUND_JOB, refund_id, _job_id=jid) is not None
    for request_id in work.reissues:
        jid = job_id(queue, "reissue", request_id)
        queued += await redis.enqueue_job(REISSUE_JOB, request_id, _job_id=jid) is not None
    if queued:
        log.info("sweep queued %d due item(s)", queued)
    return queued


async def on_startup(ctx: dict[str, Any]) -> None:
    """Build the container once per worker process (tests may put their own in `ctx`)."""
    if "container" not in ctx:
        from kamidesk.bootstrap import build
        from kamidesk.settings import get_settings

        ctx["container"] = build(get_settings())
        ctx["owns_container"] = True
    ctx["work"] = ServiceWork(ctx["container"], actor=Actor.system("worker"))


async def on_shutdown(ctx: dict[str, Any]) -> None:
    """Close the container this worker built."""
    if ctx.pop("owns_container", False):
        ctx["container"].close()


def sweep_cron(interval_seconds: float) -> CronJob:
    """The sweep as an arq cron job, every `interval_seconds` (whole seconds, at most 60)."""
    step = min(max(1, round(interval_seconds)), 60)
    return cron(
        sweep,
        name="sweep",
        second=set(range(0, 60, step)),
        run_at_startup=True,  # a restarted worker resumes crashed work at once
        unique=True,
        timeout=JOB_TIMEOUT,
    )


class WorkerSettings:
    """arq settings; `run_worker` fills in Redis and the sweep interval from the settings."""

    functions = [  # noqa: RUF012 (arq reads class attributes)
        func(deliver_order, name=DELIVER_JOB, keep_result=0, timeout=JOB_TIMEOUT),
        func(push_refund, name=REFUND_JOB, keep_result=0, timeout=JOB_TIMEOUT),
        func(resume_reissue, name=REISSUE_JOB, keep_result=0, timeout=JOB_TIMEOUT),
    ]
    cron_jobs = [sweep_cron(DEFAULT_SWEEP_SECONDS)]  # noqa: RUF012
    on_startup = on_startup
    on_shutdown = on_shutdown
    queue_name = QUEUE_NAME
    # No stored results: a finished job must not block the next trigger for the same order.
    keep_result = 0
    job_timeout = JOB_TIMEOUT
    max_jobs = 10
    health_check_interval = HEALTH_CHECK_SECONDS


def health_check_key(queue_name: str = QUEUE_NAME, host: str | None = None) -> str:
    """Per-host heartbeat key, so each worker container reports its own health."""
    return f"{queue_name}:health-check:{host or socket.gethostname()}"


def worker_options(redis_url: str, sweep_interval_seconds: float) -> dict[str, Any]:
    """Overrides of `WorkerSettings` for one deployment."""
    return {
        "redis_settings": RedisSettings.from_dsn(redis_url),
        "cron_jobs": [sweep_cron(sweep_interval_seconds)],
        "health_check_key": health_check_key(),
    }


async def worker_alive(redis_settings: RedisSettings, key: str) -> bool:
    """Whether the worker owning `key` recorded a heartbeat within the last period."""
    redis = await create_pool(redis_settings)
    try:
        return bool(await redis.get(key))
    finally:
        await redis.aclose()


def check_health() -> int:
    """Exit status for a container health check: 0 when this host's worker is alive."""
    from kamidesk.settings import get_settings

    url = get_settings().redis_url
    if not url:
        return 1
    redis_settings = RedisSettings.from_dsn(url)
    redis_settings.conn_retries, redis_settings.conn_timeout = 0, 3
    try:
        alive = asyncio.run(worker_alive(redis_settings, health_check_key()))
    except Exception as exc:  # unreachable Redis: unhealthy, not a traceback
        print(f"worker health unknown: {type(exc).__name__}: {exc}")
        return 1
    return 0 if alive else 1


def run_worker() -> None:
    """Run an arq worker until SIGINT/SIGTERM (`kamidesk worker`); needs REDIS_URL."""
    from kamidesk.settings import get_settings

    settings = get_settings()
    if not settings.redis_url:
        raise SystemExit(
            "REDIS_URL is not set: without Redis, `kamidesk serve` runs background work "
            "in-process and no separate worker is needed"
        )
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )
    arq_run_worker(
        WorkerSettings,  # type: ignore[arg-type]
        **worker_options(settings.redis_url, settings.sweep_interval_seconds),
    )
