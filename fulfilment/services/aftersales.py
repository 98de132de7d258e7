"""Read models for after-sales conversations (the chatbot, the desk): what an order's owner may
be told about it, how long a product usually takes, which orders a Telegram user placed.

Nothing here checks ownership: callers must have proven it (`ownership.verify_owner`) before
they show any of it to a customer. Keys appear only as hints (masked).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from fulfilment import repository as repo
from fulfilment.models import (
    CardKey,
    Delivery,
    DeliveryStatus,
    Order,
    OrderStatus,
    Product,
    Refund,
    ReissueRequest,
    Supplier,
    SupplierOrder,
)
from fulfilment.money import format_amount
from fulfilment.uow import UnitOfWork

ETA_SAMPLE = 50  # recent delivered orders of the product looked at
DEFAULT_ETA = {"card_key": timedelta(minutes=2), "direct_topup": timedelta(minutes=10)}


@dataclass(frozen=True)
class RefundFact:
    request_id: str
    status: str
    amount: str
    created_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class OrderFacts:
    order_no: str
    sku: str
    product_name: str
    kind: str  # card_key | direct_topup
    status: str
    quantity: int
    amount: str
    currency: str
    paid: bool
    refunded: str
    refundable: str  # paid minus refunded minus refunds in flight
    created_at: datetime
    paid_at: datetime | None
    delivered_at: datetime | None
    fail_reason: str | None
    key_hints: tuple[str, ...]  # active deliveries, masked
    recharge_account: str | None
    supplier_status: str | None  # latest supplier attempt: processing | success | failed | ...
    supplier_code: str | None
    supplier_ref: str | None
    refunds: tuple[RefundFact, ...]
    reissues: int  # reissue requests on this order (any outcome)
    open_reissue: str | None  # a request still being checked
    buyer_telegram_id: str | None = None  # where proactive notices may go (never shown)


def order_facts(*, uow: UnitOfWork, order_no: str) -> OrderFacts:
    """Everything an after-sales conversation needs about one order (NotFound if none)."""
    with uow:
        order = repo.order_by_no(uow.session, order_no)
        product = uow.session.get(Product, order.product_id)
        assert product is not None
        hints = tuple(
            uow.session.scalars(
                select(CardKey.hint)
                .join(Delivery, Delivery.card_key_id == CardKey.id)
                .where(Delivery.order_id == order.id, Delivery.status == DeliveryStatus.ACTIVE)
                .order_by(Delivery.unit_no)
            )
        )
        latest = uow.session.execute(
            select(SupplierOrder, Supplier.code)
            .join(Supplier, Supplier.id == SupplierOrder.supplier_id)
            .where(SupplierOrder.order_id == order.id)
            .order_by(SupplierOrder.attempt_no.desc())
            .limit(1)
        ).first()
        refunds = tuple(
            RefundFact(
                r.request_id,
                r.status,
                format_amount(r.amount_cents),
                r.created_at,
                r.finished_at,
            )
            for r in uow.session.scalars(
                select(Refund).where(Refund.order_id == order.id).order_by(Refund.id)
            )
        )
        in_flight = sum(
            r.amount_cents
            for r in uow.session.scalars(
                select(Refund).where(
                    Refund.order_id == order.id,
                    Refund.status.in_(("pending_approval", "processing")),
                )
            )
        )
        reissues = list(
            uow.session.scalars(select(ReissueRequest).where(ReissueRequest.order_id == order.id))
        )
        sorder, supplier_code = latest if latest else (None, None)
        return OrderFacts(
            order_no=order.order_no,
            sku=product.sku,
            product_name=product.name,
            kind=product.kind,
            status=order.status,
            quantity=order.quantity,
            amount=format_amount(order.amount_cents),
            currency=order.currency,
            paid=order.paid_cents > 0,
            refunded=format_amount(order.refunded_cents),
            refundable=format_amount(max(order.paid_cents - order.refunded_cents - in_flight, 0)),
            created_at=order.created_at,
            paid_at=order.paid_at,
            delivered_at=order.delivered_at,
            fail_reason=order.fail_reason,
            key_hints=hints,
            recharge_account=order.recharge_account,
            supplier_status=sorder.status if sorder else None,
            supplier_code=supplier_code,
            supplier_ref=sorder.supplier_ref if sorder else None,
            refunds=refunds,
            reissues=len(reissues),
            open_reissue=next((r.request_id for r in reissues if r.status == "checking"), None),
            buyer_telegram_id=order.buyer_telegram_id,
        )


@dataclass(frozen=True)
class Eta:
    typical: timedelta  # median of recent paid -> delivered times
    slow: timedelta  # 90th percentile: past this an order is late
    sample: int  # how many recent orders it is based on (0: a default by product kind)


def delivery_eta(*, uow: UnitOfWork, sku: str) -> Eta:
    """How long the product's recent orders took from payment to delivery."""
    with uow:
        product = repo.product_by_sku(uow.session, sku)
        rows = uow.session.execute(
            select(Order.paid_at, Order.delivered_at)
            .where(
                Order.product_id == product.id,
                Order.status == OrderStatus.DELIVERED,
                Order.paid_at.is_not(None),
                Order.delivered_at.is_not(None),
            )
            .order_by(Order.delivered_at.desc())
            .limit(ETA_SAMPLE)
        ).all()
        kind = product.kind
    durations = sorted(
        max(delivered - paid, timedelta(0)) for paid, delivered in rows if paid and delivered
    )
    if not durations:
        default = DEFAULT_ETA.get(kind, timedelta(minutes=10))
        return Eta(default, default * 3, 0)
    median = durations[len(durations) // 2]
    slow = durations[min(len(durations) - 1, (len(durations) * 9) // 10)]
    return Eta(median, max(slow, median), len(durations))


def orders_of_telegram_user(*, uow: UnitOfWork, telegram_id: str, limit: int = 5) -> list[str]:
    """The newest orders that name this Telegram user as the buyer."""
    with uow:
        return list(
            uow.session.scalars(
                select(Order.order_no)
                .where(Order.buyer_telegram_id == str(telegram_id))
                .order_by(Order.created_at.desc(), Order.id.desc())
                .limit(limit)
            )
        )


@dataclass(frozen=True)
class WaitingOrder:
    order_no: str
    sku: str
    paid_at: datetime


def waiting_orders(*, uow: UnitOfWork, order_nos: list[str]) -> list[WaitingOrder]:
    """Which of these orders are paid but not delivered yet (for "sorry for the wait")."""
    if not order_nos:
        return []
    with uow:
        rows = uow.session.execute(
            select(Order.order_no, Product.sku, Order.paid_at)
            .join(Product, Product.id == Order.product_id)
            .where(
                Order.order_no.in_(order_nos),
                Order.status.in_((OrderStatus.PAID, OrderStatus.DELIVERING)),
                Order.paid_at.is_not(None),
            )
        ).all()
        return [WaitingOrder(no, sku, paid_at) for no, sku, paid_at in rows]
