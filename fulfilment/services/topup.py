"""Direct top-ups: submit to a supplier, query, fail over — never top up twice.

Each supplier attempt is a `SupplierOrder` row written *before* the HTTP call (status
SUBMITTING). What happens next is decided only from what the supplier says:

    SUBMITTING/UNKNOWN --query--> NOT_FOUND  -> submit (same request ref)
                                  ACCEPTED   -> PROCESSING (poll later)
                                  SUCCESS    -> order DELIVERED
                                  FAILED     -> next supplier by priority, never one tried before
                                  UNKNOWN    -> try again later, with backoff

A timeout is never a failure; all suppliers definitely failed -> order FAILED (refundable).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from fulfilment import repository as repo
from fulfilment.actors import Actor
from fulfilment.errors import NotFound
from fulfilment.events import TopupFailed, TopupSubmitting
from fulfilment.models import (
    Order,
    OrderStatus,
    ProductSupplier,
    Supplier,
    SupplierOrder,
)
from fulfilment.models import SupplierOrderStatus as S
from fulfilment.outcomes import DeliveryState
from fulfilment.ports import SupplierOutcome, SupplierResult
from fulfilment.services.delivery import DeliveryOutcome
from fulfilment.services.supplier_answers import record_answer
from fulfilment.uow import UnitOfWork

OPEN = (S.SUBMITTING, S.PROCESSING, S.UNKNOWN)
MAX_STEPS = 10  # supplier calls in one advance; the sweeper continues later


@dataclass(frozen=True)
class _Step:
    action: str  # submit | query | wait | done
    supplier_order_id: int | None = None
    supplier_code: str | None = None
    request_ref: str | None = None
    product_code: str | None = None
    account: str | None = None
    amount_cents: int | None = None


def advance_topup(*, uow: UnitOfWork, order_no: str, actor: Actor) -> DeliveryOutcome:
    """Move a top-up order forward as far as the suppliers' answers allow right now."""
    for _ in range(MAX_STEPS):
        step = _next_step(uow, order_no, actor)
        if step.action in ("wait", "done"):
            break
        assert step.request_ref is not None
        try:
            client = uow.suppliers.get(step.supplier_code or "")
        except LookupError:
            # No client here. A submit was never sent, so that supplier counts as failed and
            # the next one is tried; a query might concern a sent order: wait (backoff, alert).
            missing = SupplierResult(
                SupplierOutcome.FAILED if step.action == "submit" else SupplierOutcome.UNKNOWN,
                message=f"no client configured for supplier {step.supplier_code}",
            )
            record_answer(uow, step.supplier_order_id or 0, missing, via=step.action, actor=actor)
            continue
        if step.action == "submit":
            result = client.submit_topup(
                request_ref=step.request_ref,
                product_code=step.product_code or "",
                account=step.account or "",
                amount_cents=step.amount_cents or 0,
            )
        else:
            result = client.query_topup(request_ref=step.request_ref)
        record_answer(uow, step.supplier_order_id or 0, result, via=step.action, actor=actor)
    return topup_outcome(uow=uow, order_no=order_no)


def _next_step(uow: UnitOfWork, order_no: str, actor: Actor) -> _Step:
    with uow:
        order = repo.order_by_no(uow.session, order_no, lock=True)
        if order.status not in (OrderStatus.PAID, OrderStatus.DELIVERING):
            return _Step("done")
        current = uow.session.scalars(
            select(SupplierOrder).where(
                SupplierOrder.order_id == order.id, SupplierOrder.status.in_(OPEN)
            )
        ).first()
        if current is None:
            step = _start_next_supplier(uow, order, actor)
            uow.commit()
            return step
        now = uow.clock()
        if current.next_check_at is not None and current.next_check_at > now:
            return _Step("wait")
        supplier = uow.session.get(Supplier, current.supplier_id)
        assert supplier is not None
        if current.status == S.SUBMITTING and current.needs_submit:
            # Flip before calling out: if we die mid-call, the next worker queries first.
            current.needs_submit, current.next_check_at = False, now + _grace(uow)
            link = uow.session.scalars(
                select(ProductSupplier).where(
                    ProductSupplier.product_id == order.product_id,
                    ProductSupplier.supplier_id == supplier.id,
                )
            ).one()
            uow.commit()
            return _Step(
                "submit",
                current.id,
                supplier.code,
                current.request_ref,
                link.supplier_product_code,
                current.account,
                current.amount_cents,
            )
        return _Step("query", current.id, supplier.code, current.request_ref)


