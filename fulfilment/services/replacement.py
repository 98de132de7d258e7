"""What a reissue decision looks at and does: the limits, replacing the key, closing the request.

`reissue` gathers the facts and asks `decisions.decide_reissue`; this module checks the limits
(in the deciding transaction, under locks) and applies the decision.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, or_, select

from fulfilment import repository as repo
from fulfilment.actors import Actor
from fulfilment.decisions import ReissueDecision
from fulfilment.events import KeyReissued, ReissueGranted, ReissueNeedsReview, ReissueRejected
from fulfilment.models import (
    CardKey,
    Delivery,
    DeliveryStatus,
    KeyStatus,
    Order,
    OrderStatus,
    Product,
    ReissueRequest,
    ReissueStatus,
    SupplierClaim,
)
from fulfilment.outcomes import ReissueCode
from fulfilment.services.delivery import STOCK_RETRY, record_if_low
from fulfilment.uow import UnitOfWork

CLOSED: dict[str, type[ReissueGranted | ReissueRejected | ReissueNeedsReview]] = {
    ReissueStatus.REISSUED: ReissueGranted,
    ReissueStatus.REJECTED: ReissueRejected,
    ReissueStatus.NEEDS_REVIEW: ReissueNeedsReview,
}


def customer_keys(order: Order) -> list[str]:
    """Lock names for each of the buyer's contacts (the per-customer limit counts them all)."""
    contacts = (
        ("email", order.buyer_email),
        ("phone", order.buyer_phone),
        ("telegram", order.buyer_telegram_id),
    )
    return [f"reissue-customer:{kind}:{value}" for kind, value in contacts if value]


def limit_hit(uow: UnitOfWork, order: Order) -> str | None:
    """The reissue limit the order or its customer reached ("limit_order: 2 ..."), or None."""
    policy = uow.policy
    done = ReissueRequest.status == ReissueStatus.REISSUED
    per_order = (
        uow.session.scalar(
            select(func.count())
            .select_from(ReissueRequest)
            .where(ReissueRequest.order_id == order.id, done)
        )
        or 0
    )
    if per_order >= policy.reissue_max_per_order:
        return f"limit_order: {per_order} reissues already on this order"
    contacts = [
        c
        for c in (
            Order.buyer_email == order.buyer_email if order.buyer_email else None,
            Order.buyer_phone == order.buyer_phone if order.buyer_phone else None,
            Order.buyer_telegram_id == order.buyer_telegram_id
            if order.buyer_telegram_id
            else None,
        )
        if c is not None
    ]
    since = uow.clock() - timedelta(days=policy.reissue_customer_window_days)
    per_customer = (
        uow.session.scalar(
            select(func.count())
            .select_from(ReissueRequest)
            .join(Order, Order.id == ReissueRequest.order_id)
            .where(done, ReissueRequest.created_at >= since, or_(*contacts))
        )
        or 0
    )
    if per_customer >= policy.reissue_max_per_customer:
        return f"limit_customer: {per_customer} reissues for this customer in the window"
    return None


def replace_key(
    uow: UnitOfWork,
    order: Order,
    delivery: Delivery,
    key: CardKey,
    request: ReissueRequest,
    why: ReissueCode,
    actor: Actor,
) -> None:
    """Invalidate the bad key, claim it back from its supplier, deliver a fresh one (or wait
    for stock like any order)."""
    now = uow.clock()
    delivery.status, delivery.ended_at, delivery.end_reason = (
        DeliveryStatus.REPLACED,
        now,
        f"reissue: {why}",
    )
    key.status = KeyStatus.INVALID
    product = uow.session.get(Product, order.product_id)
    assert product is not None
    uow.session.add(
        SupplierClaim(
            supplier_id=key.supplier_id,
            card_key_id=key.id,
            order_id=order.id,
            amount_cents=product.face_value_cents,
            reason=f"key {key.hint} bad on delivery ({why})",
        )
    )
    uow.session.flush()
    fresh = repo.take_available_keys(uow.session, product.id, 1)
    if fresh:
        new = fresh[0]
        new.status, new.order_id, new.delivered_at = KeyStatus.DELIVERED, order.id, now
        uow.session.add(
            Delivery(
                order_id=order.id,
                unit_no=delivery.unit_no,
                card_key_id=new.id,
                status=DeliveryStatus.ACTIVE,
                created_at=now,
            )
        )
    else:
        order.status, order.next_attempt_at = OrderStatus.DELIVERING, now + STOCK_RETRY
    reissued = KeyReissued(
        order_no=order.order_no,
        request_id=request.request_id,
        unit_no=delivery.unit_no,
        old_key_hint=key.hint,
        new_key_hint=fresh[0].hint if fresh else None,
        waiting_stock=not fresh,
        reason=why,
        order_status=order.status,
    )
    uow.record(reissued, actor=actor)
    if fresh:
        record_if_low(uow, product, actor)


def close_request(
    uow: UnitOfWork,
    request: ReissueRequest,
    order: Order,
    decision: ReissueDecision,
    actor: Actor,
) -> None:
    """Record the decision on the request."""
    request.status, request.decision, request.next_attempt_at = (
        decision.status,
        decision.detail,
        None,
    )
    closed = CLOSED[decision.status](
        order_no=order.order_no,
        request_id=request.request_id,
        code=decision.code,
        check=request.check_result,
        detail=decision.detail,
    )
    uow.record(closed, actor=actor)
