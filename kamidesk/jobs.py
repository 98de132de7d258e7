"""Background work: triggers that wake the fulfilment services, and a sweep that never forgets.

The database is the source of truth. A trigger (`trigger_delivery`, `trigger_refund`) only says
"look at this now"; the periodic sweep finds everything that is still owed straight from the
tables (`fulfilment.services.recovery.due_work`), so a lost trigger, a dead process or an
emptied queue delays work but never loses it.

Two runners share one `Jobs` protocol:
- `InProcessJobs`: the embedded default (no Redis). Work runs in a small thread pool next to
  the web app, plus a sweep task every `settings.sweep_interval_seconds`.
- `ArqJobs`: production. Triggers become arq jobs on Redis, run by `kamidesk worker`
  processes (`kamidesk.worker`); the worker's cron sweep re-enqueues whatever is due.

Errors:

    ValueError          a trigger with a malformed order number or refund id
    JobsNotRunning      (RuntimeError) a trigger before `start()` or after `stop()`

A failing job is logged (exception type and where it happened, never its message, which might
carry customer data) and never stops the runner; the sweep picks the work up again.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from pathlib import Path
from typing import Any, Protocol

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.constants import in_progress_key_prefix
from redis.exceptions import RedisError

from fulfilment.actors import Actor
from fulfilment.services.delivery import deliver_order
from fulfilment.services.payouts import resume_refund
from fulfilment.services.recovery import DueWork, due_work
from fulfilment.services.reissue import resume_reissue
from fulfilment.uow import UnitOfWork
from kamidesk.settings import Settings

log = logging.getLogger(__name__)

QUEUE_NAME = "kamidesk:queue"
DELIVER_JOB = "deliver_order"
REFUND_JOB = "push_refund"
REISSUE_JOB = "resume_reissue"
MAX_ORDER_NO = 64


class JobsNotRunning(RuntimeError):
    """A trigger arrived while the runner was not started (a wiring mistake)."""


class Jobs(Protocol):
    """Where the app and the services hand background work."""

    async def trigger_delivery(self, order_no: str) -> None: ...

    async def trigger_refund(self, refund_id: int) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Runtime(Protocol):
    """What a runner needs from the container (`kamidesk.bootstrap.Container`)."""

    settings: Settings

    def uow(self) -> UnitOfWork: ...


class Work(Protocol):
    """The synchronous work behind the jobs (the fulfilment services, or a fake in tests)."""

    def deliver(self, order_no: str) -> object: ...

    def refund(self, refund_id: int) -> object: ...

    def reissue(self, request_id: str) -> object: ...

    def due(self) -> DueWork: ...


class ServiceWork:
    """The real work: each call runs the fulfilment service in a fresh unit of work."""

    def __init__(self, runtime: Runtime, *, actor: Actor = Actor.system("jobs")) -> None:
        self._runtime = runtime
        self._actor = actor

    def deliver(self, order_no: str) -> object:
        """Deliver (or advance) whatever is still owed on the order."""
        return deliver_order(uow=self._runtime.uow(), order_no=order_no, actor=self._actor)

    def refund(self, refund_id: int) -> object:
        """Push a processing refund to the payment provider (again)."""
        return resume_refund(uow=self._runtime.uow(), refund_id=refund_id, actor=self._actor)

    def reissue(self, request_id: str) -> object:
        """Finish a reissue request left CHECKING (crash, or the supplier could not answer)."""
        return resume_reissue(uow=self._runtime.uow(), request_id=request_id, actor=self._actor)

    def due(self) -> DueWork:
        """Everything pending right now, read from the database."""
        return due_work(uow=self._runtime.uow())


def check_order_no(order_no: object) -> str:
    """The order number, or ValueError when it cannot be one."""
    if not isinstance(order_no, str) or not order_no.strip() or len(order_no) > MAX_ORDER_NO:
        raise ValueError(f"order_no must be a non-empty string of at most {MAX_ORDER_NO} chars")
    return order_no


def check_refund_id(refund_id: object) -> int:
    """The refund id, or ValueError when it cannot be one."""
    if isinstance(refund_id, bool) or not isinstance(refund_id, int) or refund_id <= 0:
        raise ValueError("refund_id must be a positive integer")
    return refund_id


def job_id(queue_name: str, kind: str, key: object) -> str:
    """arq job id for dedupe, e.g. `kamidesk:queue:deliver:KM123` (namespaced per queue)."""
    return f"{queue_name}:{kind}:{key}"


def describe_failure(exc: BaseException) -> str:
    """Exception type and the innermost frame; the message is left out on purpose."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return type(exc).__name__
    last = frames[-1]
    where = f"{Path(last.filename).parent.name}/{Path(last.filename).name}:{last.lineno}"
    return f"{type(exc).__name__} in {last.name} ({where})"


