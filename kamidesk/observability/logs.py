"""Logs: one JSON object per line in production, readable lines in the demo.

Every record carries the request id (`X-Request-ID`, taken from the caller or made up) and the
order number when there is one: a route's `{order_no}`, an order being taken in, a job working
on an order. Context lives in context variables, so it follows a request into
`run_in_threadpool` and a job into its thread.

Nothing here logs a card key, a token or a password: the services mask keys themselves, and as
a last guard every configured secret (tokens, payment and supplier secrets, the key-encryption
key, database and Redis passwords) is replaced by `***` in the formatted line.

    configure_logging(settings)              # kamidesk serve / worker / the uvicorn factory
    with log_context(order_no="KM1"): ...     # a job on one order
    bind_order("KM1")                         # inside a request: for the rest of it
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal

from pythonjsonlogger.json import JsonFormatter
from sqlalchemy.engine import make_url

from kamidesk.settings import Settings

request_id_var: ContextVar[str | None] = ContextVar("kamidesk_request_id", default=None)
order_no_var: ContextVar[str | None] = ContextVar("kamidesk_order_no", default=None)
# The ASGI scope of the current request: its path parameters exist only after routing.
scope_var: ContextVar[Mapping[str, Any] | None] = ContextVar("kamidesk_scope", default=None)

MIN_SECRET = 8  # shorter "secrets" would blank out ordinary words
QUIET_LOGGERS = ("httpx", "httpcore", "uvicorn.access")  # request lines: our middleware logs them


@contextmanager
def log_context(*, request_id: str | None = None, order_no: str | None = None) -> Iterator[None]:
    """Records logged inside carry these (a job on one order, a request)."""
    tokens = []
    if request_id is not None:
        tokens.append((request_id_var, request_id_var.set(request_id)))
    if order_no is not None:
        tokens.append((order_no_var, order_no_var.set(order_no)))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def bind_order(order_no: str | None) -> None:
    """The rest of this request (or task) is about `order_no` (reset by the request middleware)."""
    if order_no:
        order_no_var.set(order_no[:64])


def current_order_no() -> str | None:
    """The order number of the current request or job, if any."""
    bound = order_no_var.get()
    if bound:
        return bound
    scope = scope_var.get()
    params = scope.get("path_params") if scope is not None else None
    value = params.get("order_no") if isinstance(params, Mapping) else None
    return str(value)[:64] if value else None


class ContextFilter(logging.Filter):
    """Adds `request_id` and `order_no` to every record a handler emits."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = getattr(record, "request_id", None) or request_id_var.get()
        record.order_no = getattr(record, "order_no", None) or current_order_no()
        return True


class Redactor:
    """Replaces known secret values in formatted lines with `***`."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        forms = set()
        for secret in secrets:
            if secret and len(secret) >= MIN_SECRET:
                forms.add(secret)
                forms.add(json.dumps(secret)[1:-1])  # as it appears inside a JSON string
        self._forms = sorted(forms, key=len, reverse=True)

    def __call__(self, line: str) -> str:
        for form in self._forms:
            line = line.replace(form, "***")
        return line


class JsonLines(JsonFormatter):
    """One JSON object per record: time, level, logger, message, request_id, order_no, extras."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__(
            "{asctime}{levelname}{name}{message}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
        self._redact = redact

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """ISO 8601 in UTC with milliseconds."""
        from datetime import UTC, datetime

        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        """Leave out absent context (no order, no request) and uvicorn's colour codes."""
        return {k: v for k, v in log_data.items() if v is not None and k != "color_message"}

    def format(self, record: logging.LogRecord) -> str:
        return self._redact(super().format(record))


class ConsoleLines(logging.Formatter):
    """`12:00:01 INFO kamidesk.jobs [req=ab12 order=KM1] message` for people (the demo)."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(context)s %(message)s", "%H:%M:%S")
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        parts = [
            f"{label}={value}"
            for label, value in (
                ("req", getattr(record, "request_id", None)),
                ("order", getattr(record, "order_no", None)),
            )
            if value
        ]
        record.context = f" [{' '.join(parts)}]" if parts else ""
        return self._redact(super().format(record))


def secrets_of(settings: Settings) -> list[str]:
    """Every secret value in the settings (what must never appear in a log line)."""
    values = [
        settings.key_encryption_key,
        settings.shop_api_token,
        settings.staff_api_token,
        settings.payment_secret,
        settings.rasa_token,
        settings.metrics_token,
        *(s.secret for s in settings.suppliers),
    ]
    found = [v.get_secret_value() for v in values if v is not None]
    for url in (settings.database_url, settings.redis_url):
        try:
            password = make_url(url).password if url else None
        except Exception:  # not a URL SQLAlchemy reads (e.g. redis://:pw@host): try by hand
            password = url.split("@", 1)[0].rsplit(":", 1)[-1] if url and "@" in url else None
        if password:
            found.append(str(password))
    return found


def configure_logging(
    settings: Settings,
    *,
    fmt: Literal["json", "console"] | None = None,
    stream: Any = None,
) -> logging.Handler:
    """Send every record (uvicorn's and arq's too) through one handler on the root logger."""
    redact = Redactor(secrets_of(settings))
    chosen = fmt or settings.log_format
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLines(redact) if chosen == "json" else ConsoleLines(redact))
    handler.addFilter(ContextFilter())
    handler.kamidesk = True  # type: ignore[attr-defined]
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "kamidesk", False)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "arq"):
        logger = logging.getLogger(name)
        logger.handlers.clear()  # uvicorn installs its own plain-text handlers
        logger.propagate = True
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler
