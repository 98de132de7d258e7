"""Background work: named tasks that run outside requests, and a sweep that never forgets.

The database is the source of truth. A trigger only says "look at this now"; the periodic sweep
asks every registered *due source* what is still owed, straight from the tables, so a lost
trigger, a dead process or an emptied queue delays work but never loses it.

Packages add work without editing this module:

    jobs.register_task("deliver_order", fn)   # fn(arg) -> object: sync, one JSON-able argument,
                                              # runs in a thread (or an arq worker)
    jobs.register_due("deliver_order", due)   # due() -> items owed now, one task run each
    await jobs.trigger("deliver_order", "KM1")
    jobs.trigger_threadsafe("dispatch_event", 42)   # from worker threads (on_commit hooks)

Two runners share the `Jobs` protocol:
- `InProcessJobs`: the embedded default (no Redis). Tasks run in a small thread pool next to
  the web app, plus a sweep task every `settings.sweep_interval_seconds`.
- `ArqJobs`: production. Triggers become arq jobs on Redis, run by `kamidesk worker` processes
  (`kamidesk.worker`), whose cron sweep asks the same due sources.

Errors:

    ValueError          a trigger of an unknown task, or with an argument the task refuses
    JobsNotRunning      (RuntimeError) a trigger before `start()` or after `stop()`

A failing task is logged (exception type and where it happened, never its message, which might
carry customer data) and never stops the runner; the sweep picks the work up again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass
from typing import Any, Protocol

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.constants import in_progress_key_prefix
from redis.exceptions import RedisError

from kamidesk.failures import describe_failure
from kamidesk.settings import Settings

log = logging.getLogger(__name__)

QUEUE_NAME = "kamidesk:queue"
DELIVER_JOB = "deliver_order"
REFUND_JOB = "push_refund"
REISSUE_JOB = "resume_reissue"
DISPATCH_JOB = "dispatch_event"
MAX_ORDER_NO = 64
ENQUEUE_WAIT = 5.0  # seconds a worker thread waits for its trigger to reach Redis

__all__ = ["describe_failure"]  # re-exported for the worker and the tests


class JobsNotRunning(RuntimeError):
    """A trigger arrived while the runner was not started (a wiring mistake)."""


def check_order_no(order_no: object) -> str:
    """The order number, or ValueError when it cannot be one."""
    if not isinstance(order_no, str) or not order_no.strip() or len(order_no) > MAX_ORDER_NO:
        raise ValueError(f"order_no must be a non-empty string of at most {MAX_ORDER_NO} chars")
    return order_no


def check_refund_id(refund_id: object) -> int:
    """The refund id, or ValueError when it cannot be one."""
    return _positive_id(refund_id, "refund_id")


def check_outbox_id(outbox_id: object) -> int:
    """The outbox row id, or ValueError when it cannot be one."""
    return _positive_id(outbox_id, "outbox_id")


def check_request_id(request_id: object) -> str:
    """A reissue request id, or ValueError."""
    if not isinstance(request_id, str) or not 0 < len(request_id) <= 80:
        raise ValueError("request_id must be a string of 1-80 characters")
    return request_id


def check_json(arg: object) -> object:
    """Any JSON-able argument (the default check of a registered task)."""
    try:
        json.dumps(arg)
    except (TypeError, ValueError):
        raise ValueError("a task argument must be JSON-able") from None
    return arg


def _positive_id(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer")
    return value


def job_id(queue_name: str, kind: str, key: object) -> str:
    """arq job id for dedupe, e.g. `kamidesk:queue:deliver:KM123` (namespaced per queue)."""
    return f"{queue_name}:{kind}:{key}"


@dataclass(frozen=True)
class TaskSpec:
    """How a task is named in job ids (`key`) and what argument it accepts (`check`)."""

    name: str
    key: str
    check: Callable[[Any], Any] = check_json

    def job_key(self, arg: Any) -> str:
        """`key:arg`: one pending run per task and argument."""
        text = arg if isinstance(arg, str | int) else json.dumps(arg, sort_keys=True)
        return f"{self.key}:{text}"


CORE_TASKS = {
    spec.name: spec
    for spec in (
        TaskSpec(DELIVER_JOB, "deliver", check_order_no),
        TaskSpec(REFUND_JOB, "refund", check_refund_id),
        TaskSpec(REISSUE_JOB, "reissue", check_request_id),
        TaskSpec(DISPATCH_JOB, "outbox", check_outbox_id),
    )
}


class TaskRegistry:
    """Named tasks and the due sources the sweep asks; shared by a runner and its worker."""

    def __init__(self) -> None:
        self._specs: dict[str, TaskSpec] = dict(CORE_TASKS)
        self._fns: dict[str, Callable[[Any], object]] = {}
        self._due: list[tuple[str, Callable[[], Iterable[tuple[str, Any]]]]] = []
        self._lock = threading.Lock()

    def register_task(
        self,
        name: str,
        fn: Callable[[Any], object],
        *,
        key: str | None = None,
        check: Callable[[Any], Any] | None = None,
    ) -> None:
        """Add a task; `key` names it in job ids (default: its name)."""
        with self._lock:
            if name in self._fns:
                raise ValueError(f"task {name!r} is registered already")
            if name not in self._specs:
                self._specs[name] = TaskSpec(name, key or name, check or check_json)
            self._fns[name] = fn

    def register_due(self, name: str, fn: Callable[[], Iterable[Any]]) -> None:
        """Add a due source: `fn()` returns the arguments of task `name` that are owed now."""
        self.spec(name)
        self.register_due_items(lambda: ((name, item) for item in fn()), label=name)

    def register_due_items(
        self, fn: Callable[[], Iterable[tuple[str, Any]]], *, label: str = "items"
    ) -> None:
        """Add a due source for several tasks at once: `fn()` returns (task, argument) pairs
        (one query for many kinds of work)."""
        with self._lock:
            self._due.append((label, fn))

    def spec(self, name: str) -> TaskSpec:
        """The task's spec; ValueError for an unknown task."""
        try:
            return self._specs[name]
        except KeyError:
            raise ValueError(f"unknown task {name!r}") from None

    def fn(self, name: str) -> Callable[[Any], object]:
        """The task's function; ValueError when none is registered in this process."""
        try:
            return self._fns[name]
        except KeyError:
            raise ValueError(f"no function registered for task {name!r}") from None

    def names(self) -> list[str]:
        """Every task with a function, in registration order."""
        return list(self._fns)

    def due(self) -> list[tuple[str, Any]]:
        """Everything owed now, as (task, argument); a failing source is logged and skipped."""
        found: list[tuple[str, Any]] = []
        for label, source in list(self._due):
            try:
                found.extend(source())
            except Exception as exc:
                log.error("sweep failed: %s (due source %s)", describe_failure(exc), label)
        return found


class Jobs(Protocol):
    """Where the app, the services' hooks and other packages hand background work."""

    tasks: TaskRegistry

    def register_task(
        self,
        name: str,
        fn: Callable[[Any], object],
        *,
        key: str | None = None,
        check: Callable[[Any], Any] | None = None,
    ) -> None: ...

    def register_due(self, name: str, fn: Callable[[], Iterable[Any]]) -> None: ...

    async def trigger(self, name: str, arg: Any) -> None: ...

    def trigger_threadsafe(self, name: str, arg: Any) -> None: ...

    async def trigger_delivery(self, order_no: str) -> None: ...

    async def trigger_refund(self, refund_id: int) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Runtime(Protocol):
    """What `make_jobs` needs: the settings."""

    settings: Settings


class _Runner:
    """What both runners share: the registry and the named triggers."""

    def __init__(self) -> None:
        self.tasks = TaskRegistry()
        self._loop: asyncio.AbstractEventLoop | None = None

    def register_task(
        self,
        name: str,
        fn: Callable[[Any], object],
        *,
        key: str | None = None,
        check: Callable[[Any], Any] | None = None,
    ) -> None:
        """Add a task (see `TaskRegistry.register_task`)."""
        self.tasks.register_task(name, fn, key=key, check=check)

    def register_due(self, name: str, fn: Callable[[], Iterable[Any]]) -> None:
        """Add a due source for the sweep (see `TaskRegistry.register_due`)."""
        self.tasks.register_due(name, fn)

    async def trigger(self, name: str, arg: Any) -> None:
        raise NotImplementedError

    async def trigger_delivery(self, order_no: str) -> None:
        """Deliver (or advance) the order soon."""
        await self.trigger(DELIVER_JOB, order_no)

    async def trigger_refund(self, refund_id: int) -> None:
        """Push the refund to the provider soon."""
        await self.trigger(REFUND_JOB, refund_id)

    def _in_loop_thread(self) -> bool:
        try:
            return asyncio.get_running_loop() is self._loop
        except RuntimeError:
            return False


