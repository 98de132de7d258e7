"""The fulfilment core's background work and reactions, registered on a container's parts.

Tasks (run by the job runner, each in a fresh unit of work) and the due sources the sweep asks:

    deliver_order   orders paid or waiting        } `due_work`, one query transaction
    push_refund     refunds whose answer is owed  }
    resume_reissue  reissue requests left CHECKING }
    dispatch_event  outbox rows left behind or retrying (`bus.pending`)

Subscribers (what used to be called sideways from the services and routes):

    fulfilment.trigger_delivery   OrderPaid -> the delivery task
    fulfilment.pause_low_stock    StockLow -> pause the product (own transaction)
    fulfilment.wake_waiting       KeysImported -> orders waiting for that product are due now
    fulfilment.alerts             the events in `fulfilment.alerts.EVENTS` -> the staff alert list
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any, Protocol

from fulfilment import alerts
from fulfilment.actors import Actor
from fulfilment.events import Event, KeysImported, OrderPaid, StockLow
from fulfilment.services import inventory
from fulfilment.services.delivery import deliver_order
from fulfilment.services.payouts import resume_refund
from fulfilment.services.recovery import DueWork, due_work
from fulfilment.services.reissue import resume_reissue
from fulfilment.uow import UnitOfWork
from kamidesk.events import EventBus, Subscription
from kamidesk.jobs import (
    DELIVER_JOB,
    DISPATCH_JOB,
    REFUND_JOB,
    REISSUE_JOB,
    Jobs,
    JobsNotRunning,
)
from kamidesk.observability.logs import log_context

log = logging.getLogger(__name__)

JOBS = Actor.system("jobs")
STOCK_WATCH = Actor.system("stock-watch")


class Parts(Protocol):
    """What the wiring needs from the container."""

    bus: EventBus
    jobs: Jobs

    def uow(self) -> UnitOfWork: ...


def register_tasks(box: Parts) -> None:
    """The core's tasks and due sources, on the container's job runner."""
    jobs = box.jobs

    def deliver(order_no: str) -> object:
        with log_context(order_no=order_no):  # its log lines name the order
            return deliver_order(uow=box.uow(), order_no=order_no, actor=JOBS)

    jobs.register_task(DELIVER_JOB, deliver)
    jobs.register_task(
        REFUND_JOB, lambda rid: resume_refund(uow=box.uow(), refund_id=rid, actor=JOBS)
    )
    jobs.register_task(
        REISSUE_JOB, lambda req: resume_reissue(uow=box.uow(), request_id=req, actor=JOBS)
    )
    jobs.register_task(DISPATCH_JOB, box.bus.dispatch)
    jobs.tasks.register_due_items(lambda: due_items(due_work(uow=box.uow())), label="fulfilment")
    jobs.register_due(DISPATCH_JOB, box.bus.pending)


def due_items(work: DueWork) -> list[tuple[str, Any]]:
    """The core's pending work (one query transaction) as (task, argument) pairs."""
    return [
        *((DELIVER_JOB, order_no) for order_no in work.orders),
        *((REFUND_JOB, refund_id) for refund_id in work.refunds),
        *((REISSUE_JOB, request_id) for request_id in work.reissues),
    ]


def core_subscriptions(box: Parts) -> list[Subscription]:
    """The fulfilment core's reactions to its own events."""

    def trigger_delivery(event: OrderPaid) -> None:
        # Best effort: the paid order is due in the database, so the sweep delivers it even
        # when no runner is listening here (the CLI, say).
        with contextlib.suppress(JobsNotRunning):
            box.jobs.trigger_threadsafe(DELIVER_JOB, event.order_no)

    def pause(event: StockLow) -> None:
        inventory.pause_for_low_stock(uow=box.uow(), sku=event.sku, actor=STOCK_WATCH)

    def wake(event: KeysImported) -> None:
        if event.imported:
            inventory.wake_orders_waiting_for(uow=box.uow(), sku=event.sku)

    def alert(event: Event) -> None:
        alerts.raise_and_resolve(uow=box.uow(), event=event)

    subscriptions: list[Subscription] = [
        Subscription(OrderPaid, "fulfilment.trigger_delivery", trigger_delivery),
        Subscription(StockLow, "fulfilment.pause_low_stock", pause),
        Subscription(KeysImported, "fulfilment.wake_waiting", wake),
    ]
    subscriptions += [Subscription(kind, "fulfilment.alerts", alert) for kind in alerts.EVENTS]
    return subscriptions


def dispatch_committed(box: Parts, outbox_ids: Any) -> None:
    """The units of work's `on_commit` hook: dispatch the new rows in the background."""
    try:
        for outbox_id in outbox_ids:
            box.jobs.trigger_threadsafe(DISPATCH_JOB, outbox_id)
    except JobsNotRunning:
        # No runner in this process (the CLI): a server's or worker's sweep dispatches them.
        log.debug("no job runner here; %d event(s) left for the sweep", len(outbox_ids))
