"""Asynchronous signed notifications with retries, as real providers send them.

A notification is a form POST to the merchant's `notify_url`. The merchant acknowledges by
answering HTTP 200 with the body `success` (case-insensitive, surrounding blanks ignored);
anything else — another body, a non-200 status, a connection error — counts as a failed attempt
and is retried after `backoff * 2**attempt` seconds, up to `attempts` tries in all.
Every attempt is recorded so tests can see what was sent and how it was answered.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

log = logging.getLogger(__name__)


@dataclass
class Delivery:
    """One notification and its attempts."""

    url: str
    params: dict[str, str]
    attempts: list[str] = field(default_factory=list)  # "200 success", "500 ...", "error ..."
    acknowledged: bool = False
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def as_json(self) -> dict[str, object]:
        """A JSON-friendly view for the admin endpoints."""
        return {
            "url": self.url,
            "params": self.params,
            "attempts": self.attempts,
            "acknowledged": self.acknowledged,
            "created_at": self.created_at,
        }


class Notifier:
    """Sends notifications in background tasks of the running event loop."""

    def __init__(self, *, timeout: float = 5.0) -> None:
        self._timeout = timeout
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.deliveries: list[Delivery] = []

    def send(self, url: str, params: dict[str, str], *, attempts: int, backoff: float) -> None:
        """Start delivering `params` to `url` in the background."""
        delivery = Delivery(url=url, params=dict(params))
        self.deliveries.append(delivery)
        task = asyncio.get_running_loop().create_task(self._deliver(delivery, attempts, backoff))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, delivery: Delivery, attempts: int, backoff: float) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout, trust_env=False)
        for attempt in range(max(1, attempts)):
            if attempt:
                await asyncio.sleep(backoff * 2 ** (attempt - 1))
            try:
                response = await self._client.post(delivery.url, data=delivery.params)
            except httpx.HTTPError as exc:
                delivery.attempts.append(f"error {type(exc).__name__}")
                continue
            body = response.text.strip()
            delivery.attempts.append(f"{response.status_code} {body[:60]}")
            if response.status_code == 200 and body.lower() == "success":
                delivery.acknowledged = True
                return
        log.info("notification to %s not acknowledged after %d attempts", delivery.url, attempts)

    async def idle(self, timeout: float = 5.0) -> None:
        """Wait until every pending notification has finished (for tests and shutdown)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def reset(self) -> None:
        """Cancel pending notifications and forget the log."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=2)
        self.deliveries.clear()

    async def aclose(self) -> None:
        """Cancel pending work and close the HTTP client."""
        await self.reset()
        if self._client is not None:
            await self._client.aclose()
            self._client = None
