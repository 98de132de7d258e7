"""Order intake and payment: idempotent on the shop's order number.

Payment itself (callbacks, manual confirmation, second payments) is in `payments`; its use cases
are importable from here too, as they always were.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from fulfilment import repository as repo
from fulfilment.actors import Actor
from fulfilment.errors import AmountMismatch, Conflict, InvalidRequest
from fulfilment.events import (
    OrderCreated,
    OrderRejected,
)
from fulfilment.models import Order, OrderStatus, ProductKind
from fulfilment.money import format_amount, to_cents
from fulfilment.services.payments import (  # the payment use cases, re-exported
    PaymentOutcome,
    confirm_payment,
    handle_payment_callback,
    mark_paid,
    record_payment,
)
from fulfilment.uow import UnitOfWork

ORDER_NO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{3,63}$")
MAX_QUANTITY = 100


@dataclass(frozen=True)
class OrderInput:
    order_no: str
    sku: str
    quantity: int
    amount: Decimal
    currency: str
    buyer_email: str | None = None
    buyer_phone: str | None = None
    buyer_telegram_id: str | None = None
    recharge_account: str | None = None


@dataclass(frozen=True)
class IntakeOutcome:
    order_no: str
    status: OrderStatus  # the order's status now
    created: bool  # False: the same order was ingested before (duplicate request)

    @classmethod
    def of(cls, order: Order, *, created: bool) -> IntakeOutcome:
        return cls(order.order_no, OrderStatus(order.status), created)


def ingest_order(
    *, uow: UnitOfWork, data: OrderInput, paid: bool, actor: Actor, txn_id: str | None = None
) -> IntakeOutcome:
    """Take in an order (paid by the shop, or awaiting our payment provider)."""
    _validate_shape(data)
    with uow:
        existing = _existing(uow, data)
        if existing is not None:
            return IntakeOutcome.of(existing, created=False)
        product = repo.product_by_sku(uow.session, data.sku)
        cents = to_cents(data.amount)
        expected = product.price_cents * data.quantity
        mismatch = data.currency.upper() != product.currency or cents != expected
        if product.kind == ProductKind.DIRECT_TOPUP and not data.recharge_account:
            raise InvalidRequest("recharge_account is required for a direct top-up")
    if mismatch:
        _record_rejection(uow, data, expected, product.currency, actor)
        raise AmountMismatch(
            f"amount {data.amount} {data.currency.upper()} does not match "
            f"{data.quantity} x {format_amount(product.price_cents)} {product.currency}"
        )
    try:
        return _insert(uow, data, product.id, cents, paid, actor, txn_id)
    except IntegrityError:
        # A concurrent duplicate of this request won the insert: answer as a duplicate.
        with uow:
            existing = _existing(uow, data)
        if existing is None:  # the order is new, so the collision is its payment
            raise Conflict("the payment transaction is recorded for another order") from None
        return IntakeOutcome.of(existing, created=False)


def normalise_phone(phone: str | None) -> str | None:
    """One spelling per number, so limits count a customer once: digits only, and a mainland
    mobile number without its +86 / 0086 prefix (`+86 138-0013-8000` -> `13800138000`)."""
    if not phone:
        return None
    digits = re.sub(r"\D", "", phone)
    mainland = re.fullmatch(r"(?:0086|86)(1\d{10})", digits)
    return mainland.group(1) if mainland else digits or None


def _validate_shape(data: OrderInput) -> None:
    if not ORDER_NO.match(data.order_no):
        raise InvalidRequest("order_no must be 4-64 letters, digits, '-' or '_'")
    if not 1 <= data.quantity <= MAX_QUANTITY:
        raise InvalidRequest(f"quantity must be between 1 and {MAX_QUANTITY}")
    try:
        if data.amount <= 0 or data.amount != data.amount.quantize(Decimal("0.01")):
            raise InvalidRequest("amount must be positive with at most 2 decimals")
    except InvalidOperation as exc:
        raise InvalidRequest("amount is not a number") from exc
    if not re.fullmatch(r"[A-Za-z]{3}", data.currency):
        raise InvalidRequest("currency must be a 3-letter ISO code")
    if data.buyer_phone and len(normalise_phone(data.buyer_phone) or "") < 5:
        raise InvalidRequest("buyer_phone must have at least 5 digits")
    if not (data.buyer_email or data.buyer_phone or data.buyer_telegram_id):
        raise InvalidRequest("at least one buyer contact (email, phone, telegram id) is required")


def _existing(uow: UnitOfWork, data: OrderInput) -> Order | None:
    order = uow.session.scalars(select(Order).where(Order.order_no == data.order_no)).first()
    if order is None:
        return None
    product = uow.session.get(repo.Product, order.product_id)
    same = (
        product is not None
        and product.sku == data.sku
        and order.quantity == data.quantity
        and order.amount_cents == to_cents(data.amount)
        and order.currency == data.currency.upper()
    )
    if not same:
        raise Conflict(f"order {data.order_no} exists with different contents")
    return order


def _record_rejection(
    uow: UnitOfWork, data: OrderInput, expected: int, currency: str, actor: Actor
) -> None:
    with uow:
        rejected = OrderRejected(
            order_no=data.order_no,
            sku=data.sku,
            amount=str(data.amount),
            currency=data.currency.upper(),
            quantity=data.quantity,
            reason=f"amount mismatch: expected {format_amount(expected)} {currency}",
        )
        uow.record(rejected, actor=actor)
        uow.commit()


def _insert(
    uow: UnitOfWork,
    data: OrderInput,
    product_id: int,
    cents: int,
    paid: bool,
    actor: Actor,
    txn_id: str | None,
) -> IntakeOutcome:
    with uow:
        now = uow.clock()
        order = Order(
            order_no=data.order_no,
            product_id=product_id,
            quantity=data.quantity,
            amount_cents=cents,
            currency=data.currency.upper(),
            status=OrderStatus.CREATED,
            buyer_email=(data.buyer_email or None) and data.buyer_email.strip().lower(),
            buyer_phone=normalise_phone(data.buyer_phone),
            buyer_telegram_id=data.buyer_telegram_id,
            recharge_account=data.recharge_account,
            created_at=now,
        )
        uow.session.add(order)
        uow.session.flush()
        created = OrderCreated(
            order_no=order.order_no, sku=data.sku, quantity=order.quantity, paid=paid
        )
        uow.record(created, actor=actor)
        if paid:
            mark_paid(uow, order, txn_id or f"intake:{order.order_no}", cents, "intake", actor)
        uow.commit()
        return IntakeOutcome.of(order, created=True)


__all__ = [
    "IntakeOutcome",
    "OrderInput",
    "PaymentOutcome",
    "confirm_payment",
    "handle_payment_callback",
    "ingest_order",
    "normalise_phone",
    "record_payment",
]
