"""Delivery of paid orders: card keys from stock, direct top-ups through suppliers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from fulfilment import repository as repo
from fulfilment.actors import Actor
from fulfilment.events import (
    KeyDelivered,
    OrderDelivered,
    OrderWaitingForStock,
    StockLow,
)
from fulfilment.models import (
    Delivery,
    DeliveryStatus,
    KeyStatus,
    Order,
    OrderStatus,
    Product,
    ProductKind,
    ProductStatus,
)
from fulfilment.outcomes import DeliveryState
from fulfilment.uow import UnitOfWork

# Backstop: an order waiting for stock is looked at again even if no import wakes it.
STOCK_RETRY = timedelta(minutes=1)


@dataclass(frozen=True)
class DeliveryOutcome:
    order_no: str
    status: DeliveryState
    delivered_units: int
    quantity: int
    message: str = ""


def deliver_order(*, uow: UnitOfWork, order_no: str, actor: Actor) -> DeliveryOutcome:
    """Deliver whatever is still owed on a paid order; safe to call any number of times."""
    outcome = _deliver_keys(uow, order_no, actor)
    if outcome is None:  # a direct top-up: suppliers are called outside any transaction
        from fulfilment.services.topup import advance_topup

        return advance_topup(uow=uow, order_no=order_no, actor=actor)
    return outcome


def _deliver_keys(uow: UnitOfWork, order_no: str, actor: Actor) -> DeliveryOutcome | None:
    with uow:
        order = repo.order_by_no(uow.session, order_no, lock=True)
        product = uow.session.get(Product, order.product_id)
        assert product is not None
        if product.kind == ProductKind.DIRECT_TOPUP:
            return None
        if order.status not in (OrderStatus.PAID, OrderStatus.DELIVERING):
            done = order.status == OrderStatus.DELIVERED
            return _outcome(
                uow, order, DeliveryState.DELIVERED if done else DeliveryState.NOT_DELIVERABLE
            )
        owed = _owed_units(uow, order)
        keys = repo.take_available_keys(uow.session, product.id, len(owed))
        now = uow.clock()
        for unit_no, key in zip(owed, keys, strict=False):
            key.status, key.order_id, key.delivered_at = KeyStatus.DELIVERED, order.id, now
            uow.session.add(
                Delivery(
                    order_id=order.id,
                    unit_no=unit_no,
                    card_key_id=key.id,
                    status=DeliveryStatus.ACTIVE,
                    created_at=now,
                )
            )
        before = order.status
        complete = len(keys) == len(owed)
        if complete:
            order.status, order.delivered_at, order.next_attempt_at = (
                OrderStatus.DELIVERED,
                now,
                None,
            )
        else:
            order.status, order.next_attempt_at = OrderStatus.DELIVERING, now + STOCK_RETRY
        uow.session.flush()
        if keys:
            delivered = KeyDelivered(
                order_no=order_no,
                sku=product.sku,
                unit_nos=tuple(owed[: len(keys)]),
                key_hints=tuple(k.hint for k in keys),
                order_complete=complete,
                status_before=before,
                status_after=order.status,
                owed=len(owed),
            )
            uow.record(delivered, actor=actor)
            record_if_low(uow, product, actor)
        if complete:
            uow.record(OrderDelivered(order_no=order_no, kind=product.kind), actor=actor)
        else:
            missing = OrderWaitingForStock(
                order_no=order_no, sku=product.sku, missing=len(owed) - len(keys)
            )
            uow.record(missing, actor=actor)
        uow.commit()
        status = DeliveryState.DELIVERED if complete else DeliveryState.WAITING_STOCK
        held = order.quantity - len(owed) + len(keys)
        return DeliveryOutcome(order.order_no, status, held, order.quantity)


def record_if_low(uow: UnitOfWork, product: Product, actor: Actor) -> None:
    """Keys were taken: say so if the stock fell under the safety stock (a subscriber pauses
    the product, in its own transaction, so deliveries never wait on the product's row)."""
    if product.status != ProductStatus.ACTIVE or product.safety_stock <= 0:
        return
    stock = repo.available_stock(uow.session, product.id)
    if stock < product.safety_stock:
        low = StockLow(sku=product.sku, stock=stock, safety_stock=product.safety_stock)
        uow.record(low, actor=actor)


def _owed_units(uow: UnitOfWork, order: Order) -> list[int]:
    held = {d.unit_no for d in repo.active_deliveries(uow.session, order.id)}
    return [u for u in range(1, order.quantity + 1) if u not in held]


def _outcome(uow: UnitOfWork, order: Order, status: DeliveryState) -> DeliveryOutcome:
    delivered = len(repo.active_deliveries(uow.session, order.id))
    return DeliveryOutcome(order.order_no, status, delivered, order.quantity)
