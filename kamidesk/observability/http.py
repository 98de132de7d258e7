"""The HTTP side of operations: a request id per request, request metrics and logs, and the
`/healthz`, `/readyz` and `/metrics` routes.

`RequestObserver` (pure ASGI, so it adds no task or context copy) takes the caller's
`X-Request-ID` when it is a plain token of at most 64 characters, or makes one up, and echoes it
in the answer. After the answer it counts the request under its route *template*
(`/api/v1/orders/{order_no}`, never the raw path, so order numbers do not become label values)
and logs one line without the query string. An exception nothing else handled becomes a 500 in
the common error shape quoting the request id; it is logged with its type and stack frames but
without its message, which may carry customer data (as the job runners do).
"""

from __future__ import annotations

import hmac
import logging
import re
import time
import traceback
import uuid
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kamidesk.api.problems import error_body
from kamidesk.observability.health import OK
from kamidesk.observability.logs import order_no_var, request_id_var, scope_var
from kamidesk.observability.metrics import HTTP_LATENCY, HTTP_REQUESTS

log = logging.getLogger("kamidesk.http")

REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
PROBES = frozenset({"/healthz", "/readyz", "/metrics"})  # logged at DEBUG only: every few seconds


def route_of(scope: Scope) -> str:
    """The matched route's template, or `unmatched` (404s must not grow the label set)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class RequestObserver:
    """ASGI middleware: request id in and out, request metrics, one log line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get("x-request-id", "")
        request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        status = 500  # unless an answer starts: an exception became the server's 500

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        started = False
        tokens = (
            (request_id_var, request_id_var.set(request_id)),
            (order_no_var, order_no_var.set(None)),
            (scope_var, scope_var.set(scope)),
        )
        start = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            from kamidesk.jobs import describe_failure  # here: kamidesk.jobs imports our logs

            log.error(
                "unhandled %s on %s %s",
                describe_failure(exc),
                scope["method"],
                route_of(scope),
                extra={
                    "stack": "".join(
                        traceback.format_list(traceback.extract_tb(exc.__traceback__))
                    )
                },
            )
            if started:
                raise  # the answer is half sent: let the server drop the connection
            body = error_body(
                "internal_error", f"an unexpected error; quote request id {request_id}"
            )
            await JSONResponse(body, status_code=500)(scope, receive, send_with_id)
        finally:
            self._record(scope, status, time.perf_counter() - start)
            for var, token in reversed(tokens):
                var.reset(token)  # type: ignore[attr-defined]

    @staticmethod
    def _record(scope: Scope, status: int, seconds: float) -> None:
        method, route = scope["method"], route_of(scope)
        HTTP_REQUESTS.labels(method, route, str(status)).inc()
        HTTP_LATENCY.labels(method, route).observe(seconds)
        log.log(
            logging.DEBUG if route in PROBES else logging.INFO,
            "%s %s -> %d in %.1f ms",
            method,
            route,
            status,
            seconds * 1000,
            extra={
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 1),
            },
        )


router = APIRouter(tags=["ops"])


class HealthOut(BaseModel):
    status: str = Field(examples=["ok"])


class ReadyOut(BaseModel):
    status: str = Field(examples=["ready"])
    checks: dict[str, str] = Field(description="database, migrations, redis: ok or why not")


@router.get("/healthz")
async def healthz() -> HealthOut:
    """The process is up (it answers; nothing else is checked)."""
    return HealthOut(status="ok")


@router.get(
    "/readyz",
    response_model=ReadyOut,
    responses={503: {"description": "a check failed: `detail` and `checks` say which"}},
)
async def readyz(request: Request) -> Any:
    """Database reachable, migrations current, Redis reachable when configured."""
    checks = await request.app.state.ops.readiness.check()
    failed = {name: state for name, state in checks.items() if state not in (OK, "not configured")}
    if failed:
        detail = "; ".join(f"{name}: {state}" for name, state in failed.items())
        body = error_body("not_ready", detail, checks=checks)
        return JSONResponse(body, status_code=503)
    return {"status": "ready", "checks": checks}


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus exposition; only with METRICS_TOKEN as a bearer token (404 when unset)."""
    ops = request.app.state.ops
    expected = ops.settings.metrics_token
    if expected is None or not expected.get_secret_value():
        raise HTTPException(404, "Not Found")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.encode(), expected.get_secret_value().encode()
    ):
        raise HTTPException(
            401, "the metrics token is required", headers={"WWW-Authenticate": "Bearer"}
        )
    body = await run_in_threadpool(ops.exposition.render)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
