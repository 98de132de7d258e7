"""Prometheus metrics (prometheus-client), measured at the edges; the core imports none of this.

- HTTP: requests by method, route template and status, with a latency histogram
  (`kamidesk.observability.http`).
- Supplier and payment calls by supplier, operation and outcome (the port's own answer:
  accepted, success, failed, unknown...), with latency: `MeteredSupplier` and `MeteredPayments`
  wrap the HTTP adapters in `kamidesk.bootstrap`.
- Deliveries and failed ownership proofs: counted when a transaction that inserted them commits
  (`count_commits`, SQLAlchemy session events installed by `kamidesk.bootstrap`), whichever
  process or service did it.
- Backlog, read from the database at scrape time (`kamidesk.observability.backlog`).

Processes: each process (the API, every `kamidesk worker`) counts its own and is scraped on its
own (per-process exposition: `/metrics` on the API port with `METRICS_TOKEN`, or a separate
`METRICS_PORT`). When one host runs several API processes behind one port (`uvicorn --workers`,
gunicorn), set `PROMETHEUS_MULTIPROC_DIR` to an empty directory for all of them: prometheus-client
then keeps the counters in shared files and every scrape adds up all processes. There are no
live gauges here (the backlog is computed by whoever is scraped), so no per-process cleanup.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import Metric
from prometheus_client.registry import REGISTRY, Collector
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from fulfilment.models import Delivery, OwnershipAttempt

T = TypeVar("T")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

HTTP_REQUESTS = Counter(
    "kamidesk_http_requests", "HTTP requests answered", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "kamidesk_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
DELIVERIES = Counter(
    "kamidesk_deliveries", "Order units delivered (a card key or a top-up)", ["kind"]
)
OWNERSHIP_FAILURES = Counter(
    "kamidesk_ownership_failures",
    "Refused proofs of order ownership (wrong_proof, or throttled: refused unchecked)",
    ["reason"],
)
SUPPLIER_CALLS = Counter(
    "kamidesk_supplier_calls", "Calls to suppliers", ["supplier", "operation", "outcome"]
)
SUPPLIER_LATENCY = Histogram(
    "kamidesk_supplier_call_duration_seconds",
    "Time a supplier took to answer",
    ["supplier", "operation"],
    buckets=LATENCY_BUCKETS,
)
PAYMENT_CALLS = Counter(
    "kamidesk_payment_calls", "Calls to the payment provider", ["operation", "outcome"]
)
PAYMENT_LATENCY = Histogram(
    "kamidesk_payment_call_duration_seconds",
    "Time the payment provider took to answer",
    ["operation"],
    buckets=LATENCY_BUCKETS,
)


def _timed(
    fn: Callable[[], T],
    outcome_of: Callable[[T], object],
    count: Callable[[str], None],
    observe: Callable[[float], None],
) -> T:
    start, outcome = time.perf_counter(), "error"  # an adapter raising is a bug, still counted
    try:
        result = fn()
        outcome = str(outcome_of(result))
        return result
    finally:
        observe(time.perf_counter() - start)
        count(outcome)


class MeteredSupplier:
    """A `fulfilment.ports.SupplierClient` that counts and times every call of `inner`."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.code: str = inner.code

    def _call(self, operation: str, fn: Callable[[], T], outcome_of: Callable[[T], object]) -> T:
        return _timed(
            fn,
            outcome_of,
            lambda outcome: SUPPLIER_CALLS.labels(self.code, operation, outcome).inc(),
            SUPPLIER_LATENCY.labels(self.code, operation).observe,
        )

    def submit_topup(self, **kwargs: Any) -> Any:
        """As the inner client; counted as `submit`."""
        return self._call("submit", lambda: self._inner.submit_topup(**kwargs), _outcome)

    def query_topup(self, **kwargs: Any) -> Any:
        """As the inner client; counted as `query`."""
        return self._call("query", lambda: self._inner.query_topup(**kwargs), _outcome)

    def check_key(self, **kwargs: Any) -> Any:
        """As the inner client; counted as `check_key`."""
        return self._call("check_key", lambda: self._inner.check_key(**kwargs), _status)

    def parse_callback(self, params: Any) -> Any:
        """No call goes out: passed through."""
        return self._inner.parse_callback(params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class MeteredPayments:
    """A `fulfilment.ports.PaymentProvider` that counts and times every call of `inner`."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def _call(self, operation: str, fn: Callable[[], T], outcome_of: Callable[[T], object]) -> T:
        return _timed(
            fn,
            outcome_of,
            lambda outcome: PAYMENT_CALLS.labels(operation, outcome).inc(),
            PAYMENT_LATENCY.labels(operation).observe,
        )

    def query_payment(self, **kwargs: Any) -> Any:
        """As the inner provider; counted as `query`."""
        return self._call("query", lambda: self._inner.query_payment(**kwargs), _status)

    def refund(self, **kwargs: Any) -> Any:
        """As the inner provider; counted as `refund`."""
        return self._call("refund", lambda: self._inner.refund(**kwargs), _outcome)

    def create_payment(self, **kwargs: Any) -> Any:
        """As the inner provider; counted as `create` (ok / refused)."""
        return self._call(
            "create",
            lambda: self._inner.create_payment(**kwargs),
            lambda r: "ok" if r.ok else "refused",
        )

    def parse_callback(self, params: Any) -> Any:
        """No call goes out: passed through."""
        return self._inner.parse_callback(params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _outcome(result: Any) -> object:
    return getattr(result.outcome, "value", result.outcome)


def _status(result: Any) -> object:
    return getattr(result.status, "value", result.status)


PENDING = "kamidesk_metrics_pending"


def count_commits(session_factory: sessionmaker[Session]) -> None:
    """Count deliveries and failed ownership proofs when the transaction inserting them commits."""
    if event.contains(session_factory, "after_flush", _collect):
        return
    event.listen(session_factory, "after_flush", _collect)
    event.listen(session_factory, "after_commit", _count)
    event.listen(session_factory, "after_rollback", _forget)


def _collect(session: Session, _context: object) -> None:
    pending = session.info.setdefault(PENDING, [])
    for obj in session.new:
        if isinstance(obj, Delivery):
            pending.append("topup" if obj.card_key_id is None else "card_key")
        elif isinstance(obj, OwnershipAttempt):
            # `throttled`: refused unchecked while the order number was being guessed.
            throttled = getattr(obj, "throttled", False)
            pending.append("ownership:throttled" if throttled else "ownership:wrong_proof")


def _count(session: Session) -> None:
    for kind in session.info.pop(PENDING, ()):
        if kind.startswith("ownership:"):
            OWNERSHIP_FAILURES.labels(kind.removeprefix("ownership:")).inc()
        else:
            DELIVERIES.labels(kind).inc()


def _forget(session: Session) -> None:
    session.info.pop(PENDING, None)


class Exposition:
    """What one scrape returns: this process (or all, in multiprocess mode) plus `extra`."""

    def __init__(self, *extra: Collector) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            multiprocess.MultiProcessCollector(self.registry)
        else:
            self.registry.register(_Everything(REGISTRY))
        for collector in extra:
            self.registry.register(collector)

    def render(self) -> bytes:
        """The text exposition format (blocking: the backlog reads the database)."""
        return generate_latest(self.registry)


class _Everything(Collector):
    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterator[Metric]:
        yield from self._registry.collect()
