"""Reissue: replace a delivered card key that the supplier confirms was bad.

Steps (each its own transaction, the supplier call in between):
1. record the request (idempotent on `request_id`), check state and limits;
2. ask the key's supplier about the key;
3. decide — confirmed bad (or unverifiable and policy allows): mark the old key invalid, open a
   supplier claim, deliver a fresh key (or wait for stock like any order); otherwise reject or
   hand to a person. Every decision is written to the audit log with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from fulfilment import repository as repo
from fulfilment.actors import Actor
from fulfilment.errors import Conflict, InvalidRequest, NotAllowed
from fulfilment.events import (
    KeyReissued,
    ReissueGranted,
    ReissueNeedsReview,
    ReissueRejected,
    ReissueRequested,
)
from fulfilment.models import (
    CardKey,
    Delivery,
    DeliveryStatus,
    KeyStatus,
    Order,
    OrderStatus,
    Product,
    ProductKind,
    ReissueRequest,
    ReissueStatus,
    SupplierClaim,
)
from fulfilment.outcomes import ReissueCode, ReissueState
from fulfilment.ports import KeyCheckResult, KeyCheckStatus
from fulfilment.services.delivery import STOCK_RETRY, record_if_low
from fulfilment.services.keycheck import check_key, describe_key, is_bad_on_delivery
from fulfilment.uow import UnitOfWork

RESUME_AFTER = timedelta(minutes=2)  # a request still CHECKING by then was interrupted
RECHECK_AFTER = timedelta(minutes=1)  # the supplier could not check the key: ask again
CLOSED: dict[str, type[ReissueGranted | ReissueRejected | ReissueNeedsReview]] = {
    ReissueStatus.REISSUED: ReissueGranted,
    ReissueStatus.REJECTED: ReissueRejected,
    ReissueStatus.NEEDS_REVIEW: ReissueNeedsReview,
}


@dataclass(frozen=True)
class ReissueOutcome:
    request_id: str
    status: ReissueState
    code: ReissueCode  # why
    new_key_hint: str | None = None  # masked


def reissue_key(
    *,
    uow: UnitOfWork,
    order_no: str,
    request_id: str,
    reason: str,
    requested_by: Actor,
    unit_no: int | None = None,
    override: bool = False,
) -> ReissueOutcome:
    """Replace the key of one delivered unit if it is confirmed bad (idempotent)."""
    if not request_id or len(request_id) > 80:
        raise InvalidRequest("request_id must be 1-80 characters")
    target, early = _open_request(
        uow, order_no, request_id, reason, requested_by, unit_no, override
    )
    if early is not None:
        return early
    result = check_key(uow, target[1])
    return _decide(uow, request_id, result, override, requested_by)


def resume_reissue(*, uow: UnitOfWork, request_id: str, actor: Actor) -> ReissueOutcome:
    """Sweeper: finish a request left CHECKING by a crash or an unreachable supplier."""
    with uow:
        request = uow.session.scalars(
            select(ReissueRequest).where(ReissueRequest.request_id == request_id)
        ).one()
        order_no = repo.order_by_id(uow.session, request.order_id).order_no
        reason = request.reason
    # The request exists, so `requested_by` only attributes the decision: to whoever resumes.
    return reissue_key(
        uow=uow, order_no=order_no, request_id=request_id, reason=reason, requested_by=actor
    )


def _open_request(uow, order_no, request_id, reason, requested_by, unit_no, override):  # type: ignore[no-untyped-def]
    try:
        with uow:
            existing = _existing(uow, request_id, order_no)
            if existing is not None and existing.status != ReissueStatus.CHECKING:
                return None, _as_outcome(uow, existing)
            order = repo.order_by_no(uow.session, order_no, lock=True)
            delivery = (
                _delivery_for(uow, order, unit_no)
                if existing is None
                else (uow.session.get(Delivery, existing.delivery_id))
            )
            assert delivery is not None and delivery.card_key_id is not None
            key = uow.session.get(CardKey, delivery.card_key_id)
            assert key is not None
            if existing is None:
                limit = None if override else _limit_hit(uow, order)
                request = ReissueRequest(
                    request_id=request_id,
                    order_id=order.id,
                    delivery_id=delivery.id,
                    status=ReissueStatus.NEEDS_REVIEW if limit else ReissueStatus.CHECKING,
                    next_attempt_at=None if limit else uow.clock() + RESUME_AFTER,
                    reason=reason[:500],
                    requested_by=requested_by.label,
                    decision=limit,
                )
                uow.session.add(request)
                uow.session.flush()
                requested = ReissueRequested(
                    order_no=order_no,
                    request_id=request_id,
                    key_hint=key.hint,
                    status=request.status,
                    reason=limit or reason,
                )
                uow.record(requested, actor=requested_by)
                if limit:
                    review = ReissueNeedsReview(
                        order_no=order_no,
                        request_id=request_id,
                        code=limit.split(":")[0],
                        check=None,
                        detail=limit,
                        on_request=True,
                    )
                    uow.record(review, actor=requested_by)
                uow.commit()
                if limit:
                    return None, _as_outcome(uow, request)
            return (request_id, describe_key(uow, key)), None
    except IntegrityError:
        with uow:  # a concurrent duplicate created it first
            existing = _existing(uow, request_id, order_no)
            assert existing is not None
            return None, _as_outcome(uow, existing)


def _existing(uow: UnitOfWork, request_id: str, order_no: str) -> ReissueRequest | None:
    request = uow.session.scalars(
        select(ReissueRequest).where(ReissueRequest.request_id == request_id)
    ).first()
    if request is not None:
        order = repo.order_by_id(uow.session, request.order_id)
        if order.order_no != order_no:
            raise Conflict(f"request id {request_id} was used for another order")
    return request


def _delivery_for(uow: UnitOfWork, order: Order, unit_no: int | None) -> Delivery:
    product = uow.session.get(Product, order.product_id)
    assert product is not None
    if product.kind != ProductKind.CARD_KEY:
        raise NotAllowed("only card-key orders can have a key reissued", code="not_card_key")
    active = [d for d in repo.active_deliveries(uow.session, order.id) if d.card_key_id]
    if not active:
        raise NotAllowed(f"order {order.order_no} has no delivered key", code="not_delivered")
    if unit_no is None:
        if len(active) > 1:
            raise InvalidRequest("the order has several keys: say which unit_no")
        return active[0]
    for delivery in active:
        if delivery.unit_no == unit_no:
            return delivery
    raise InvalidRequest(f"unit {unit_no} of {order.order_no} has no delivered key")


def _customer_keys(order: Order) -> list[str]:
    contacts = (
        ("email", order.buyer_email),
        ("phone", order.buyer_phone),
        ("telegram", order.buyer_telegram_id),
    )
    return [f"reissue-customer:{kind}:{value}" for kind, value in contacts if value]


def _limit_hit(uow: UnitOfWork, order: Order) -> str | None:
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


def _decide(
    uow: UnitOfWork,
    request_id: str,
    result: KeyCheckResult,
    override: bool,
    actor: Actor,
) -> ReissueOutcome:
    with uow:
        request = uow.session.scalars(
            select(ReissueRequest).where(ReissueRequest.request_id == request_id).with_for_update()
        ).one()
        if request.status != ReissueStatus.CHECKING:
            return _as_outcome(uow, request)  # a concurrent run decided first
        order = repo.order_by_id(uow.session, request.order_id, lock=True)
        delivery = uow.session.get(Delivery, request.delivery_id)
        assert delivery is not None
        key = uow.session.get(CardKey, delivery.card_key_id)
        assert key is not None
        request.check_result = result.status
        bad = is_bad_on_delivery(result, key.delivered_at)
        if result.status == KeyCheckStatus.UNKNOWN and not override:
            # Stays CHECKING: repeating the request checks again, and so does the sweeper.
            request.next_attempt_at = uow.clock() + RECHECK_AFTER
            uow.commit()
            unavailable = ReissueState.CHECK_UNAVAILABLE
            return ReissueOutcome(request_id, unavailable, ReissueCode.CHECK_UNAVAILABLE)
        # Limits are checked again under the order lock and a lock per customer contact:
        # concurrent requests (on this order or the customer's others) all passed the first
        # check before any of them was decided.
        repo.serialise(uow.session, *_customer_keys(order))
        limit = None if override else _limit_hit(uow, order)
        if delivery.status != DeliveryStatus.ACTIVE:
            _close(uow, request, order, ReissueStatus.REJECTED, "already_replaced", actor)
        elif limit and (bad or result.status == KeyCheckStatus.UNSUPPORTED):
            _close(uow, request, order, ReissueStatus.NEEDS_REVIEW, limit, actor)
        elif (
            bad
            or override
            or (
                bad is None
                and result.status == KeyCheckStatus.UNSUPPORTED
                and uow.policy.reissue_without_check
            )
        ):
            why = (
                "override" if override and not bad else ("key_bad" if bad else "unchecked_policy")
            )
            _replace(uow, order, delivery, key, request, why, actor)
            _close(uow, request, order, ReissueStatus.REISSUED, why, actor)
        elif bad is False and result.status == KeyCheckStatus.UNUSED:
            _close(uow, request, order, ReissueStatus.REJECTED, "key_valid", actor)
        elif bad is False:
            _close(
                uow, request, order, ReissueStatus.NEEDS_REVIEW, "redeemed_after_delivery", actor
            )
        else:
            _close(uow, request, order, ReissueStatus.NEEDS_REVIEW, "cannot_verify", actor)
        uow.commit()
        return _as_outcome(uow, request)


def _replace(
    uow: UnitOfWork,
    order: Order,
    delivery: Delivery,
    key: CardKey,
    request: ReissueRequest,
    why: str,
    actor: Actor,
) -> None:
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


def _close(
    uow: UnitOfWork, request: ReissueRequest, order: Order, status: str, code: str, actor: Actor
) -> None:
    request.status, request.decision, request.next_attempt_at = status, code, None
    closed = CLOSED[status](
        order_no=order.order_no,
        request_id=request.request_id,
        code=code.split(":")[0],
        check=request.check_result,
        detail=code,
    )
    uow.record(closed, actor=actor)


def _as_outcome(uow: UnitOfWork, request: ReissueRequest) -> ReissueOutcome:
    """The outcome a decided request stands for (its decision text starts with the code)."""
    code = ReissueCode((request.decision or request.status).split(":")[0])
    status = ReissueState(request.status)
    hint = None
    if status == ReissueState.REISSUED:
        delivery = uow.session.get(Delivery, request.delivery_id)
        assert delivery is not None
        current = uow.session.scalars(
            select(Delivery).where(
                Delivery.order_id == delivery.order_id,
                Delivery.unit_no == delivery.unit_no,
                Delivery.status == DeliveryStatus.ACTIVE,
            )
        ).first()
        if current is None:
            status = ReissueState.WAITING_STOCK
        else:
            key = uow.session.get(CardKey, current.card_key_id)
            hint = key.hint if key else None
    return ReissueOutcome(request.request_id, status, code, hint)
