"""Paying a refund out through the payment provider, and what the answer does to the order.

The provider call is idempotent on the refund's request id. A refund whose answer was lost (or
that the provider left pending) stays PROCESSING and the sweeper asks again with the same id, so
money moves at most once; the answer is recorded under the order's lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from fulfilment import repository as repo
from fulfilment.actors import Actor
from fulfilment.events import OrderRefunded, RefundFailed, RefundPaid, RefundPending
from fulfilment.models import Order, OrderStatus, Payment, Refund, RefundStatus
from fulfilment.outcomes import RefundCode
from fulfilment.ports import RefundOutcome as ProviderOutcome
from fulfilment.uow import UnitOfWork

RETRY = timedelta(seconds=30)


@dataclass(frozen=True)
class RefundResult:
    request_id: str
    status: RefundStatus
    code: RefundCode  # a refusal's reason, over_auto_limit, or the status itself
    amount_cents: int


def pay_out(uow: UnitOfWork, refund_id: int, actor: Actor) -> RefundResult:
    """Pay out a PROCESSING refund (again, with the same idempotency key, if need be)."""
    with uow:
        refund = uow.session.get(Refund, refund_id)
        assert refund is not None
        if refund.status != RefundStatus.PROCESSING:
            return as_result(refund)
        payment = uow.session.scalars(
            select(Payment).where(Payment.order_id == refund.order_id)
        ).one()
        args = dict(
            refund_ref=refund.request_id,
            txn_id=payment.txn_id,
            amount_cents=refund.amount_cents,
            currency=payment.currency,
        )
    answer = uow.payments.refund(**args)  # type: ignore[arg-type]
    with uow:
        refund = uow.session.get(Refund, refund_id, with_for_update=True)
        assert refund is not None
        order = repo.order_by_id(uow.session, refund.order_id, lock=True)
        if refund.status != RefundStatus.PROCESSING:
            return as_result(refund)
        _settle(uow, refund, order, answer, actor)
        uow.commit()
        return as_result(refund)


def _settle(uow: UnitOfWork, refund: Refund, order: Order, answer, actor: Actor) -> None:  # type: ignore[no-untyped-def]
    now = uow.clock()
    refund.last_message = (answer.message or "")[:500] or None
    message = answer.message or ""
    if answer.outcome == ProviderOutcome.SUCCEEDED:
        refund.status, refund.finished_at, refund.next_attempt_at = (
            RefundStatus.SUCCEEDED,
            now,
            None,
        )
        refund.provider_refund_id = (answer.provider_refund_id or "")[:80] or None
        order.refunded_cents += refund.amount_cents
        if order.refunded_cents >= order.paid_cents:
            before, order.status = order.status, OrderStatus.REFUNDED
            refunded = OrderRefunded(
                order_no=order.order_no,
                status_before=before,
                refunded_cents=order.refunded_cents,
            )
            uow.record(refunded, actor=actor)
        paid = RefundPaid(
            order_no=order.order_no,
            request_id=refund.request_id,
            amount_cents=refund.amount_cents,
            message=message,
        )
        uow.record(paid, actor=actor)
    elif answer.outcome == ProviderOutcome.FAILED:
        refund.status, refund.finished_at, refund.next_attempt_at = (
            RefundStatus.FAILED,
            now,
            None,
        )
        failed = RefundFailed(
            order_no=order.order_no, request_id=refund.request_id, message=message
        )
        uow.record(failed, actor=actor)
    else:
        refund.next_attempt_at = now + RETRY
        pending = RefundPending(
            order_no=order.order_no,
            request_id=refund.request_id,
            outcome=answer.outcome,
            message=message,
        )
        uow.record(pending, actor=actor)


def resume_refund(*, uow: UnitOfWork, refund_id: int, actor: Actor) -> RefundResult:
    """Sweeper: push a PROCESSING refund whose provider answer never came."""
    return pay_out(uow, refund_id, actor)


def as_result(refund: Refund) -> RefundResult:
    """The outcome a stored refund stands for."""
    status = RefundStatus(refund.status)
    if status == RefundStatus.REJECTED:  # the refusal's reason is kept as its last message
        return RefundResult(refund.request_id, status, RefundCode(refund.last_message or ""), 0)
    code = (
        RefundCode.OVER_AUTO_LIMIT
        if status == RefundStatus.PENDING_APPROVAL
        else RefundCode(status)
    )
    return RefundResult(refund.request_id, status, code, refund.amount_cents)
