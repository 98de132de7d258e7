"""The arq worker (`kamidesk worker`): runs triggered jobs and sweeps the database.

Every task registered on the container's job runner (`jobs.register_task`) is an arq function
of the same name; each runs its synchronous function in a thread (`asyncio.to_thread`) with its
own unit of work. The cron `sweep` asks every due source (`jobs.register_due`) and enqueues one
job per due item with a deterministic job id, so a trigger already queued absorbs the sweep's
copy and two workers sweeping at once queue each item only once. A job that raises is not
retried by arq: the row stays due in the database and the next sweep enqueues it again.

Several workers can share one Redis queue and one database; the services make every job safe
to run twice (a key is never handed out twice).

A killed worker must not hold owed work back. arq marks a job it takes with an in-progress key
that lives for the longest job timeout plus 10 s, and the job stays queued under its id, so the
sweep's re-queue is dropped until that key expires (about two minutes). Two things shorten it:
- a running job holds its marker on a short lease (`LEASE_SECONDS`), renewed while it runs; when
  the worker dies the marker expires within the lease and any worker takes the job again;
- a job claimed by a worker that died before the job started (so it never took the lease) is
  found by the sweep: its marker still has arq's long expiry, `CLAIM_GRACE_SECONDS` after the
  claim; the sweep deletes such a marker and the job runs again at once.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

from arq import create_pool, cron, func
from arq.connections import ArqRedis, RedisSettings
from arq.constants import in_progress_key_prefix
from arq.cron import CronJob
from arq.typing import WorkerCoroutine
from arq.worker import Function
from arq.worker import run_worker as arq_run_worker
from redis.exceptions import RedisError, WatchError

from kamidesk.jobs import (
    CORE_TASKS,
    QUEUE_NAME,
    TaskRegistry,
    describe_failure,
    job_id,
)
from kamidesk.observability import Operations, configure_logging

log = logging.getLogger(__name__)

JOB_TIMEOUT = 120  # a top-up pass makes up to 10 supplier calls with a 5 s timeout each
# What arq gives a claimed job's in-progress marker (`Worker.in_progress_timeout_s`).
IN_PROGRESS_TIMEOUT_SECONDS = JOB_TIMEOUT + 10
LEASE_SECONDS = 5.0  # a running job's marker lives this long unless renewed (every third of it)
CLAIM_GRACE_SECONDS = 5.0  # a claimed job that has not taken its lease by then has no worker
DEFAULT_SWEEP_SECONDS = 2.0
HEALTH_CHECK_SECONDS = 20  # heartbeat period; the key lives one second longer


class JobFailed(RuntimeError):
    """A job raised; carries only the exception type and place, never its message."""


def _tasks(ctx: dict[str, Any]) -> TaskRegistry:
    registry: TaskRegistry = ctx["container"].jobs.tasks
    return registry


async def _in_thread(ctx: dict[str, Any], fn: Callable[[Any], object], arg: object) -> object:
    # arq logs failed jobs with their traceback; messages could carry customer data, so the
    # job reports a sanitised failure instead (the row stays due and the sweep retries it).
    try:
        async with _lease(ctx):
            return await asyncio.to_thread(fn, arg)
    except Exception as exc:
        raise JobFailed(describe_failure(exc)) from None


@asynccontextmanager
async def _lease(ctx: dict[str, Any]) -> AsyncIterator[None]:
    """Hold the running job's in-progress marker on a short, renewed lease (see the docstring)."""
    redis: ArqRedis | None = ctx.get("redis")
    job: str | None = ctx.get("job_id")
    if redis is None or job is None:  # called outside an arq worker
        yield
        return
    key = in_progress_key_prefix + job

    async def renew() -> None:
        while True:
            try:  # PEXPIRE never creates the key: after arq deleted it this does nothing
                await redis.pexpire(key, int(LEASE_SECONDS * 1000))
            except (RedisError, OSError) as exc:  # the marker lapses; the job is safe twice
                log.warning("could not renew the lease of %s: %s", job, type(exc).__name__)
            await asyncio.sleep(LEASE_SECONDS / 3)

    renewing = asyncio.create_task(renew(), name=f"lease:{job}")
    try:
        yield
    finally:
        renewing.cancel()
        await asyncio.gather(renewing, return_exceptions=True)


async def release_orphaned_claim(redis: ArqRedis, jid: str) -> bool:
    """Delete the in-progress marker of a job whose worker died before starting it."""
    key = in_progress_key_prefix + jid
    try:
        async with redis.pipeline(transaction=True) as pipe:
            await pipe.watch(key)
            ttl = await pipe.pttl(key)  # -2: no marker, -1: not one of arq's
            claimed_for = IN_PROGRESS_TIMEOUT_SECONDS * 1000 - ttl
            if ttl <= LEASE_SECONDS * 1000 or claimed_for < CLAIM_GRACE_SECONDS * 1000:
                return False  # running on its lease, or claimed just now
            pipe.multi()
            pipe.delete(key)
            await pipe.execute()
    except WatchError:  # the job took its lease (or finished) meanwhile
        return False
    log.warning("job %s was taken by a worker that died before running it; released", jid)
    return True


def task_function(name: str) -> WorkerCoroutine:
    """The arq coroutine that runs task `name` from the worker's registry."""

    async def run(ctx: dict[str, Any], arg: Any) -> str:
        tasks = _tasks(ctx)
        arg = tasks.spec(name).check(arg)
        result = await _in_thread(ctx, tasks.fn(name), arg)
        return str(getattr(result, "status", "done"))

    run.__name__ = run.__qualname__ = name
    return run


def worker_functions(names: Iterable[str]) -> list[Function]:
    """arq functions for the named tasks (the core's plus whatever packages registered)."""
    return [
        func(task_function(name), name=name, keep_result=0, timeout=JOB_TIMEOUT)
        for name in dict.fromkeys(names)
    ]


async def sweep(ctx: dict[str, Any]) -> int:
    """Enqueue every due item of every task (deduplicated by job id); returns new ones."""
    redis = ctx["redis"]
    queue = redis.default_queue_name
    tasks = _tasks(ctx)
    queued = 0
    for name, arg in await asyncio.to_thread(tasks.due):
        spec = tasks.spec(name)
        jid = job_id(queue, spec.key, arg)
        queued += await _enqueue_due(redis, name, arg, jid)
    if queued:
        log.info("sweep queued %d due item(s)", queued)
    return queued


async def _enqueue_due(redis: ArqRedis, function: str, arg: object, jid: str) -> bool:
    """Queue one due item; True if it was not queued yet. A job already queued or running keeps
    its place, but one claimed by a worker that died is released so it runs again now."""
    if await redis.enqueue_job(function, arg, _job_id=jid) is not None:
        return True
    await release_orphaned_claim(redis, jid)
    return False


async def on_startup(ctx: dict[str, Any]) -> None:
    """Build the container once per worker process (tests may put their own in `ctx`)."""
    if "container" not in ctx:
        from kamidesk.bootstrap import build
        from kamidesk.settings import get_settings

        ctx["container"] = build(get_settings())
        ctx["owns_container"] = True
    # The container's runner enqueues what this worker's tasks trigger (dispatch, delivery).
    await ctx["container"].jobs.start()
    if ctx["container"].settings.metrics_port:  # this worker's own metrics listener
        ctx["ops"] = Operations(ctx["container"], ctx["container"].jobs)
        ctx["ops"].start()


async def on_shutdown(ctx: dict[str, Any]) -> None:
    """Stop the container's runner; close the container if this worker built it."""
    if "ops" in ctx:
        ctx.pop("ops").stop()
    box = ctx.get("container")
    if box is not None:
        await box.jobs.stop()
    if ctx.pop("owns_container", False):
        box.close()


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
    """arq settings; `run_worker` fills in Redis, the sweep interval and packages' tasks."""

    functions = worker_functions(CORE_TASKS)
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
    configure_logging(settings)
    from kamidesk.bootstrap import build

    box = build(settings)  # built first: its registry names the functions this worker runs
    arq_run_worker(
        WorkerSettings,  # type: ignore[arg-type]
        functions=worker_functions([*CORE_TASKS, *box.jobs.tasks.names()]),
        ctx={"container": box, "owns_container": True},
        **worker_options(settings.redis_url, settings.sweep_interval_seconds),
    )
