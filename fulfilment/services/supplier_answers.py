"""Recording what a supplier said about one top-up attempt (submit, query or callback answer).

The first terminal answer stands; a later answer that contradicts it raises one alert instead of
changing money or deliveries. Transient trouble backs off exponentially; nothing here calls out.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from fulfilment import repository as repo
from fulfilment.actors import Actor
from fulfilment.events import (
    OrderDelivered,
    SupplierUnreachable,
    TopupAnswered,
    TopupContradicted,
    TopupSucceeded,
    TopupSucceededLate,
)
from fulfilment.models import (
    AuditEntry,
    Delivery,
    DeliveryStatus,
    Order,
    OrderStatus,
    ProductKind,
    Supplier,
    SupplierOrder,
)
from fulfilment.models import SupplierOrderStatus as S
from fulfilment.ports import SupplierOutcome, SupplierResult
from fulfilment.uow import UnitOfWork

MAX_BACKOFF = timedelta(minutes=10)


def _poll(uow: UnitOfWork) -> timedelta:
    return timedelta(seconds=uow.policy.supplier_poll_seconds)


def record_answer(
    uow: UnitOfWork, sorder_id: int, result: SupplierResult, *, via: str, actor: Actor
) -> None:
    """Record what the supplier said about one attempt (idempotent for terminal states)."""
    with uow:
        # The order first, then the attempt: the same lock order as `_next_step` (no deadlock).
        order_id = uow.session.scalar(
            select(SupplierOrder.order_id).where(SupplierOrder.id == sorder_id)
        )
        assert order_id is not None
        order = repo.order_by_id(uow.session, order_id, lock=True)
        sorder = uow.session.get(SupplierOrder, sorder_id, with_for_update=True)
        assert sorder is not None
        if sorder.status in (S.SUCCESS, S.FAILED):
            # The first terminal answer stands; one that contradicts it (a success after we
            # failed over, a failure after delivery) means money may be wrong: tell a person.
            contradiction = {
                (S.FAILED, SupplierOutcome.SUCCESS): "late_supplier_success",
                (S.SUCCESS, SupplierOutcome.FAILED): "supplier_reversed",
            }.get((S(sorder.status), result.outcome))
            if contradiction:
                _flag_once(uow, order, sorder, contradiction, result, actor)
            return
        now = uow.clock()
        outcome = result.outcome
        if outcome == SupplierOutcome.NOT_FOUND and sorder.status == S.PROCESSING:
            outcome = SupplierOutcome.UNKNOWN  # it was accepted before: never resubmit blindly
        sorder.last_message = (result.message or "")[:500] or sorder.last_message
        sorder.supplier_ref = (result.supplier_ref or "")[:80] or sorder.supplier_ref
        if outcome == SupplierOutcome.SUCCESS:
            _succeed(uow, order, sorder, actor)
        elif outcome == SupplierOutcome.FAILED:
            sorder.status, sorder.finished_at, sorder.next_check_at = S.FAILED, now, None
            _wake(order, now)  # fail over now (or at the next sweep)
        elif outcome == SupplierOutcome.ACCEPTED:
            sorder.status, sorder.transient_errors = S.PROCESSING, 0
            sorder.next_check_at = now + _poll(uow)
            _wake(order, sorder.next_check_at)
        elif outcome == SupplierOutcome.NOT_FOUND:
            sorder.status, sorder.needs_submit, sorder.next_check_at = S.SUBMITTING, True, now
            _wake(order, now)
        else:
            _transient(uow, order, sorder, via, actor)
            _wake(order, sorder.next_check_at)
        answered = TopupAnswered(
            order_no=order.order_no,
            via=via,
            request_ref=sorder.request_ref,
            answer=result.outcome,
            status=sorder.status,
            message=result.message or "",
        )
        uow.record(answered, actor=actor)
        uow.commit()


def _flag_once(
    uow: UnitOfWork,
    order: Order,
    sorder: SupplierOrder,
    kind: str,
    result: SupplierResult,
    actor: Actor,
) -> None:
    """Record a contradicting answer once per attempt (an alert subscriber tells a person)."""
    recorded = uow.session.scalars(
        select(AuditEntry.after).where(
            AuditEntry.entity == "order",
            AuditEntry.entity_id == order.order_no,
            AuditEntry.action == f"topup.{kind}",
        )
    )
    if any(after and after.get("request_ref") == sorder.request_ref for after in recorded):
        return
    contradicted = TopupContradicted(
        order_no=order.order_no,
        request_ref=sorder.request_ref,
        kind=kind,
        answer=result.outcome,
        attempt_status=sorder.status,
        message=result.message or "",
    )
    uow.record(contradicted, actor=actor)
    uow.commit()


def _succeed(uow: UnitOfWork, order: Order, sorder: SupplierOrder, actor: Actor) -> None:
    now = uow.clock()
    sorder.status, sorder.finished_at, sorder.next_check_at = S.SUCCESS, now, None
    if order.status not in (OrderStatus.PAID, OrderStatus.DELIVERING):
        # e.g. a late success after a refund: money moved twice; a person must sort it out.
        late = TopupSucceededLate(
            order_no=order.order_no, request_ref=sorder.request_ref, order_status=order.status
        )
        uow.record(late, actor=actor)
        return
    uow.session.add(
        Delivery(
            order_id=order.id,
            unit_no=1,
            supplier_order_id=sorder.id,
            status=DeliveryStatus.ACTIVE,
            created_at=now,
        )
    )
    order.status, order.delivered_at, order.next_attempt_at = OrderStatus.DELIVERED, now, None
    supplier = uow.session.get(Supplier, sorder.supplier_id)
    succeeded = TopupSucceeded(
        order_no=order.order_no,
        supplier=supplier.code if supplier else "",
        supplier_ref=sorder.supplier_ref,
    )
    uow.record(succeeded, actor=actor)
    uow.record(OrderDelivered(order_no=order.order_no, kind=ProductKind.DIRECT_TOPUP), actor=actor)


def _transient(
    uow: UnitOfWork, order: Order, sorder: SupplierOrder, via: str, actor: Actor
) -> None:
    sorder.transient_errors += 1
    if sorder.status == S.SUBMITTING or via == "submit":
        sorder.status = S.UNKNOWN  # the submit may or may not have arrived: query next
    delay = min(_poll(uow) * (2 ** min(sorder.transient_errors - 1, 10)), MAX_BACKOFF)
    sorder.next_check_at = uow.clock() + delay
    if sorder.transient_errors == uow.policy.supplier_max_transient_retries:
        unreachable = SupplierUnreachable(
            order_no=order.order_no,
            request_ref=sorder.request_ref,
            errors=sorder.transient_errors,
        )
        uow.record(unreachable, actor=actor)


def _wake(order: Order, at: datetime | None) -> None:
    if order.status in (OrderStatus.PAID, OrderStatus.DELIVERING):
        order.next_attempt_at = at
