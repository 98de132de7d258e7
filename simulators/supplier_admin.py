"""Admin endpoints of the supplier simulator (JSON; no signatures — test and demo use only).

GET    /admin/suppliers                        configured suppliers
PUT    /admin/suppliers/{code}                 add/replace a supplier (SupplierConfig)
POST   /admin/reset                            back to start-up config, nothing else kept
GET    /admin/topups[?account=]                successful top-ups per account (all suppliers)
GET    /admin/callbacks                        notifications sent and their attempts
POST   /admin/callbacks/wait                   wait until pending notifications finished
GET|POST|DELETE /admin/s/{code}/faults[/{id}]  fault rules (simulators.faults.FaultRule)
GET    /admin/s/{code}/orders[/{order_id}]     orders
POST   /admin/s/{code}/orders/{order_id}/complete   {"status": "success"|"failed"}
POST   /admin/s/{code}/keys/mint               {"product_code", "count"} -> {"keys": [...]}
POST   /admin/s/{code}/keys/redeem|invalidate|state   {"key"}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

from simulators.faults import FaultRule
from simulators.protocol import ProtocolError, beijing_time
from simulators.supplier_state import CardKey, SupplierConfig

if TYPE_CHECKING:
    from simulators.supplier import Suppliers


class MintRequest(BaseModel):
    product_code: str = Field(min_length=1, max_length=64)
    count: int = Field(ge=1, le=10_000)


class KeyRequest(BaseModel):
    key: str = Field(min_length=1, max_length=256)


class CompleteRequest(BaseModel):
    status: Literal["success", "failed"]
    message: str = ""


def _key_json(card: CardKey) -> dict[str, object]:
    used_at = beijing_time(card.used_at) if card.used_at else None
    return {"product_code": card.product_code, "state": card.state, "used_at": used_at}


def add_admin_routes(app: FastAPI, suppliers: Suppliers) -> None:
    """Mount the admin endpoints on `app`."""

    @app.get("/admin/suppliers")
    async def list_suppliers() -> list[dict[str, object]]:
        return [s.config.model_dump() for s in suppliers.by_code.values()]

    @app.put("/admin/suppliers/{code}")
    async def put_supplier(code: str, config: SupplierConfig) -> dict[str, object]:
        if config.code != code:
            raise HTTPException(422, "code in path and body differ")
        suppliers.put(config)
        return config.model_dump()

    @app.post("/admin/reset")
    async def reset() -> dict[str, str]:
        await suppliers.notifier.reset()
        suppliers.reset_state()
        return {"status": "reset"}

    @app.get("/admin/topups")
    async def topups(account: str | None = None) -> dict[str, object]:
        totals: dict[str, dict[str, Any]] = {}

        def total(acct: str) -> dict[str, Any]:
            empty = {"count": 0, "amount_cents": 0, "by_supplier": {}, "submits": 0}
            return totals.setdefault(acct, empty)

        for code, state in suppliers.by_code.items():
            for acct, entry in state.topups().items():
                total(acct)["count"] += entry["count"]
                total(acct)["amount_cents"] += entry["amount_cents"]
                total(acct)["by_supplier"][code] = entry["count"]
            for acct, submits in state.submits.items():
                total(acct)["submits"] += submits
        if account is not None:
            return {"account": account, **total(account)}
        return {"accounts": totals}

    @app.get("/admin/callbacks")
    async def callbacks() -> list[dict[str, object]]:
        return [d.as_json() for d in suppliers.notifier.deliveries]

    @app.post("/admin/callbacks/wait")
    async def wait_callbacks(timeout: float = 5.0) -> dict[str, int]:
        await suppliers.notifier.idle(timeout)
        return {"sent": len(suppliers.notifier.deliveries)}

    @app.get("/admin/s/{code}/faults")
    async def list_faults(code: str) -> list[dict[str, object]]:
        return [r.model_dump() for r in suppliers.get(code).faults.rules()]

    @app.post("/admin/s/{code}/faults")
    async def add_fault(code: str, rule: FaultRule) -> dict[str, object]:
        return suppliers.get(code).faults.add(rule).model_dump()

    @app.delete("/admin/s/{code}/faults")
    async def clear_faults(code: str) -> dict[str, str]:
        suppliers.get(code).faults.clear()
        return {"status": "cleared"}

    @app.delete("/admin/s/{code}/faults/{rule_id}")
    async def remove_fault(code: str, rule_id: int) -> dict[str, str]:
        if not suppliers.get(code).faults.remove(rule_id):
            raise HTTPException(404, f"no fault {rule_id}")
        return {"status": "removed"}

    @app.get("/admin/s/{code}/orders")
    async def list_orders(code: str) -> list[dict[str, object]]:
        return [o.as_json() for o in suppliers.get(code).orders.values()]

    @app.get("/admin/s/{code}/orders/{order_id}")
    async def get_order(code: str, order_id: str) -> dict[str, object]:
        order = suppliers.get(code).orders.get(order_id)
        if order is None:
            raise HTTPException(404, f"no order {order_id}")
        return order.as_json()

    @app.post("/admin/s/{code}/orders/{order_id}/complete")
    async def complete(code: str, order_id: str, body: CompleteRequest) -> dict[str, object]:
        state = suppliers.get(code)
        order = state.orders.get(order_id)
        if order is None:
            raise HTTPException(404, f"no order {order_id}")
        if not state.finish(order, body.status, body.message):
            raise HTTPException(409, f"order {order_id} is already {order.status}")
        return order.as_json()

    @app.post("/admin/s/{code}/keys/mint")
    async def mint(code: str, body: MintRequest) -> dict[str, object]:
        keys = suppliers.get(code).mint_keys(body.product_code, body.count)
        return {"product_code": body.product_code, "keys": keys}

    @app.post("/admin/s/{code}/keys/{action}")
    async def key_action(code: str, action: str, body: KeyRequest) -> dict[str, object]:
        state = suppliers.get(code)
        try:
            if action == "redeem":
                return _key_json(state.redeem_key(body.key))
            if action == "invalidate":
                return _key_json(state.invalidate_key(body.key))
            if action == "state":
                return _key_json(state._key(body.key))
        except ProtocolError as exc:
            raise HTTPException(404, exc.msg) from None
        raise HTTPException(404, f"no key action {action}")