def _start_next_supplier(uow: UnitOfWork, order: Order, actor: Actor) -> _Step:
    tried = set(
        uow.session.scalars(
            select(SupplierOrder.supplier_id).where(SupplierOrder.order_id == order.id)
        )
    )
    candidates = uow.session.execute(
        select(ProductSupplier, Supplier)
        .join(Supplier, Supplier.id == ProductSupplier.supplier_id)
        .where(ProductSupplier.product_id == order.product_id, Supplier.active.is_(True))
        .order_by(ProductSupplier.priority, ProductSupplier.id)
    ).all()
    fresh = [(link, sup) for link, sup in candidates if sup.id not in tried]
    if not fresh:
        _fail_order(uow, order, actor, tried=len(tried))
        return _Step("done")
    link, supplier = fresh[0]
    now = uow.clock()
    product = uow.session.get(repo.Product, order.product_id)
    assert product is not None
    attempt = len(tried) + 1
    sorder = SupplierOrder(
        order_id=order.id,
        supplier_id=supplier.id,
        attempt_no=attempt,
        request_ref=f"{order.order_no}-{attempt}",
        account=order.recharge_account or "",
        amount_cents=product.face_value_cents * order.quantity,
        status=S.SUBMITTING,
        needs_submit=False,
        created_at=now,
        next_check_at=now + _grace(uow),
    )
    uow.session.add(sorder)
    before = order.status
    order.status = OrderStatus.DELIVERING
    order.next_attempt_at = now + _grace(uow)
    uow.session.flush()
    submitting = TopupSubmitting(
        order_no=order.order_no,
        supplier=supplier.code,
        attempt=attempt,
        request_ref=sorder.request_ref,
        status_before=before,
        status=order.status,
    )
    uow.record(submitting, actor=actor)
    return _Step(
        "submit",
        sorder.id,
        supplier.code,
        sorder.request_ref,
        link.supplier_product_code,
        sorder.account,
        sorder.amount_cents,
    )


def _fail_order(uow: UnitOfWork, order: Order, actor: Actor, *, tried: int) -> None:
    before = order.status
    order.status, order.next_attempt_at = OrderStatus.FAILED, None
    order.fail_reason = f"all {tried} supplier(s) failed" if tried else "no supplier available"
    product = uow.session.get(repo.Product, order.product_id)
    failed = TopupFailed(
        order_no=order.order_no,
        sku=product.sku if product else "",
        reason=order.fail_reason,
        status_before=before,
    )
    uow.record(failed, actor=actor)


def _grace(uow: UnitOfWork) -> timedelta:
    return timedelta(seconds=uow.policy.supplier_call_grace_seconds)


def handle_supplier_callback(
    *, uow: UnitOfWork, supplier_code: str, params: Mapping[str, str], actor: Actor
) -> DeliveryOutcome:
    """A supplier's signed result notification (SignatureError if forged)."""
    callback = uow.suppliers.get(supplier_code).parse_callback(params)
    with uow:
        sorder = uow.session.scalars(
            select(SupplierOrder).where(SupplierOrder.request_ref == callback.request_ref)
        ).first()
        supplier = repo.supplier_by_code(uow.session, supplier_code)
        if sorder is None or sorder.supplier_id != supplier.id:
            raise NotFound(f"no supplier order {callback.request_ref!r} at {supplier_code}")
        order_no = repo.order_by_id(uow.session, sorder.order_id).order_no
    result = SupplierResult(callback.outcome, callback.supplier_ref, callback.message)
    record_answer(uow, sorder.id, result, via="callback", actor=actor)
    if callback.outcome == SupplierOutcome.FAILED:
        return advance_topup(uow=uow, order_no=order_no, actor=actor)
    return topup_outcome(uow=uow, order_no=order_no)


def topup_outcome(*, uow: UnitOfWork, order_no: str) -> DeliveryOutcome:
    """Where a top-up order stands."""
    with uow:
        order = repo.order_by_no(uow.session, order_no)
        status = {
            OrderStatus.DELIVERED: DeliveryState.DELIVERED,
            OrderStatus.FAILED: DeliveryState.FAILED,
            OrderStatus.DELIVERING: DeliveryState.IN_PROGRESS,
            OrderStatus.PAID: DeliveryState.IN_PROGRESS,
        }.get(OrderStatus(order.status), DeliveryState.NOT_DELIVERABLE)
        delivered = 1 if order.status == OrderStatus.DELIVERED else 0
        return DeliveryOutcome(order_no, status, delivered, 1, order.fail_reason or "")
