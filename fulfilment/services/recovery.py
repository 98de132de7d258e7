"""Resuming work after a crash or a lost trigger: the database says what is still owed.

A job queue (arq in production, the in-process runner in the embedded default) only *triggers*
work; `due_work` finds everything that is pending straight from the tables, so nothing paid for
is lost when a process or a queue dies.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import or_, select

from fulfilment.actors import Actor
from fulfilment.models import (
    Order,
    OrderStatus,
    Refund,
    RefundStatus,
    ReissueRequest,
    ReissueStatus,
)
from fulfilment.services.delivery import DeliveryOutcome, deliver_order
from fulfilment.services.payouts import RefundResult, resume_refund
from fulfilment.services.reissue import resume_reissue
from fulfilment.uow import UnitOfWork


@dataclass(frozen=True)
class DueWork:
    orders: list[str]  # order numbers to deliver / advance
    refunds: list[int]  # refund ids to push to the provider
    reissues: list[str] = field(default_factory=list)  # reissue request ids left CHECKING


def due_work(*, uow: UnitOfWork, limit: int = 200) -> DueWork:
    """What is pending now (paid orders, stuck top-ups, unanswered refunds, reissues)."""
    return DueWork(
        due_orders(uow=uow, limit=limit),
        due_refunds(uow=uow, limit=limit),
        due_reissues(uow=uow, limit=limit),
    )


def due_orders(*, uow: UnitOfWork, limit: int = 200) -> list[str]:
    """Order numbers to deliver or advance now (paid, delivering and due)."""
    with uow:
        now = uow.clock()
        return list(
            uow.session.scalars(
                select(Order.order_no)
                .where(
                    Order.status.in_((OrderStatus.PAID, OrderStatus.DELIVERING)),
                    or_(Order.next_attempt_at.is_(None), Order.next_attempt_at <= now),
                )
                .order_by(Order.next_attempt_at)
                .limit(limit)
            )
        )


def due_refunds(*, uow: UnitOfWork, limit: int = 200) -> list[int]:
    """Ids of PROCESSING refunds to push to the provider (again) now."""
    with uow:
        now = uow.clock()
        return list(
            uow.session.scalars(
                select(Refund.id)
                .where(
                    Refund.status == RefundStatus.PROCESSING,
                    or_(Refund.next_attempt_at.is_(None), Refund.next_attempt_at <= now),
                )
                .limit(limit)
            )
        )


def due_reissues(*, uow: UnitOfWork, limit: int = 200) -> list[str]:
    """Request ids of reissues left CHECKING whose retry time has come."""
    with uow:
        now = uow.clock()
        return list(
            uow.session.scalars(
                select(ReissueRequest.request_id)
                .where(
                    ReissueRequest.status == ReissueStatus.CHECKING,
                    ReissueRequest.next_attempt_at <= now,
                )
                .limit(limit)
            )
        )


def run_due_work(
    *, uow: UnitOfWork, actor: Actor, limit: int = 200
) -> tuple[list[DeliveryOutcome], list[RefundResult]]:
    """Process everything that is due, one unit of work per item (for runners and tests)."""
    work = due_work(uow=uow, limit=limit)
    deliveries = [deliver_order(uow=uow, order_no=no, actor=actor) for no in work.orders]
    refunds = [resume_refund(uow=uow, refund_id=rid, actor=actor) for rid in work.refunds]
    for request_id in work.reissues:
        resume_reissue(uow=uow, request_id=request_id, actor=actor)
    return deliveries, refunds
