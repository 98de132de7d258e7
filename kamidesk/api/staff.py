"""Staff actions: reissue, refund, approve, confirm a lost payment, retry delivery.

Every route takes the acting agent (`CurrentAgent`): the staff token today, named agents when
the desk plugs in its directory.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool

from fulfilment.services import catalog, delivery, orders, queries, refunds, reissue
from kamidesk.api.deps import CurrentAgent, UowDep, no_nul_in_url
from kamidesk.api.responses import (
    AlertOut,
    AuditOut,
    DeliveryOutcomeOut,
    PaymentConfirmOut,
    ProductOut,
    RefundOut,
    ReissueOut,
)
from kamidesk.api.schemas import RefundIn, ReissueIn

router = APIRouter(prefix="/api/v1", tags=["staff"], dependencies=[Depends(no_nul_in_url)])


@router.post("/orders/{order_no}/reissue")
async def reissue_key(
    order_no: str, body: ReissueIn, uow: UowDep, agent: CurrentAgent
) -> ReissueOut:
    """Replace a delivered key the supplier confirms is bad (idempotent on request_id)."""
    outcome = await run_in_threadpool(
        lambda: reissue.reissue_key(
            uow=uow,
            order_no=order_no,
            request_id=body.request_id,
            reason=body.reason,
            requested_by=agent,
            unit_no=body.unit_no,
            override=body.override,
        )
    )
    return ReissueOut.model_validate(outcome)


@router.post("/orders/{order_no}/refund")
async def refund_order(
    order_no: str, body: RefundIn, uow: UowDep, agent: CurrentAgent
) -> RefundOut:
    """Refund as policy allows (idempotent on request_id)."""
    outcome = await run_in_threadpool(
        lambda: refunds.request_refund(
            uow=uow,
            order_no=order_no,
            request_id=body.request_id,
            reason=body.reason,
            requested_by=agent,
            amount=body.amount,
            approved_by=agent if body.approve else None,
        )
    )
    return RefundOut.model_validate(outcome)


@router.post("/refunds/{request_id}/approve")
async def approve_refund(request_id: str, uow: UowDep, agent: CurrentAgent) -> RefundOut:
    """Approve a refund that waits for a person."""
    outcome = await run_in_threadpool(
        lambda: refunds.approve_refund(uow=uow, request_id=request_id, approved_by=agent)
    )
    return RefundOut.model_validate(outcome)


@router.post("/orders/{order_no}/confirm-payment")
async def confirm_payment(order_no: str, uow: UowDep, agent: CurrentAgent) -> PaymentConfirmOut:
    """The payment callback was lost: ask the provider; safe to repeat (delivery follows)."""
    outcome = await run_in_threadpool(
        lambda: orders.confirm_payment(uow=uow, order_no=order_no, actor=agent)
    )
    return PaymentConfirmOut.model_validate(outcome)


@router.post("/orders/{order_no}/deliver")
async def deliver_now(order_no: str, uow: UowDep, agent: CurrentAgent) -> DeliveryOutcomeOut:
    """Run delivery for an order now (what the worker would do)."""
    outcome = await run_in_threadpool(
        lambda: delivery.deliver_order(uow=uow, order_no=order_no, actor=agent)
    )
    return DeliveryOutcomeOut.model_validate(outcome)


@router.get("/orders/{order_no}/history")
async def order_history(order_no: str, uow: UowDep, agent: CurrentAgent) -> list[AuditOut]:
    """The audit trail of an order: who decided what, when, and why."""
    entries = await run_in_threadpool(lambda: queries.order_history(uow=uow, order_no=order_no))
    return [AuditOut.model_validate(e) for e in entries]


@router.get("/alerts")
async def open_alerts(uow: UowDep, agent: CurrentAgent) -> list[AlertOut]:
    """Unresolved alerts: stock, waiting orders, failed top-ups, unreachable suppliers."""
    alerts = await run_in_threadpool(lambda: queries.open_alerts(uow=uow))
    return [AlertOut.model_validate(a) for a in alerts]


@router.post("/products/{sku}/pause")
async def pause_product(sku: str, uow: UowDep, agent: CurrentAgent) -> ProductOut:
    """Stop selling a product (paid orders are still delivered)."""
    await run_in_threadpool(
        lambda: catalog.set_product_status(
            uow=uow, sku=sku, active=False, actor=agent, reason="paused by staff"
        )
    )
    return ProductOut.model_validate(
        await run_in_threadpool(lambda: catalog.get_product(uow=uow, sku=sku))
    )


@router.post("/products/{sku}/resume")
async def resume_product(sku: str, uow: UowDep, agent: CurrentAgent) -> ProductOut:
    """Sell a paused product again."""
    await run_in_threadpool(
        lambda: catalog.set_product_status(
            uow=uow, sku=sku, active=True, actor=agent, reason="resumed by staff"
        )
    )
    return ProductOut.model_validate(
        await run_in_threadpool(lambda: catalog.get_product(uow=uow, sku=sku))
    )
