"""Signed callbacks from the payment provider and the suppliers (form-encoded)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from fulfilment.actors import Actor
from fulfilment.services import orders, topup
from kamidesk.api.deps import UowDep, no_nul_in_url
from kamidesk.observability.logs import bind_order

router = APIRouter(
    prefix="/api/v1/callbacks", tags=["callbacks"], dependencies=[Depends(no_nul_in_url)]
)
MAX_FIELDS = 50


async def _form(request: Request) -> dict[str, str]:
    form = await request.form(max_fields=MAX_FIELDS, max_files=0)
    return {k: v for k, v in form.items() if isinstance(v, str)}


@router.post("/payment", response_class=PlainTextResponse)
async def payment_callback(request: Request, uow: UowDep) -> str:
    """Payment notification; answers `success` so the provider stops retrying."""
    params = await _form(request)
    bind_order(params.get("order_no"))  # logs of this request name the order
    await run_in_threadpool(
        lambda: orders.handle_payment_callback(
            uow=uow, params=params, actor=Actor.system("payment-callback")
        )
    )
    return "success"


@router.post("/supplier/{code}", response_class=PlainTextResponse)
async def supplier_callback(code: str, request: Request, uow: UowDep) -> str:
    """A supplier's top-up result notification."""
    params = await _form(request)
    await run_in_threadpool(
        lambda: topup.handle_supplier_callback(
            uow=uow,
            supplier_code=code,
            params=params,
            actor=Actor.system(f"supplier:{code}"),
        )
    )
    return "success"
