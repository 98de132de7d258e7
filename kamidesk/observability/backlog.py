"""Backlog gauges, read from the database at scrape time (so any process reports the truth).

`kamidesk_backlog{kind}` and `kamidesk_backlog_oldest_seconds{kind}`: paid orders not yet
delivered, refunds being paid out, reissue requests being checked; `kamidesk_open_alerts{kind}`;
`kamidesk_jobs_queued` (arq's queue, or the in-process runner's jobs). More kinds (an outbox)
plug in as `sources`: name -> callable returning how many are waiting.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from fulfilment.models import (
    Alert,
    Order,
    OrderStatus,
    Refund,
    RefundStatus,
    ReissueRequest,
    ReissueStatus,
)

log = logging.getLogger(__name__)

OWED = (
    ("orders", Order.status, (OrderStatus.PAID, OrderStatus.DELIVERING), Order.paid_at),
    ("refunds", Refund.status, (RefundStatus.PROCESSING,), Refund.created_at),
    ("reissues", ReissueRequest.status, (ReissueStatus.CHECKING,), ReissueRequest.created_at),
)


class BacklogCollector(Collector):
    """Work owed right now, read from the database at scrape time."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        queued: Callable[[], int | None] = lambda: None,
        sources: Mapping[str, Callable[[], int]] | None = None,
    ) -> None:
        self._sessions = session_factory
        self._queued = queued
        self._sources = dict(sources or {})

    def collect(self) -> Iterable[Metric]:
        # A database or Redis that does not answer must not cost the scrape its other metrics:
        # `kamidesk_backlog_readable` says whether these numbers could be read.
        readable = GaugeMetricFamily(
            "kamidesk_backlog_readable", "1 when the backlog could be read", labels=["source"]
        )
        try:
            families = self._from_database()
            readable.add_metric(["database"], 1)
            yield from families
        except Exception as exc:
            log.warning("backlog metrics unreadable: %s", type(exc).__name__)
            readable.add_metric(["database"], 0)
        try:
            queued = self._queued()
            readable.add_metric(["queue"], 1)
        except Exception as exc:
            log.warning("job queue length unreadable: %s", type(exc).__name__)
            queued = None
            readable.add_metric(["queue"], 0)
        if queued is not None:
            jobs = GaugeMetricFamily("kamidesk_jobs_queued", "Background jobs waiting or running")
            jobs.add_metric([], queued)
            yield jobs
        yield readable

    def _from_database(self) -> list[Metric]:
        owed = GaugeMetricFamily("kamidesk_backlog", "Work owed now", labels=["kind"])
        oldest = GaugeMetricFamily(
            "kamidesk_backlog_oldest_seconds", "Age of the oldest owed item", labels=["kind"]
        )
        alerts = GaugeMetricFamily("kamidesk_open_alerts", "Unresolved alerts", labels=["kind"])
        with self._sessions() as session:
            now = time.time()
            for kind, status, statuses, since in OWED:
                count, first = session.execute(
                    select(func.count(), func.min(since)).where(status.in_(statuses))
                ).one()
                owed.add_metric([kind], count)
                oldest.add_metric([kind], max(0.0, now - first.timestamp()) if first else 0.0)
            unresolved = (
                select(Alert.kind, func.count())
                .where(Alert.resolved_at.is_(None))
                .group_by(Alert.kind)
            )
            for kind, count in session.execute(unresolved):
                alerts.add_metric([kind], count)
        for kind, count_of in self._sources.items():
            owed.add_metric([kind], count_of())
        return [owed, oldest, alerts]
