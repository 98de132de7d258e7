"""The embedded default runner: tasks in a small thread pool next to the web app, and a periodic
sweep of every due source."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from typing import Any

from kamidesk.failures import describe_failure
from kamidesk.jobs.base import JobsNotRunning, Runner, Runtime

log = logging.getLogger("kamidesk.jobs")


class InProcessJobs(Runner):
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
