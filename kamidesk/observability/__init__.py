"""Operations: health and readiness, Prometheus metrics, structured logs (README "Operations").

    install(app)                      # middleware and the /healthz, /readyz, /metrics routes
    ops = Operations(container, jobs) # per process, at start-up: readiness, scrape, metrics port
    ops.start(); ...; ops.stop()

Modules: `logs` (JSON/console lines with request id and order number), `metrics` (what is
counted, and where), `health` (readiness checks), `http` (middleware and routes).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any, Protocol

from fastapi import FastAPI
from prometheus_client import start_http_server
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from kamidesk.observability.backlog import BacklogCollector
from kamidesk.observability.health import Readiness
from kamidesk.observability.http import RequestObserver, router
from kamidesk.observability.logs import bind_order, configure_logging, log_context
from kamidesk.observability.metrics import Exposition
from kamidesk.settings import Settings

__all__ = ["Operations", "bind_order", "configure_logging", "install", "log_context"]

log = logging.getLogger(__name__)


class Runtime(Protocol):
    """What operations need from the container (`kamidesk.bootstrap.Container`)."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]


def install(app: FastAPI) -> None:
    """Request ids, request metrics and logs, and the ops routes (add it last: outermost)."""
    app.add_middleware(RequestObserver)
    app.include_router(router)


class Operations:
    """One process's readiness checks, metrics exposition and optional metrics listener."""

    def __init__(self, runtime: Runtime, jobs: object | None = None) -> None:
        self.settings = runtime.settings
        self.readiness = Readiness(runtime.engine, runtime.settings.redis_url)
        self._redis: Any = None
        # Events not yet handled by every subscriber (the outbox), when the runtime has a bus.
        bus = getattr(runtime, "bus", None)
        sources = {"events": bus.backlog} if bus is not None else {}
        self.backlog = BacklogCollector(
            runtime.session_factory, self._queue_depth(jobs), sources=sources
        )
        self.exposition = Exposition(self.backlog)
        self._server: Any = None

    def _queue_depth(self, jobs: object | None) -> Callable[[], int | None]:
        url = self.settings.redis_url
        if url:
            from redis import Redis

            from kamidesk.jobs import QUEUE_NAME

            self._redis = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
            return lambda: int(self._redis.zcard(QUEUE_NAME))
        busy = getattr(jobs, "busy", None)
        if busy is None:
            return lambda: None
        return lambda: int(getattr(jobs, "busy", 0))

    def start(self) -> None:
        """Open the separate metrics listener when METRICS_PORT is set."""
        port = self.settings.metrics_port
        if port and self._server is None:
            host = self.settings.metrics_host
            try:
                self._server, _ = start_http_server(
                    port, addr=host, registry=self.exposition.registry
                )
            except OSError:
                if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
                    raise
                # Several processes, one port: the first serves everyone's (shared) counters.
                log.info("metrics port %d is served by another process", port)
                return
            log.info("metrics on http://%s:%d/metrics", host, port)

    def stop(self) -> None:
        """Close the metrics listener and the Redis connection."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._redis is not None:
            self._redis.close()
            self._redis = None
