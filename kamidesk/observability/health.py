"""Readiness: can this process do its work right now?

`/healthz` says only that the process answers (a restart would not help otherwise).
`/readyz` checks what requests need: the database answers, its schema is at this code's
migration heads (`kamidesk db upgrade` has run), and Redis answers when it is configured. A
failed check names itself and the kind of failure (an exception type, never its message, which
may carry a host or a user name).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from kamidesk.db import alembic_config

CHECK_TIMEOUT = 3.0
OK = "ok"
VERSION_TABLE = "alembic_version"


@dataclass
class Readiness:
    """The checks of one process (`check()` runs them all, concurrently, each with a timeout)."""

    engine: Engine
    redis_url: str | None = None
    timeout: float = CHECK_TIMEOUT
    _heads: frozenset[str] | None = field(default=None, repr=False)

    def expected_heads(self) -> frozenset[str]:
        """The newest revision of every migration branch this code ships."""
        if self._heads is None:
            script = ScriptDirectory.from_config(alembic_config(str(self.engine.url)))
            self._heads = frozenset(script.get_heads())
        return self._heads

    async def check(self) -> dict[str, str]:
        """`{"database": "ok", "migrations": "ok", "redis": "ok" | "not configured"}`."""
        checks: dict[str, Callable[[], Awaitable[str]]] = {
            "database": lambda: asyncio.to_thread(self._database),
            "migrations": lambda: asyncio.to_thread(self._migrations),
        }
        if self.redis_url:
            checks["redis"] = self._redis
        results = await asyncio.gather(*(self._bounded(run) for run in checks.values()))
        answers = dict(zip(checks, results, strict=True))
        if not self.redis_url:
            answers["redis"] = "not configured"
        return answers

    async def _bounded(self, run: Callable[[], Awaitable[str]]) -> str:
        try:
            return await asyncio.wait_for(run(), self.timeout)
        except TimeoutError:
            return f"no answer within {self.timeout:g}s"
        except Exception as exc:
            return f"unreachable ({type(exc).__name__})"

    def _database(self) -> str:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return OK

    def _migrations(self) -> str:
        # Read alembic's table directly: a MigrationContext logs two lines per probe.
        with self.engine.connect() as conn:
            if not inspect(conn).has_table(VERSION_TABLE):
                current: frozenset[str] = frozenset()
            else:
                rows = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
                current = frozenset(row[0] for row in rows)
        expected = self.expected_heads()
        if current == expected:
            return OK
        missing = sorted(expected - current)
        return f"not current (missing {', '.join(missing) or 'none'}; run kamidesk db upgrade)"

    async def _redis(self) -> str:
        from redis.asyncio import Redis

        client = Redis.from_url(
            self.redis_url or "", socket_connect_timeout=self.timeout, socket_timeout=self.timeout
        )
        try:
            await client.ping()
        finally:
            await client.aclose()
        return OK
