"""Order intake and payment: idempotent on the shop's order number."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from fulfilment import repository as repo
from fulfilment.actors import Actor
from fulfilment.errors import AmountMismatch, Conflict, InvalidRequest, NotAllowed
from fulfilment.events import (
    OrderCreated,
    OrderPaid,
    OrderRejected,
    PaymentConfirmRefused,
    PaymentDuplicated,
    PaymentRejected,
)
from fulfilment.models import AuditEntry, Order, OrderStatus, Payment, ProductKind
from fulfilment.money import format_amount, to_cents
from fulfilment.outcomes import PaymentState
from fulfilment.ports import PaymentStatus
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


@dataclass(frozen=True)
class PaymentOutcome:
    order_no: str
    status: PaymentState
    order_status: OrderStatus

    @classmethod
    def of(cls, order: Order, status: PaymentState) -> PaymentOutcome:
        return cls(order.order_no, status, OrderStatus(order.status))


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
            _mark_paid(uow, order, txn_id or f"intake:{order.order_no}", cents, "intake", actor)
        uow.commit()
        return IntakeOutcome.of(order, created=True)


def _mark_paid(
    uow: UnitOfWork, order: Order, txn_id: str, cents: int, source: str, actor: Actor
) -> None:
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
        _mark_paid(uow, order, txn_id, amount_cents, source, actor)
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