class InProcessJobs:
    """Runs triggered work in a bounded thread pool and sweeps the database periodically."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        work: Work | None = None,
        max_workers: int = 4,
        sweep_interval: float | None = None,
    ) -> None:
        self._work = work or ServiceWork(runtime)
        self._interval = (
            sweep_interval
            if sweep_interval is not None
            else runtime.settings.sweep_interval_seconds
        )
        if self._interval <= 0:
            raise ValueError("the sweep interval must be positive")
        self._max_workers = max_workers
        self._executor: ThreadPoolExecutor | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._running: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()  # triggered while running: run once more afterwards
        self._threads: set[Future[Any]] = set()  # calls running in the pool right now

    @property
    def busy(self) -> int:
        """Jobs running or waiting for a thread right now."""
        return len(self._running)

    async def start(self) -> None:
        """Start the thread pool and the periodic sweep (idempotent)."""
        if self._executor is not None:
            return
        self._executor = ThreadPoolExecutor(self._max_workers, thread_name_prefix="kamidesk-job")
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="kamidesk-sweep")

    async def stop(self, *, grace: float = 10.0) -> None:
        """Stop sweeping; give running jobs `grace` seconds, then drop them (the DB keeps them)."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
            self._sweeper = None
        self._again.clear()
        pending = list(self._running.values())
        if pending:
            _, late = await asyncio.wait(pending, timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        executor.shutdown(wait=False, cancel_futures=True)
        # A cancelled await does not stop its thread: let calls finish (their sessions close
        # before the owner disposes of the engine), but never wait past the grace period.
        if self._threads:
            await asyncio.to_thread(wait_futures, list(self._threads), grace)

    async def trigger_delivery(self, order_no: str) -> None:
        """Deliver the order soon; a trigger while it runs schedules one more pass."""
        order_no = check_order_no(order_no)
        self._submit(f"deliver:{order_no}", self._work.deliver, order_no, rerun=True)

    async def trigger_refund(self, refund_id: int) -> None:
        """Push the refund to the provider soon."""
        refund_id = check_refund_id(refund_id)
        self._submit(f"refund:{refund_id}", self._work.refund, refund_id, rerun=True)

    async def sweep_once(self) -> int:
        """Queue everything due now; returns how many items were found."""
        work = await self._in_thread(self._work.due)
        for order_no in work.orders:
            self._submit(f"deliver:{order_no}", self._work.deliver, order_no, rerun=False)
        for refund_id in work.refunds:
            self._submit(f"refund:{refund_id}", self._work.refund, refund_id, rerun=False)
        for request_id in work.reissues:
            self._submit(f"reissue:{request_id}", self._work.reissue, request_id, rerun=False)
        return len(work.orders) + len(work.refunds) + len(work.reissues)

    async def drain(self) -> None:
        """Wait until no job is running or queued (for tests and orderly shutdown)."""
        while self._running:
            await asyncio.gather(*list(self._running.values()), return_exceptions=True)

    def _submit(self, key: str, fn: Callable[[Any], object], arg: Any, *, rerun: bool) -> None:
        if self._executor is None:
            raise JobsNotRunning("start() the job runner before triggering work")
        if key in self._running:
            if rerun:
                self._again.add(key)
            return
        self._running[key] = asyncio.create_task(self._run(key, fn, arg), name=key)

    async def _run(self, key: str, fn: Callable[[Any], object], arg: Any) -> None:
        try:
            while True:
                self._again.discard(key)
                try:
                    await self._in_thread(fn, arg)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.error("job %s failed: %s", key, describe_failure(exc))
                if key not in self._again or self._executor is None:
                    return
        finally:
            self._running.pop(key, None)

    async def _in_thread(self, fn: Callable[..., Any], *args: Any) -> Any:
        if self._executor is None:
            raise JobsNotRunning("the job runner was stopped")
        future = self._executor.submit(fn, *args)
        self._threads.add(future)
        future.add_done_callback(self._threads.discard)
        return await asyncio.wrap_future(future)

    async def _sweep_forever(self) -> None:
        while True:
            try:
                found = await self.sweep_once()
                if found:
                    log.debug("sweep queued %d due item(s)", found)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.error("sweep failed: %s", describe_failure(exc))
            await asyncio.sleep(self._interval)


class ArqJobs:
    """Triggers as arq jobs on Redis; `kamidesk worker` processes run them."""

    def __init__(
        self,
        redis_settings: RedisSettings,
        *,
        queue_name: str = QUEUE_NAME,
        pool: ArqRedis | None = None,
    ) -> None:
        self._redis_settings = redis_settings
        self._queue = queue_name
        self._pool = pool
        self._owns_pool = pool is None

    async def start(self) -> None:
        """Connect to Redis (fails loudly when REDIS_URL is wrong: fail fast at start-up)."""
        if self._pool is None:
            self._pool = await create_pool(self._redis_settings, default_queue_name=self._queue)

    async def stop(self) -> None:
        """Close the Redis connection this runner opened."""
        pool, self._pool = self._pool, None
        if pool is not None and self._owns_pool:
            await pool.aclose()

    async def trigger_delivery(self, order_no: str) -> None:
        """Enqueue `deliver_order`; a job already queued for this order absorbs the trigger."""
        order_no = check_order_no(order_no)
        await self._enqueue(DELIVER_JOB, order_no, job_id(self._queue, "deliver", order_no))

    async def trigger_refund(self, refund_id: int) -> None:
        """Enqueue `push_refund` for a processing refund."""
        refund_id = check_refund_id(refund_id)
        await self._enqueue(REFUND_JOB, refund_id, job_id(self._queue, "refund", refund_id))

    async def _enqueue(self, function: str, arg: object, jid: str) -> None:
        if self._pool is None:
            raise JobsNotRunning("start() the job runner before triggering work")
        try:
            job = await self._pool.enqueue_job(function, arg, _job_id=jid, _queue_name=self._queue)
            if job is None and await self._pool.exists(in_progress_key_prefix + jid):
                # The running pass may have read the rows before this trigger's change (keys
                # just imported, say): queue one follow-up pass, deduplicated in turn.
                await self._pool.enqueue_job(
                    function, arg, _job_id=f"{jid}:again", _queue_name=self._queue
                )
        except (RedisError, OSError) as exc:
            # The row is in the database; the worker's sweep will find it without this trigger.
            log.warning("could not enqueue %s (the sweep will pick it up): %s", jid, exc)


def make_jobs(runtime: Runtime) -> Jobs:
    """ArqJobs when REDIS_URL is set, else the in-process runner (embedded default)."""
    url = runtime.settings.redis_url
    if url:
        return ArqJobs(RedisSettings.from_dsn(url))
    return InProcessJobs(runtime)
