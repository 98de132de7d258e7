"""What both job runners share: the `Jobs` protocol, the registry-backed named triggers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from kamidesk.jobs.registry import DELIVER_JOB, REFUND_JOB, TaskRegistry
from kamidesk.settings import Settings


class JobsNotRunning(RuntimeError):
    """A trigger arrived while the runner was not started (a wiring mistake)."""


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


class Runner:
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
