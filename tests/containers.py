"""Containers for tests, built by `kamidesk.bootstrap.build` with test parts.

`RecordingJobs` is the job runner of most tests: it runs nothing on its own and records every
trigger, except the tasks it is told to run at once (by default the dispatch of recorded events,
so subscribers — alerts, the safety-stock pause, waking waiting orders — have run when a service
call returns, as they had before they were subscribers). The test decides when other work runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pydantic import SecretStr

from kamidesk.bootstrap import Container, build
from kamidesk.jobs import DELIVER_JOB, DISPATCH_JOB, REFUND_JOB, TaskRegistry
from kamidesk.settings import Settings

SHOP_TOKEN = "shop-token-for-tests"
STAFF_TOKEN = "staff-token-for-tests"


def settings_for_tests(**values: Any) -> Settings:
    """Demo-mode settings with known tokens, never read from the environment or `.env`."""
    values.setdefault("demo_mode", True)
    values.setdefault("shop_api_token", SecretStr(SHOP_TOKEN))
    values.setdefault("staff_api_token", SecretStr(STAFF_TOKEN))
    values.setdefault("sweep_interval_seconds", 0.05)
    return Settings(_env_file=None, **values)


class RecordingJobs:
    """A job runner that records triggers and runs only the `inline` tasks, at once."""

    def __init__(self, inline: Iterable[str] = (DISPATCH_JOB,)) -> None:
        self.tasks = TaskRegistry()
        self.inline = set(inline)
        self.triggered: list[tuple[str, Any]] = []

    @property
    def deliveries(self) -> list[str]:
        return [arg for name, arg in self.triggered if name == DELIVER_JOB]

    @property
    def refunds(self) -> list[int]:
        return [arg for name, arg in self.triggered if name == REFUND_JOB]

    def register_task(
        self,
        name: str,
        fn: Callable[[Any], object],
        *,
        key: str | None = None,
        check: Callable[[Any], Any] | None = None,
    ) -> None:
        self.tasks.register_task(name, fn, key=key, check=check)

    def register_due(self, name: str, fn: Callable[[], Iterable[Any]]) -> None:
        self.tasks.register_due(name, fn)

    def trigger_threadsafe(self, name: str, arg: Any) -> None:
        arg = self.tasks.spec(name).check(arg)
        if name in self.inline:
            self.tasks.fn(name)(arg)
        else:
            self.triggered.append((name, arg))

    async def trigger(self, name: str, arg: Any) -> None:
        self.trigger_threadsafe(name, arg)

    async def trigger_delivery(self, order_no: str) -> None:
        await self.trigger(DELIVER_JOB, order_no)

    async def trigger_refund(self, refund_id: int) -> None:
        await self.trigger(REFUND_JOB, refund_id)

    def run_due(self) -> int:
        """Run every due item now, as a sweep would; returns how many ran."""
        items = self.tasks.due()
        for name, arg in items:
            self.tasks.fn(name)(arg)
        return len(items)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


def make_container(settings: Settings | None = None, **parts: Any) -> Container:
    """`build` with test settings and the given parts (jobs default to `RecordingJobs`)."""
    parts.setdefault("jobs", RecordingJobs())
    return build(settings or settings_for_tests(), **parts)
