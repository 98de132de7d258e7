"""Payments of orders: marked paid once, whoever reports it (the shop at intake, the provider's
callback, staff after asking the provider); a second payment for a settled order is flagged for
a refund, never taken as this order's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select

from fulfilment import repository as repo
from fulfilment.actors import Actor
from fulfilment.errors import AmountMismatch, NotAllowed
from fulfilment.events import OrderPaid, PaymentConfirmRefused, PaymentDuplicated, PaymentRejected
from fulfilment.models import AuditEntry, Order, OrderStatus, Payment
from fulfilment.outcomes import PaymentState
from fulfilment.ports import PaymentStatus
from fulfilment.uow import UnitOfWork


@dataclass(frozen=True)
class PaymentOutcome:
    order_no: str
    status: PaymentState
    order_status: OrderStatus

    @classmethod
    def of(cls, order: Order, status: PaymentState) -> PaymentOutcome:
        return cls(order.order_no, status, OrderStatus(order.status))


def mark_paid(
    uow: UnitOfWork, order: Order, txn_id: str, cents: int, source: str, actor: Actor
) -> None:
    """Record the payment and mark the order paid (in the caller's transaction)."""
    now = uow.clock()
    uow.session.add(
        Payment(
            order_id=order.id,
            provider=source,
            txn_id=txn_id,
            amount_cents=cents,
            currency=order.currency,
            source=source,
            paid_at=now,
        )
    )
    order.status, order.paid_cents, order.paid_at = OrderStatus.PAID, cents, now
    order.next_attempt_at = now  # the sweeper delivers it even if no job trigger arrives
    # Subscribers start the delivery (routes do not decide "paid, so deliver").
    uow.record(OrderPaid(order_no=order.order_no, txn_id=txn_id, source=source), actor=actor)


def record_payment(
    *,
    uow: UnitOfWork,
    order_no: str,
    txn_id: str,
    amount_cents: int,
    currency: str,
    source: str,
    actor: Actor,
) -> PaymentOutcome:
    """Mark an order paid once; repeats (duplicate callbacks) change nothing."""
    with uow:
        order = repo.order_by_no(uow.session, order_no, lock=True)
        if order.status != OrderStatus.CREATED:
            _flag_second_payment(uow, order, txn_id, amount_cents, actor)
            return PaymentOutcome.of(
                order, PaymentState.ALREADY_PAID if order.paid_cents else PaymentState.NOT_PAID
            )
        if amount_cents != order.amount_cents or currency.upper() != order.currency:
            refused = PaymentRejected(
                order_no=order_no, txn_id=txn_id, amount_cents=amount_cents, currency=currency
            )
            uow.record(refused, actor=actor)
            uow.commit()
            raise AmountMismatch(f"payment {txn_id} amount/currency does not match order")
        mark_paid(uow, order, txn_id, amount_cents, source, actor)
        uow.commit()
        return PaymentOutcome.of(order, PaymentState.PAID)


def _flag_second_payment(
    uow: UnitOfWork, order: Order, txn_id: str, amount_cents: int, actor: Actor
) -> None:
    """Another transaction for a settled order: the customer paid twice; a person refunds it
    (an alert subscriber puts it on the staff list)."""
    recorded = uow.session.scalar(select(Payment.txn_id).where(Payment.order_id == order.id))
    if recorded == txn_id:
        return  # a duplicate notification of the payment we have
    if txn_id in _flagged_payments(uow, order.order_no):
        return  # a repeated notification of the second payment
    product = uow.session.get(repo.Product, order.product_id)
    duplicate = PaymentDuplicated(
        order_no=order.order_no,
        sku=product.sku if product else "",
        txn_id=txn_id,
        amount_cents=amount_cents,
        recorded_txn_id=recorded,
        order_status=order.status,
    )
    uow.record(duplicate, actor=actor)
    uow.commit()


def _flagged_payments(uow: UnitOfWork, order_no: str) -> set[str]:
    """Transactions already recorded as second payments of the order (exact, unlike LIKE)."""
    entries = uow.session.scalars(
        select(AuditEntry.after).where(
            AuditEntry.entity == "order",
            AuditEntry.entity_id == order_no,
            AuditEntry.action == "payment.duplicate",
        )
    )
    return {str(after.get("txn_id")) for after in entries if after}


def handle_payment_callback(
    *, uow: UnitOfWork, params: Mapping[str, str], actor: Actor
) -> PaymentOutcome:
    """A signed notification from the payment provider (SignatureError if forged)."""
    callback = uow.payments.parse_callback(params)
    if callback.status != PaymentStatus.PAID:
        with uow:
            order = repo.order_by_no(uow.session, callback.order_no)
        return PaymentOutcome.of(order, PaymentState.NOT_PAID)
    return record_payment(
        uow=uow,
        order_no=callback.order_no,
        txn_id=callback.txn_id,
        amount_cents=callback.amount_cents,
        currency=callback.currency,
        source="callback",
        actor=actor,
    )


def confirm_payment(*, uow: UnitOfWork, order_no: str, actor: Actor) -> PaymentOutcome:
    """Staff: the callback was lost; ask the provider and mark paid if it says so."""
    with uow:
        order = repo.order_by_no(uow.session, order_no)
    if order.status != OrderStatus.CREATED:
        if not order.paid_cents:
            raise NotAllowed(f"order {order_no} is {order.status}", code="order_state")
        return PaymentOutcome.of(order, PaymentState.ALREADY_PAID)
    answer = uow.payments.query_payment(order_no=order_no)
    if answer.status != PaymentStatus.PAID or answer.txn_id is None:
        with uow:
            refused = PaymentConfirmRefused(order_no=order_no, provider_status=answer.status)
            uow.record(refused, actor=actor)
            uow.commit()
        unknown = answer.status == PaymentStatus.UNKNOWN
        return PaymentOutcome.of(order, PaymentState.UNKNOWN if unknown else PaymentState.NOT_PAID)
    return record_payment(
        uow=uow,
        order_no=order_no,
        txn_id=answer.txn_id,
        amount_cents=answer.amount_cents or 0,
        currency=answer.currency or order.currency,
        source="manual",
        actor=actor,
    )
