"""Dispatch of recorded events to subscribers, from the outbox table (the truth).

A unit of work writes each event to the outbox in the business transaction; after commit its
`on_commit` hook asks the job runner to dispatch the new rows (`dispatch_event` task). The
periodic sweep asks `bus.pending()` for rows left behind (a crash between commit and dispatch,
a subscriber that failed) and dispatches them again. So an event is handled at least once, and
every subscriber must be idempotent (the event's `event_id` is a stable key for that).

    bus.subscribe(KeyDelivered, "bot.notify_delivered", handler)   # handler(event) -> None
    bus.register(bot.subscriptions(runtime))                        # a package's list at once
    bus.dispatch(outbox_id)   # runs each subscriber not yet recorded as done; records successes
    bus.pending(limit)        # ids of undispatched rows that are due (for the sweep)

A subscriber that raises does not stop the others: the row stays undispatched, backs off, and
the next dispatch runs only the subscribers that have not succeeded. Subscriber names are
stored, so they must stay stable.

Errors:

    ValueError     a subscription with an empty name, or a name already taken for that event
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, func, or_, select

from fulfilment.actors import Actor, ActorKind
from fulfilment.events import Event, UnknownEvent
from fulfilment.models import OutboxEntry, utcnow
from fulfilment.uow import UnitOfWork
from kamidesk.failures import describe_failure

log = logging.getLogger(__name__)

Handler = Callable[[Any], None]
FRESH_GRACE = timedelta(seconds=10)  # new rows are the on_commit trigger's; the sweep waits
CLAIM = timedelta(minutes=2)  # how long one dispatcher owns a row before another may retry
BASE_BACKOFF = timedelta(seconds=2)
MAX_BACKOFF = timedelta(minutes=10)


@dataclass(frozen=True)
class Subscription:
    """`handler` runs for every recorded `event` (or subclass) under the stable `name`."""

    event: type[Event]
    name: str
    handler: Handler


class DispatchStatus(StrEnum):
    DISPATCHED = "dispatched"  # every subscriber has handled it (now or before)
    RETRY = "retry"  # some subscriber failed; the row waits for its next attempt
    BUSY = "busy"  # another dispatcher holds it
    MISSING = "missing"  # no such row


@dataclass(frozen=True)
class DispatchResult:
    outbox_id: int
    status: DispatchStatus
    ran: tuple[str, ...] = ()  # subscribers that succeeded in this dispatch
    failed: tuple[str, ...] = ()


@dataclass
class EventBus:
    """Subscribers by event type, and the dispatcher over the outbox table."""

    uow_factory: Callable[[], UnitOfWork]
    clock: Callable[[], datetime] = utcnow
    _subscriptions: list[Subscription] = field(default_factory=list)

    def subscribe(self, event: type[Event], name: str, handler: Handler) -> None:
        """Run `handler(event)` for every recorded `event`; `name` is stored, keep it stable."""
        if not name or len(name) > 100:
            raise ValueError("a subscriber needs a name of 1-100 characters")
        if any(s.event is event and s.name == name for s in self._subscriptions):
            raise ValueError(f"{name!r} already subscribes to {event.__name__}")
        self._subscriptions.append(Subscription(event, name, handler))

    def register(self, subscriptions: Iterable[Subscription]) -> None:
        """Subscribe a package's list (e.g. `bot.subscriptions(runtime)`)."""
        for sub in subscriptions:
            self.subscribe(sub.event, sub.name, sub.handler)

    def subscribers(self, event: Event) -> list[Subscription]:
        """The subscriptions that apply to `event`, in registration order."""
        return [s for s in self._subscriptions if isinstance(event, s.event)]

    def dispatch(self, outbox_id: int) -> DispatchResult:
        """Run the subscribers that have not handled the row yet; record each success."""
        claimed = self._claim(outbox_id)
        if isinstance(claimed, DispatchResult):
            return claimed
        event, done = claimed
        ran: list[str] = []
        failed: list[str] = []
        errors: list[str] = []
        for sub in self.subscribers(event) if event is not None else []:
            if sub.name in done:
                continue
            try:
                sub.handler(event)
            except Exception as exc:
                failed.append(sub.name)
                errors.append(f"{sub.name}: {describe_failure(exc)}")
                log.error("subscriber %s failed on event %s: %s", sub.name, outbox_id, errors[-1])
                continue
            self._mark_handled(outbox_id, sub.name)
            ran.append(sub.name)
        if event is None:
            errors.append("unknown event")
        return self._finish(outbox_id, ran, failed, errors)

    def pending(self, limit: int = 200) -> list[int]:
        """Undispatched rows that are due: left behind (older than the grace) or retrying."""
        now = self.clock()
        due = or_(
            and_(
                OutboxEntry.next_attempt_at.is_(None), OutboxEntry.created_at <= now - FRESH_GRACE
            ),
            OutboxEntry.next_attempt_at <= now,
        )
        free = or_(OutboxEntry.claimed_until.is_(None), OutboxEntry.claimed_until <= now)
        with self.uow_factory() as uow:
            return list(
                uow.session.scalars(
                    select(OutboxEntry.id)
                    .where(OutboxEntry.dispatched_at.is_(None), due, free)
                    .order_by(OutboxEntry.id)
                    .limit(limit)
                )
            )

    def backlog(self) -> int:
        """How many recorded events are not yet handled by every subscriber (for /metrics)."""
        with self.uow_factory() as uow:
            return int(
                uow.session.scalar(
                    select(func.count())
                    .select_from(OutboxEntry)
                    .where(OutboxEntry.dispatched_at.is_(None))
                )
                or 0
            )

    def _claim(self, outbox_id: int) -> DispatchResult | tuple[Event | None, set[str]]:
        with self.uow_factory() as uow:
            row = uow.session.get(OutboxEntry, outbox_id, with_for_update=True)
            if row is None:
                return DispatchResult(outbox_id, DispatchStatus.MISSING)
            if row.dispatched_at is not None:
                return DispatchResult(outbox_id, DispatchStatus.DISPATCHED)
            now = self.clock()
            if row.claimed_until is not None and row.claimed_until > now:
                return DispatchResult(outbox_id, DispatchStatus.BUSY)
            row.claimed_until, row.attempts = now + CLAIM, row.attempts + 1
            event = _event_of(row)
            done = set(row.handled or [])
            uow.commit()
            return event, done

    def _mark_handled(self, outbox_id: int, name: str) -> None:
        with self.uow_factory() as uow:
            row = uow.session.get(OutboxEntry, outbox_id, with_for_update=True)
            assert row is not None
            if name not in (row.handled or []):
                row.handled = [*(row.handled or []), name]  # a new list: JSON is not tracked
            uow.commit()

    def _finish(
        self, outbox_id: int, ran: list[str], failed: list[str], errors: list[str]
    ) -> DispatchResult:
        with self.uow_factory() as uow:
            row = uow.session.get(OutboxEntry, outbox_id, with_for_update=True)
            assert row is not None
            now = self.clock()
            row.claimed_until = None
            if errors:
                delay = min(BASE_BACKOFF * 2 ** min(row.attempts - 1, 16), MAX_BACKOFF)
                row.next_attempt_at, row.last_error = now + delay, "; ".join(errors)[:300]
                status = DispatchStatus.RETRY
            else:
                row.dispatched_at, row.next_attempt_at, row.last_error = now, None, None
                status = DispatchStatus.DISPATCHED
            uow.commit()
        return DispatchResult(outbox_id, status, tuple(ran), tuple(failed))


def _event_of(row: OutboxEntry) -> Event | None:
    """The event of a row, with its actor; None if this process does not know its class."""
    actor = Actor(ActorKind(row.actor_kind), row.actor.split(":", 1)[-1], row.actor_name)
    try:
        return Event.from_payload(row.name, row.payload, event_id=row.event_id, actor=actor)
    except UnknownEvent:
        log.error("outbox row %s names an unknown event class %s", row.id, row.name)
    except Exception as exc:  # a payload the class no longer accepts
        log.error("outbox row %s cannot be read: %s", row.id, describe_failure(exc))
    return None
