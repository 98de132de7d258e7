"""Refunds: policy decides, the payment provider pays out, never more than was paid.

Policy:
- paid but undelivered, or failed: full refund; the order stops being delivered at once;
- delivered card keys: only if the supplier says every key is unused; the keys are revoked;
- delivered top-ups and partly delivered orders: a person decides (refused here);
- above the auto-approve limit, or a partial ("goodwill") amount: needs a staff approver.
Paying out (the provider call and what its answer does to the order) is in `payouts`.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from fulfilment import repository as repo
from fulfilment.actors import Actor
from fulfilment.decisions import key_refusal
from fulfilment.errors import Conflict, InvalidRequest, NotAllowed
from fulfilment.events import (
    RefundApproved,
    RefundAwaitingApproval,
    RefundRejected,
    RefundRequested,
)
from fulfilment.models import CardKey, OrderStatus, Product, ProductKind, Refund, RefundStatus
from fulfilment.money import format_amount, to_cents
from fulfilment.outcomes import RefundCode
from fulfilment.redaction import redact_keys
from fulfilment.services.keycheck import (
    KeyToCheck,
    ambiguity,
    check_key,
    describe_key,
    redeemed_near_delivery,
)
from fulfilment.services.payouts import RefundResult, as_result, pay_out
from fulfilment.services.refund_checks import (
    approval_needed,
    check_policy,
    goodwill_refund,
    remaining_cents,
    stop_fulfilment,
)
from fulfilment.uow import UnitOfWork


def request_refund(
    *,
    uow: UnitOfWork,
    order_no: str,
    request_id: str,
    reason: str,
    requested_by: Actor,
    amount: Decimal | None = None,
    approved_by: Actor | None = None,
) -> RefundResult:
    """Ask for a refund; idempotent on `request_id`."""
    if not request_id or len(request_id) > 80:
        raise InvalidRequest("request_id must be 1-80 characters")
    with uow:
        existing = _existing(uow, request_id, order_no)
    if existing is not None:
        if approved_by and existing.status == RefundStatus.PENDING_APPROVAL:
            return approve_refund(uow=uow, request_id=request_id, approved_by=approved_by)
        return pay_out(uow, existing.id, requested_by)
    _refuse_more_than_paid(uow, order_no, amount)  # before asking any supplier about keys
    keys_to_check = _keys_needing_check(uow, order_no, amount, approved_by)
    refusal = _first_refusal(uow, keys_to_check)
    if refusal is not None:
        _record_refusal(uow, order_no, request_id, requested_by, refusal)
        return RefundResult(request_id, RefundStatus.REJECTED, refusal, 0)
    try:
        refund_id = _open(
            uow,
            order_no,
            request_id,
            reason,
            requested_by,
            amount,
            approved_by,
            checked=frozenset(t.key_id for t in keys_to_check),
        )
    except IntegrityError:
        with uow:
            existing = _existing(uow, request_id, order_no)
        assert existing is not None
        refund_id = existing.id
    return pay_out(uow, refund_id, requested_by)


def _existing(uow: UnitOfWork, request_id: str, order_no: str) -> Refund | None:
    refund = uow.session.scalars(select(Refund).where(Refund.request_id == request_id)).first()
    if refund is not None and repo.order_by_id(uow.session, refund.order_id).order_no != order_no:
        raise Conflict(f"request id {request_id} was used for another order")
    return refund


def _refuse_more_than_paid(uow: UnitOfWork, order_no: str, amount: Decimal | None) -> None:
    if amount is None:
        return
    with uow:
        order = repo.order_by_no(uow.session, order_no)
        remaining = remaining_cents(uow, order)
        if to_cents(amount) > remaining:
            raise NotAllowed(
                f"refundable amount is {format_amount(remaining)} {order.currency}",
                code="exceeds_paid",
            )


def _keys_needing_check(
    uow: UnitOfWork,
    order_no: str,
    amount: Decimal | None,
    approved_by: Actor | None,
    pending: int | None = None,  # the refund being approved: its own hold does not count
) -> list[KeyToCheck]:
    with uow:
        order = repo.order_by_no(uow.session, order_no)
        if order.status != OrderStatus.DELIVERED or goodwill_refund(uow, order, amount, pending):
            return []
        product = uow.session.get(Product, order.product_id)
        assert product is not None
        if product.kind != ProductKind.CARD_KEY:
            return []
        if not approved_by and approval_needed(uow, order, amount):
            return []  # nothing is checked until a person approves
        return [
            describe_key(uow, uow.session.get(CardKey, d.card_key_id))  # type: ignore[arg-type]
            for d in repo.active_deliveries(uow.session, order.id)
        ]


def _first_refusal(uow: UnitOfWork, targets: list[KeyToCheck]) -> RefundCode | None:
    """Ask the supplier about each key (stopping at the first that refuses); None if all are
    unused."""
    for target in targets:
        answer = check_key(uow, target)
        near = redeemed_near_delivery(answer, target.delivered_at, ambiguity(uow))
        refusal = key_refusal(answer.status, near_delivery=near)
        if refusal is not None:
            return refusal
    return None


def _open(
    uow: UnitOfWork,
    order_no: str,
    request_id: str,
    reason: str,
    requested_by: Actor,
    amount: Decimal | None,
    approved_by: Actor | None,
    *,
    checked: frozenset[int],
) -> int:
    with uow:
        order = repo.order_by_no(uow.session, order_no, lock=True)
        # A duplicate of this request may have been opened since our first lookup.
        duplicate = _existing(uow, request_id, order_no)
        if duplicate is not None:
            return duplicate.id
        remaining = remaining_cents(uow, order)
        cents = to_cents(amount) if amount is not None else remaining
        if cents <= 0 or cents > remaining:
            raise NotAllowed(
                f"refundable amount is {format_amount(remaining)} {order.currency}",
                code="exceeds_paid" if cents > 0 else "nothing_to_refund",
            )
        goodwill = cents < remaining
        approval = approval_needed(uow, order, amount) and not approved_by
        reason = redact_keys(uow.session, uow.vault, reason)  # a pasted key stays out
        if not goodwill:
            # Keys are checked only once a person approved, so a pending request skips that.
            check_policy(uow, order, checked, skip_check=approval)
        refund = Refund(
            request_id=request_id,
            order_id=order.id,
            amount_cents=cents,
            status=RefundStatus.PENDING_APPROVAL if approval else RefundStatus.PROCESSING,
            reason=reason[:500],
            requested_by=requested_by.label,
            decided_by=approved_by.label if approved_by else None,
            next_attempt_at=None if approval else uow.clock(),
        )
        uow.session.add(refund)
        if not approval and not goodwill:
            stop_fulfilment(uow, order, requested_by)
        uow.session.flush()
        requested = RefundRequested(
            order_no=order_no,
            request_id=request_id,
            amount_cents=cents,
            status=refund.status,
            goodwill=goodwill,
            reason=reason,
        )
        uow.record(requested, actor=requested_by)
        if approval:  # on the staff alert list until someone decides (an alert subscriber)
            waiting = RefundAwaitingApproval(
                order_no=order_no,
                request_id=request_id,
                amount_cents=cents,
                currency=order.currency,
            )
            uow.record(waiting, actor=requested_by)
        uow.commit()
        return refund.id


def _record_refusal(
    uow: UnitOfWork, order_no: str, request_id: str, actor: Actor, code: str
) -> None:
    with uow:
        uow.record(
            RefundRejected(order_no=order_no, request_id=request_id, code=code), actor=actor
        )
        uow.commit()


def approve_refund(*, uow: UnitOfWork, request_id: str, approved_by: Actor) -> RefundResult:
    """Staff approval of a waiting refund: the policy and the key checks run again."""
    with uow:
        refund = uow.session.scalars(select(Refund).where(Refund.request_id == request_id)).first()
        if refund is None:
            raise NotAllowed(f"no refund {request_id}", code="not_found")
        if refund.status != RefundStatus.PENDING_APPROVAL:
            return as_result(refund)
        refund_id = refund.id
        order_no = repo.order_by_id(uow.session, refund.order_id).order_no
        amount = Decimal(refund.amount_cents) / 100
    # The row stays PENDING_APPROVAL until decided, so a crash here loses nothing.
    targets = _keys_needing_check(uow, order_no, amount, approved_by, pending=refund_id)
    refusal = _first_refusal(uow, targets)
    _decide(uow, refund_id, approved_by, frozenset(t.key_id for t in targets), refusal)
    return pay_out(uow, refund_id, approved_by)


def _decide(
    uow: UnitOfWork,
    refund_id: int,
    approved_by: Actor,
    checked: frozenset[int],
    refusal: str | None,
) -> None:
    """Move a waiting refund to PROCESSING under the policy, or to REJECTED (kept on record)."""
    with uow:
        refund = uow.session.get(Refund, refund_id, with_for_update=True)
        assert refund is not None
        order = repo.order_by_id(uow.session, refund.order_id, lock=True)
        if refund.status != RefundStatus.PENDING_APPROVAL:
            return  # a concurrent approval decided first
        remaining = remaining_cents(uow, order, exclude=refund.id)
        goodwill = refund.amount_cents < remaining
        try:
            if refusal is None and refund.amount_cents > remaining:
                raise NotAllowed("more than is left to refund", code="exceeds_paid")
            if refusal is None and not goodwill:
                check_policy(uow, order, checked)
        except NotAllowed as exc:
            refusal = exc.code
        now = uow.clock()
        refund.decided_by = approved_by.label  # its waiting alert is resolved by a subscriber
        if refusal is not None:
            refund.status, refund.finished_at, refund.last_message = (
                RefundStatus.REJECTED,
                now,
                refusal,
            )
        else:
            refund.status, refund.next_attempt_at = RefundStatus.PROCESSING, now
            if not goodwill:
                stop_fulfilment(uow, order, approved_by)
        decided = (
            RefundRejected(
                order_no=order.order_no,
                request_id=refund.request_id,
                code=refusal,
                status=refund.status,
            )
            if refusal is not None
            else RefundApproved(
                order_no=order.order_no,
                request_id=refund.request_id,
                amount_cents=refund.amount_cents,
                status=refund.status,
            )
        )
        uow.record(decided, actor=approved_by)
        uow.commit()
