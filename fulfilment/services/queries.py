"""Read models for the API, the bot and the desk. Keys are masked unless the caller proves
ownership (see `ownership.reveal_keys`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from fulfilment import repository as repo
from fulfilment.alerts import AlertKind
from fulfilment.models import (
    Alert,
    AuditEntry,
    CardKey,
    Delivery,
    DeliveryStatus,
    Order,
    OrderStatus,
    Product,
    ProductKind,
    Refund,
    RefundStatus,
    SupplierOrder,
)
from fulfilment.money import format_amount
from fulfilment.redaction import redact_keys
from fulfilment.uow import UnitOfWork


@dataclass(frozen=True)
class DeliveryView:
    unit_no: int
    status: DeliveryStatus
    key_hint: str | None  # masked, e.g. ****7F3K
    supplier_ref: str | None
    created_at: datetime


@dataclass(frozen=True)
class RefundView:
    request_id: str
    amount: str
    status: RefundStatus


@dataclass(frozen=True)
class OrderView:
    order_no: str
    sku: str
    product_name: str
    kind: ProductKind
    quantity: int
    amount: str  # decimal text, e.g. "48.00"
    currency: str
    status: OrderStatus
    paid: str
    refunded: str
    recharge_account: str | None
    fail_reason: str | None
    created_at: datetime
    paid_at: datetime | None
    delivered_at: datetime | None
    deliveries: list[DeliveryView] = field(default_factory=list)
    refunds: list[RefundView] = field(default_factory=list)


def get_order(*, uow: UnitOfWork, order_no: str) -> OrderView:
    """An order with its deliveries (keys masked), refunds and supplier state."""
    with uow:
        order = repo.order_by_no(uow.session, order_no)
        return _view(uow, order)


def _view(uow: UnitOfWork, order: Order) -> OrderView:
    product = uow.session.get(Product, order.product_id)
    assert product is not None
    deliveries = []
    for d in uow.session.scalars(
        select(Delivery).where(Delivery.order_id == order.id).order_by(Delivery.id)
    ):
        key = uow.session.get(CardKey, d.card_key_id) if d.card_key_id else None
        sorder = (
            uow.session.get(SupplierOrder, d.supplier_order_id) if d.supplier_order_id else None
        )
        deliveries.append(
            DeliveryView(
                d.unit_no,
                DeliveryStatus(d.status),
                key.hint if key else None,
                sorder.supplier_ref if sorder else None,
                d.created_at,
            )
        )
    refunds = [
        RefundView(r.request_id, format_amount(r.amount_cents), RefundStatus(r.status))
        for r in uow.session.scalars(select(Refund).where(Refund.order_id == order.id))
    ]
    return OrderView(
        order.order_no,
        product.sku,
        product.name,
        ProductKind(product.kind),
        order.quantity,
        format_amount(order.amount_cents),
        order.currency,
        OrderStatus(order.status),
        format_amount(order.paid_cents),
        format_amount(order.refunded_cents),
        order.recharge_account,
        order.fail_reason,
        order.created_at,
        order.paid_at,
        order.delivered_at,
        deliveries,
        refunds,
    )


@dataclass(frozen=True)
class AlertView:
    id: int
    kind: AlertKind
    message: str
    order_no: str | None
    sku: str | None
    created_at: datetime


def open_alerts(*, uow: UnitOfWork, limit: int = 100) -> list[AlertView]:
    """Unresolved alerts, newest first (low stock, waiting orders, failed top-ups, ...)."""
    with uow:
        rows = uow.session.execute(
            select(Alert, Order.order_no, Product.sku)
            .outerjoin(Order, Order.id == Alert.order_id)
            .outerjoin(Product, Product.id == Alert.product_id)
            .where(Alert.resolved_at.is_(None))
            .order_by(Alert.id.desc())
            .limit(limit)
        ).all()
        return [
            AlertView(a.id, AlertKind(a.kind), a.message, no, sku, a.created_at)
            for a, no, sku in rows
        ]


@dataclass(frozen=True)
class AuditView:
    at: datetime
    actor: str  # the actor's label, e.g. "agent:alice"
    actor_kind: str | None  # None on entries written before actors had a kind
    actor_name: str | None
    action: str
    before: dict[str, object] | None
    after: dict[str, object] | None
    reason: str | None


def order_history(*, uow: UnitOfWork, order_no: str) -> list[AuditView]:
    """Every recorded decision about an order, oldest first (keys appear only masked)."""
    with uow:
        repo.order_by_no(uow.session, order_no)
        entries = uow.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity == "order", AuditEntry.entity_id == order_no)
            .order_by(AuditEntry.id)
        ).all()
        # Reasons are redacted when written; entries older than that are redacted here.
        return [
            AuditView(
                e.at,
                e.actor,
                e.actor_kind,
                e.actor_name,
                e.action,
                e.before,
                e.after,
                redact_keys(uow.session, uow.vault, e.reason) if e.reason else e.reason,
            )
            for e in entries
        ]
