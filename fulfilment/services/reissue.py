"""Reissue: replace a delivered card key that the supplier confirms was bad.

Steps (each its own transaction, the supplier call in between):
1. record the request (idempotent on `request_id`), check state and limits;
2. ask the key's supplier about the key;
3. decide (`decisions.decide_reissue`, a pure function of the facts) and apply it
   (`replacement`): confirmed bad (or unverifiable and policy allows): mark the old key invalid,
   open a supplier claim, deliver a fresh key (or wait for stock like any order); otherwise
   reject or hand to a person. Every decision is written to the audit log with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from fulfilment import repository as repo
from fulfilment.actors import Actor
from fulfilment.decisions import ReissueFacts, decide_reissue
from fulfilment.errors import Conflict, InvalidRequest, NotAllowed
from fulfilment.events import (
    ReissueNeedsReview,
    ReissueRequested,
)
from fulfilment.models import (
    CardKey,
    Delivery,
    DeliveryStatus,
    Order,
    Product,
    ProductKind,
    ReissueRequest,
    ReissueStatus,
)
from fulfilment.outcomes import ReissueCode, ReissueState
from fulfilment.ports import KeyCheckResult
from fulfilment.redaction import redact_keys
from fulfilment.services.keycheck import (
    ambiguity,
    check_key,
    describe_key,
    is_bad_on_delivery,
    redeemed_near_delivery,
)
from fulfilment.services.replacement import (
    close_request,
    customer_keys,
    limit_hit,
    replace_key,
)
from fulfilment.uow import UnitOfWork

RESUME_AFTER = timedelta(minutes=2)  # a request still CHECKING by then was interrupted
RECHECK_AFTER = timedelta(minutes=1)  # the supplier could not check the key: ask again


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
                limit = None if override else limit_hit(uow, order)
                reason = redact_keys(uow.session, uow.vault, reason)  # a pasted key stays out
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
        # Limits are checked again under the order lock and a lock per customer contact:
        # concurrent requests (on this order or the customer's others) all passed the first
        # check before any of them was decided.
        repo.serialise(uow.session, *customer_keys(order))
        decision = decide_reissue(
            ReissueFacts(
                check=result.status,
                bad=is_bad_on_delivery(result, key.delivered_at, ambiguity(uow)),
                delivery_active=delivery.status == DeliveryStatus.ACTIVE,
                limit=None if override else limit_hit(uow, order),
                override=override,
                reissue_without_check=uow.policy.reissue_without_check,
                near_delivery=redeemed_near_delivery(result, key.delivered_at, ambiguity(uow)),
            )
        )
        if decision.status == ReissueStatus.CHECKING:
            # Stays CHECKING: repeating the request checks again, and so does the sweeper.
            request.next_attempt_at = uow.clock() + RECHECK_AFTER
            uow.commit()
            unavailable = ReissueState.CHECK_UNAVAILABLE
            return ReissueOutcome(request_id, unavailable, ReissueCode.CHECK_UNAVAILABLE)
        if decision.status == ReissueStatus.REISSUED:
            replace_key(uow, order, delivery, key, request, decision.code, actor)
        close_request(uow, request, order, decision, actor)
        uow.commit()
        return _as_outcome(uow, request)


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
