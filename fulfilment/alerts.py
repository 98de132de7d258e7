"""Staff alerts raised from events: what needs a person, deduplicated by a structured key.

`alert_for(event)` and `resolved_by(event)` are pure; `raise_and_resolve` applies them in a
transaction (a subscriber calls it). An alert's `dedupe_key` names what it is about
("duplicate_payment:KM1:PAY-2"); at most one alert per key is open at a time, so an event handled
twice raises one alert. Alerts that a later event resolves are only raised while still true
(an order still waiting, a product still paused, a refund still waiting), so a late redelivery
never reopens what was settled meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from fulfilment import repository as repo
from fulfilment.events import (
    Event,
    OrderDelivered,
    OrderWaitingForStock,
    PaymentDuplicated,
    ProductPaused,
    ProductResumed,
    RefundApproved,
    RefundAwaitingApproval,
    RefundFailed,
    RefundRejected,
    SupplierUnreachable,
    TopupContradicted,
    TopupFailed,
    TopupSucceededLate,
)
from fulfilment.models import (
    Alert,
    Order,
    OrderStatus,
    Product,
    ProductStatus,
    Refund,
    RefundStatus,
)
from fulfilment.money import format_amount
from fulfilment.uow import UnitOfWork


class AlertKind(StrEnum):
    OUT_OF_STOCK = "out_of_stock"  # a paid order waits for keys
    LOW_STOCK = "low_stock"  # a product was paused under its safety stock
    NEEDS_APPROVAL = "refund_needs_approval"
    SECOND_PAYMENT = "duplicate_payment"  # the customer paid twice: refund one
    TOPUP_FAILED = "topup_failed"  # every supplier failed: refundable
    REFUND_FAILED = "refund_failed"
    LATE_SUCCESS = "late_supplier_success"  # topped up after we gave up: money moved twice?
    REVERSED = "supplier_reversed"  # a supplier took back a success
    UNREACHABLE = "supplier_unreachable"


OUT_OF_STOCK = AlertKind.OUT_OF_STOCK
LOW_STOCK = AlertKind.LOW_STOCK
NEEDS_APPROVAL = AlertKind.NEEDS_APPROVAL
SECOND_PAYMENT = AlertKind.SECOND_PAYMENT
TOPUP_FAILED = AlertKind.TOPUP_FAILED
REFUND_FAILED = AlertKind.REFUND_FAILED
LATE_SUCCESS = AlertKind.LATE_SUCCESS
UNREACHABLE = AlertKind.UNREACHABLE


@dataclass(frozen=True)
class AlertSpec:
    kind: AlertKind
    key: str  # dedupe key: one open alert per key
    message: str
    order_no: str | None = None
    sku: str | None = None


def _out_of_stock(e: OrderWaitingForStock) -> AlertSpec:
    message = f"{e.order_no} waits for {e.missing} x {e.sku}"
    return AlertSpec(OUT_OF_STOCK, f"{OUT_OF_STOCK}:{e.order_no}", message, e.order_no, e.sku)


def _low_stock(e: ProductPaused) -> AlertSpec:
    message = f"{e.sku}: {e.stock} keys left (safety {e.safety_stock})"
    return AlertSpec(LOW_STOCK, f"{LOW_STOCK}:{e.sku}", message, sku=e.sku)


def _second_payment(e: PaymentDuplicated) -> AlertSpec:
    message = (
        f"{e.order_no}: payment {e.txn_id} ({format_amount(e.amount_cents)}) arrived "
        f"after the order was {e.order_status}; refund it"
    )
    key = f"{SECOND_PAYMENT}:{e.order_no}:{e.txn_id}"
    return AlertSpec(SECOND_PAYMENT, key, message, e.order_no, e.sku or None)


def _topup_failed(e: TopupFailed) -> AlertSpec:
    message = f"{e.order_no}: {e.reason}; refundable"
    return AlertSpec(TOPUP_FAILED, f"{TOPUP_FAILED}:{e.order_no}", message, e.order_no, e.sku)


def _contradicted(e: TopupContradicted) -> AlertSpec:
    message = f"{e.request_ref} answered {e.answer} after it was {e.attempt_status}"
    return AlertSpec(AlertKind(e.kind), f"{e.kind}:{e.request_ref}", message, e.order_no)


def _late_success(e: TopupSucceededLate) -> AlertSpec:
    message = f"{e.request_ref} succeeded after order was {e.order_status}"
    return AlertSpec(LATE_SUCCESS, f"{LATE_SUCCESS}:{e.request_ref}:order", message, e.order_no)


def _unreachable(e: SupplierUnreachable) -> AlertSpec:
    message = f"{e.request_ref}: {e.errors} unanswered calls; still retrying"
    return AlertSpec(UNREACHABLE, f"{UNREACHABLE}:{e.request_ref}", message, e.order_no)


def _waiting_refund(e: RefundAwaitingApproval) -> AlertSpec:
    message = (
        f"refund {e.request_id} of {format_amount(e.amount_cents)} {e.currency} waits for approval"
    )
    return AlertSpec(NEEDS_APPROVAL, f"{NEEDS_APPROVAL}:{e.request_id}", message, e.order_no)


def _refund_failed(e: RefundFailed) -> AlertSpec:
    message = f"refund {e.request_id} failed: {e.message}"
    return AlertSpec(REFUND_FAILED, f"{REFUND_FAILED}:{e.request_id}", message, e.order_no)


RAISES: dict[type[Event], Callable[..., AlertSpec]] = {
    OrderWaitingForStock: _out_of_stock,
    ProductPaused: _low_stock,
    PaymentDuplicated: _second_payment,
    TopupFailed: _topup_failed,
    TopupContradicted: _contradicted,
    TopupSucceededLate: _late_success,
    SupplierUnreachable: _unreachable,
    RefundAwaitingApproval: _waiting_refund,
    RefundFailed: _refund_failed,
}
RESOLVES: dict[type[Event], Callable[..., str]] = {
    OrderDelivered: lambda e: f"{OUT_OF_STOCK}:{e.order_no}",
    ProductResumed: lambda e: f"{LOW_STOCK}:{e.sku}",
    RefundApproved: lambda e: f"{NEEDS_APPROVAL}:{e.request_id}",
    RefundRejected: lambda e: f"{NEEDS_APPROVAL}:{e.request_id}",
}
EVENTS = tuple(RAISES) + tuple(RESOLVES)  # what the alert subscriber listens to


def alert_for(event: Event) -> AlertSpec | None:
    """The alert an event raises, if any (pure)."""
    make = RAISES.get(type(event))
    return make(event) if make else None


def resolved_by(event: Event) -> str | None:
    """The dedupe key of the alert an event settles, if any (pure)."""
    key = RESOLVES.get(type(event))
    return key(event) if key else None


def raise_and_resolve(*, uow: UnitOfWork, event: Event) -> bool:
    """Apply an event to the alert list; True if an alert was raised. Idempotent."""
    spec, settled = alert_for(event), resolved_by(event)
    if settled is not None:
        with uow:
            uow.session.execute(
                update(Alert)
                .where(Alert.dedupe_key == settled, Alert.resolved_at.is_(None))
                .values(resolved_at=uow.clock())
            )
            uow.commit()
    if spec is None:
        return False
    try:
        with uow:
            if not _still_true(uow, spec) or _open(uow, spec.key):
                return False
            uow.session.add(_row(uow, spec))
            uow.commit()
            return True
    except IntegrityError:  # raised concurrently by another delivery of the event
        return False


def _open(uow: UnitOfWork, key: str) -> bool:
    found = uow.session.scalar(
        select(Alert.id).where(Alert.dedupe_key == key, Alert.resolved_at.is_(None))
    )
    return found is not None


def _still_true(uow: UnitOfWork, spec: AlertSpec) -> bool:
    """For alerts that a later event settles: is the situation still there?"""
    if spec.kind == OUT_OF_STOCK and spec.order_no:
        status = uow.session.scalar(select(Order.status).where(Order.order_no == spec.order_no))
        return status == OrderStatus.DELIVERING
    if spec.kind == LOW_STOCK and spec.sku:
        product = uow.session.scalars(select(Product).where(Product.sku == spec.sku)).first()
        return product is not None and (product.status, product.pause_reason) == (
            ProductStatus.PAUSED,
            LOW_STOCK,  # the pause reason has the alert's name
        )
    if spec.kind == NEEDS_APPROVAL:
        request_id = spec.key.removeprefix(f"{NEEDS_APPROVAL}:")
        status = uow.session.scalar(select(Refund.status).where(Refund.request_id == request_id))
        return status == RefundStatus.PENDING_APPROVAL
    return True


def _row(uow: UnitOfWork, spec: AlertSpec) -> Alert:
    order = (
        uow.session.scalars(select(Order).where(Order.order_no == spec.order_no)).first()
        if spec.order_no
        else None
    )
    product_id = None
    if spec.sku:
        product_id = repo.product_by_sku(uow.session, spec.sku).id
    return Alert(
        kind=spec.kind,
        order_id=order.id if order else None,
        product_id=product_id,
        message=spec.message[:500],
        dedupe_key=spec.key[:200],
    )
