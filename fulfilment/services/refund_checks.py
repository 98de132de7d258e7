"""What a refund checks before money moves, gathered from the database and decided by the pure
rules in `fulfilment.decisions`: the amount left to refund, whether a person must approve, the
policy for a full refund; and stopping fulfilment when a full refund goes ahead. (Asking the
supplier about the keys stays in `refunds`, between its transactions.)
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from fulfilment import repository as repo
from fulfilment.actors import Actor
from fulfilment.decisions import (
    RefundFacts,
    is_goodwill,
    needs_approval,
    refund_refusal,
)
from fulfilment.errors import NotAllowed
from fulfilment.events import OrderRefunding
from fulfilment.models import (
    CardKey,
    DeliveryStatus,
    KeyStatus,
    Order,
    OrderStatus,
    Product,
    ProductKind,
    Refund,
    RefundStatus,
)
from fulfilment.money import to_cents
from fulfilment.uow import UnitOfWork

PENDING = (RefundStatus.PENDING_APPROVAL, RefundStatus.PROCESSING)


def remaining_cents(uow: UnitOfWork, order: Order, exclude: int | None = None) -> int:
    # int(): PostgreSQL's SUM of a BIGINT is NUMERIC (a Decimal), which JSON cannot store.
    held = int(
        uow.session.scalar(
            select(func.coalesce(func.sum(Refund.amount_cents), 0)).where(
                Refund.order_id == order.id,
                Refund.status.in_(PENDING),
                Refund.id != (exclude or 0),
            )
        )
        or 0
    )
    return order.paid_cents - order.refunded_cents - held


def _cents(amount: Decimal | None) -> int | None:
    return to_cents(amount) if amount is not None else None


def goodwill_refund(
    uow: UnitOfWork, order: Order, amount: Decimal | None, exclude: int | None = None
) -> bool:
    return amount is not None and is_goodwill(_cents(amount), remaining_cents(uow, order, exclude))


def approval_needed(uow: UnitOfWork, order: Order, amount: Decimal | None) -> bool:
    auto = uow.policy.refund_auto_approve_cents
    return needs_approval(_cents(amount), remaining_cents(uow, order), auto)


def check_policy(
    uow: UnitOfWork, order: Order, checked: frozenset[int], *, skip_check: bool = False
) -> None:
    """Raise NotAllowed (with the rule's code) unless the policy allows a full refund."""
    delivered = repo.active_deliveries(uow.session, order.id)
    product = uow.session.get(Product, order.product_id)
    assert product is not None
    refusal = refund_refusal(
        RefundFacts(
            order_status=OrderStatus(order.status),
            paid_cents=order.paid_cents,
            kind=ProductKind(product.kind),
            active_key_ids=frozenset(d.card_key_id for d in delivered if d.card_key_id),
            active_topups=sum(d.card_key_id is None for d in delivered),
            checked_key_ids=checked,
            skip_check=skip_check,
        )
    )
    if refusal is not None:
        raise NotAllowed(refusal.message, code=refusal.code)


def stop_fulfilment(uow: UnitOfWork, order: Order, actor: Actor) -> None:
    """Undelivered: stop delivery now. Delivered keys (checked unused): revoke them."""
    now = uow.clock()
    for delivery in repo.active_deliveries(uow.session, order.id):
        delivery.status, delivery.ended_at, delivery.end_reason = (
            DeliveryStatus.REVOKED,
            now,
            "refund",
        )
        key = uow.session.get(CardKey, delivery.card_key_id)
        if key is not None:
            key.status = KeyStatus.REVOKED
    before = order.status
    order.status, order.next_attempt_at = OrderStatus.REFUNDING, None
    uow.record(OrderRefunding(order_no=order.order_no, status_before=before), actor=actor)