class InProcessJobs(_Runner):
    """Runs triggered tasks in a bounded thread pool and sweeps the database periodically."""

    def __init__(
        self,
        runtime: Runtime | None = None,
        *,
        max_workers: int = 4,
        sweep_interval: float | None = None,
    ) -> None:
        super().__init__()
        if sweep_interval is None:
            sweep_interval = runtime.settings.sweep_interval_seconds if runtime else 2.0
        if sweep_interval <= 0:
            raise ValueError("the sweep interval must be positive")
        self._interval = sweep_interval
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
        self._loop = asyncio.get_running_loop()
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

    async def trigger(self, name: str, arg: Any) -> None:
        """Run task `name` soon; a trigger while it runs for `arg` schedules one more pass."""
        key, fn, arg = self._resolve(name, arg)
        self._submit(key, fn, arg, rerun=True)

    def trigger_threadsafe(self, name: str, arg: Any) -> None:
        """`trigger` from any thread (returns at once; the task runs in the pool)."""
        key, fn, arg = self._resolve(name, arg)
        loop = self._loop
        if self._executor is None or loop is None or loop.is_closed():
            raise JobsNotRunning("start() the job runner before triggering work")
        if self._in_loop_thread():
            self._submit(key, fn, arg, rerun=True)
        else:
            loop.call_soon_threadsafe(self._submit_quietly, key, fn, arg)

    async def sweep_once(self) -> int:
        """Queue everything due now; returns how many items were found."""
        items = await self._in_thread(self.tasks.due)
        for name, arg in items:
            try:
                key, fn, arg = self._resolve(name, arg)
            except ValueError as exc:
                log.error("sweep skipped an item of %s: %s", name, describe_failure(exc))
                continue
            self._submit(key, fn, arg, rerun=False)
        return len(items)

    async def drain(self) -> None:
        """Wait until no job is running or queued (for tests and orderly shutdown)."""
        while self._running:
            await asyncio.gather(*list(self._running.values()), return_exceptions=True)

    def _resolve(self, name: str, arg: Any) -> tuple[str, Callable[[Any], object], Any]:
        spec = self.tasks.spec(name)
        arg = spec.check(arg)
        return spec.job_key(arg), self.tasks.fn(name), arg

    def _submit_quietly(self, key: str, fn: Callable[[Any], object], arg: Any) -> None:
        try:
            self._submit(key, fn, arg, rerun=True)
        except JobsNotRunning:
            log.warning("trigger %s arrived after stop; the sweep will pick it up", key)

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


class ArqJobs(_Runner):
    """Triggers as arq jobs on Redis; `kamidesk worker` processes run them."""

    def __init__(
        self,
        redis_settings: RedisSettings,
        *,
        queue_name: str = QUEUE_NAME,
        pool: ArqRedis | None = None,
    ) -> None:
        super().__init__()
        self._redis_settings = redis_settings
        self.queue_name = queue_name
        self._pool = pool
        self._owns_pool = pool is None
        self._pending: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Connect to Redis (fails loudly when REDIS_URL is wrong: fail fast at start-up)."""
        self._loop = asyncio.get_running_loop()
        if self._pool is None:
            pool = await create_pool(self._redis_settings, default_queue_name=self.queue_name)
            if self._pool is None:
                self._pool = pool
            else:  # started twice at once (two workers sharing a container)
                await pool.aclose()

    async def stop(self) -> None:
        """Close the Redis connection this runner opened."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        pool = self._pool
        if self._owns_pool:
            self._pool = None
            if pool is not None:
                await pool.aclose()
        self._loop = None

    async def trigger(self, name: str, arg: Any) -> None:
        """Enqueue task `name`; a job already queued for the same argument absorbs it."""
        spec = self.tasks.spec(name)
        arg = spec.check(arg)
        await self._enqueue(name, arg, job_id(self.queue_name, spec.key, arg))

    def trigger_threadsafe(self, name: str, arg: Any) -> None:
        """`trigger` from any thread; a worker thread waits (briefly) until it is enqueued."""
        spec = self.tasks.spec(name)
        arg = spec.check(arg)
        loop = self._loop
        if self._pool is None or loop is None or loop.is_closed():
            raise JobsNotRunning("start() the job runner before triggering work")
        enqueue = self._enqueue(name, arg, job_id(self.queue_name, spec.key, arg))
        if self._in_loop_thread():
            task = loop.create_task(enqueue)
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)
            return
        future = asyncio.run_coroutine_threadsafe(enqueue, loop)
        try:
            future.result(timeout=ENQUEUE_WAIT)
        except TimeoutError:
            log.warning(
                "trigger %s:%s is slow to reach Redis; the sweep will pick it up", name, arg
            )

    async def _enqueue(self, function: str, arg: object, jid: str) -> None:
        if self._pool is None:
            raise JobsNotRunning("start() the job runner before triggering work")
        try:
            job = await self._pool.enqueue_job(
                function, arg, _job_id=jid, _queue_name=self.queue_name
            )
            if job is None and await self._pool.exists(in_progress_key_prefix + jid):
                # The running pass may have read the rows before this trigger's change (keys
                # just imported, say): queue one follow-up pass, deduplicated in turn.
                await self._pool.enqueue_job(
                    function, arg, _job_id=f"{jid}:again", _queue_name=self.queue_name
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
