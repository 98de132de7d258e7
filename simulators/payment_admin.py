"""Admin endpoints of the payment sandbox (JSON; test and demo use only).

POST   /admin/reset                         forget everything
GET    /admin/payments[/{order_no}]         payments (of any merchant)
POST   /admin/payments/{order_no}/pay       pay it, as the payer would (sends the callback)
GET    /admin/refunds                       refunds
POST   /admin/refunds/{refund_ref}/complete {"status": "succeeded"|"failed"} (pending ones)
GET|POST|DELETE /admin/faults[/{id}]        fault rules (simulators.faults.FaultRule)
GET    /admin/callbacks                     notifications sent and their attempts
POST   /admin/callbacks/wait                wait until pending notifications finished
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from simulators.faults import FaultRule
from simulators.payment_state import Payment

if TYPE_CHECKING:
    from simulators.payment import Sandbox


class SettleRequest(BaseModel):
    status: Literal["succeeded", "failed"]


def add_admin_routes(app: FastAPI, sandbox: Sandbox) -> None:
    """Mount the admin endpoints on `app`."""

    def by_order(order_no: str) -> Payment:
        for payment in sandbox.ledger.payments.values():
            if payment.order_no == order_no:
                return payment
        raise HTTPException(404, f"no payment for {order_no}")

    @app.post("/admin/reset")
    async def reset() -> dict[str, str]:
        await sandbox.reset()
        return {"status": "reset"}

    @app.get("/admin/payments")
    async def payments() -> list[dict[str, object]]:
        return [p.as_json() for p in sandbox.ledger.payments.values()]

    @app.get("/admin/payments/{order_no}")
    async def payment(order_no: str) -> dict[str, object]:
        return by_order(order_no).as_json()

    @app.post("/admin/payments/{order_no}/pay")
    async def pay(order_no: str) -> dict[str, object]:
        found = by_order(order_no)
        sandbox.pay(found)
        return found.as_json()

    @app.get("/admin/refunds")
    async def refunds() -> list[dict[str, object]]:
        return [r.as_json() for r in sandbox.ledger.refunds.values()]

    @app.post("/admin/refunds/{refund_ref}/complete")
    async def settle(refund_ref: str, body: SettleRequest) -> dict[str, object]:
        for refund in sandbox.ledger.refunds.values():
            if refund.refund_ref == refund_ref:
                if not sandbox.ledger.settle(refund, body.status):
                    raise HTTPException(409, f"refund {refund_ref} is already {refund.status}")
                return refund.as_json()
        raise HTTPException(404, f"no refund {refund_ref}")

    @app.get("/admin/faults")
    async def faults() -> list[dict[str, object]]:
        return [r.model_dump() for r in sandbox.faults.rules()]

    @app.post("/admin/faults")
    async def add_fault(rule: FaultRule) -> dict[str, object]:
        return sandbox.faults.add(rule).model_dump()

    @app.delete("/admin/faults")
    async def clear_faults() -> dict[str, str]:
        sandbox.faults.clear()
        return {"status": "cleared"}

    @app.delete("/admin/faults/{rule_id}")
    async def remove_fault(rule_id: int) -> dict[str, str]:
        if not sandbox.faults.remove(rule_id):
            raise HTTPException(404, f"no fault {rule_id}")
        return {"status": "removed"}

    @app.get("/admin/callbacks")
    async def callbacks() -> list[dict[str, object]]:
        return [d.as_json() for d in sandbox.notifier.deliveries]

    @app.post("/admin/callbacks/wait")
    async def wait_callbacks(timeout: float = 5.0) -> dict[str, int]:
        await sandbox.notifier.idle(timeout)
        return {"sent": len(sandbox.notifier.deliveries)}
