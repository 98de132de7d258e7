"""The production runner: triggers become arq jobs on Redis, run by `kamidesk worker` processes."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.constants import in_progress_key_prefix
from redis.exceptions import RedisError

from kamidesk.jobs.base import JobsNotRunning, Runner
from kamidesk.jobs.registry import job_id

log = logging.getLogger("kamidesk.jobs")

QUEUE_NAME = "kamidesk:queue"
ENQUEUE_WAIT = 5.0  # seconds a worker thread waits for its trigger to reach Redis


class ArqJobs(Runner):
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
