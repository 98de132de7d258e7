"""The supplier simulator: one HTTP service playing any number of upstream suppliers.

Each supplier lives under `/s/{code}` with its own merchants and secrets, so a test can make
supplier A fail while supplier B succeeds. Protocol (see `simulators.protocol` for the envelope,
signature and error codes; amounts are yuan strings with two decimals, e.g. "10.00"):

    POST /s/{code}/api/topup/submit   merchant_id order_id product_code account amount
                                      [notify_url] timestamp [sign_type] sign
    POST /s/{code}/api/topup/query    merchant_id order_id timestamp [sign_type] sign
    POST /s/{code}/api/card/check     merchant_id product_code card_key timestamp [sign_type] sign

Submit and query answer `data = {order_id, supplier_order_id, status, amount, message}` with
status processing | success | failed. A repeated submit of the same order_id returns the existing
order and never tops up twice. A final state is POSTed (signed form) to `notify_url`:
`merchant_id order_id supplier_order_id status amount message timestamp sign_type sign`;
the merchant answers the body `success`. Check-key answers `data = {status, used_at}` with status
unused | used | invalid and used_at in Beijing time ("2026-11-22 20:15:00") or "".

Admin (JSON, for tests and the demo): `/admin/...` — see `create_supplier_app`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Literal

from fastapi import FastAPI, HTTPException, Request, Response

from fulfilment.money import AmountFormatError, format_amount, parse_amount
from fulfilment.suppliers.signing import signed
from simulators.callbacks import Notifier
from simulators.faults import disrupt
from simulators.protocol import (
    Code,
    ProtocolError,
    authenticate,
    beijing_time,
    error,
    notify_url,
    ok,
    read_form,
    require,
)
from simulators.supplier_admin import add_admin_routes
from simulators.supplier_state import SupplierConfig, SupplierOrder, SupplierState


class Suppliers:
    """Every simulated supplier of one process, plus the shared notifier."""

    def __init__(self, configs: Iterable[SupplierConfig]) -> None:
        self.initial = [c.model_copy(deep=True) for c in configs]
        self.notifier = Notifier()
        self.by_code: dict[str, SupplierState] = {}
        self.reset_state()

    def reset_state(self) -> None:
        """Back to the start-up configuration, with no orders, keys or faults."""
        for state in self.by_code.values():
            state.close()
        self.by_code = {}
        for config in self.initial:
            self.put(config.model_copy(deep=True))

    def put(self, config: SupplierConfig) -> SupplierState:
        """Add or replace a supplier (its orders and keys are kept when replacing)."""
        state = SupplierState(config, on_final=lambda order: self.notify(state, order))
        old = self.by_code.get(config.code)
        if old is not None:
            state.orders, state.keys, state.faults = old.orders, old.keys, old.faults
        self.by_code[config.code] = state
        return state

    def get(self, code: str) -> SupplierState:
        """The supplier, or HTTP 404."""
        state = self.by_code.get(code)
        if state is None:
            raise HTTPException(404, f"no supplier {code}")
        return state

    def notify(self, state: SupplierState, order: SupplierOrder) -> None:
        """Send the final state of `order` to its notify_url (faults permitting)."""
        if not order.notify_url:
            return
        scope = {"account": order.account, "product_code": order.product_code}
        if state.faults.take("callback_lost", "callback", **scope):
            return
        secret = state.config.merchants.get(order.merchant_id, "")
        params = {
            "merchant_id": order.merchant_id,
            "order_id": order.order_id,
            "supplier_order_id": order.supplier_order_id,
            "status": order.status,
            "amount": format_amount(order.amount_cents),
            "message": order.message,
            "timestamp": str(int(time.time())),
            "sign_type": state.config.callback_sign_type,
        }
        params = signed(params, secret)
        if state.faults.take("callback_bad_sign", "callback", **scope):
            params["sign"] = "0" * len(params["sign"])
        attempts, backoff = state.config.callback_attempts, state.config.callback_backoff
        self.notifier.send(order.notify_url, params, attempts=attempts, backoff=backoff)


def order_data(order: SupplierOrder) -> dict[str, object]:
    """The `data` of submit and query answers."""
    return {
        "order_id": order.order_id,
        "supplier_order_id": order.supplier_order_id,
        "status": order.status,
        "amount": format_amount(order.amount_cents),
        "message": order.message,
    }


def create_supplier_app(configs: Iterable[SupplierConfig]) -> FastAPI:
    """The simulator app serving `configs` (admin `POST /admin/reset` returns to them)."""
    suppliers = Suppliers(configs)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        await suppliers.notifier.aclose()

    app = FastAPI(title="kamidesk supplier simulator", lifespan=lifespan)
    app.state.suppliers = suppliers

    @app.post("/s/{code}/api/topup/submit")
    async def submit(code: str, request: Request) -> Response:
        state = suppliers.get(code)
        params = await read_form(request)
        try:
            authenticate(params, state.config.merchants)
            order_id, product_code, account, amount = require(
                params, "order_id", "product_code", "account", "amount"
            )
            cents = _positive_cents(amount)
            url = notify_url(params)
            state.submits[account] = state.submits.get(account, 0) + 1
            scope = {"account": account, "product_code": product_code, "order_no": order_id}
            disruption = await disrupt(state.faults, "submit", scope)
            order = None
            if disruption.lets_action_happen:
                # A repeated submit must not use up a fault meant for a new order.
                is_new = order_id not in state.orders
                forced = state.faults.take("outcome", "submit", **scope) if is_new else None
                order = state.submit(
                    merchant_id=params["merchant_id"], order_id=order_id,
                    product_code=product_code, account=account, amount_cents=cents,
                    notify_url=url, outcome=forced.outcome if forced else None,
                )  # fmt: skip
            answer = await disruption.answer()
            if answer is not None:
                return answer
            if order is None:
                raise ProtocolError(Code.BUSY, "system busy")
            return ok(order_data(order))
        except ProtocolError as exc:
            return error(exc)

    @app.post("/s/{code}/api/topup/query")
    async def query(code: str, request: Request) -> Response:
        state = suppliers.get(code)
        params = await read_form(request)
        try:
            authenticate(params, state.config.merchants)
            (order_id,) = require(params, "order_id")
            order = state.orders.get(order_id)
            scope = {"order_no": order_id}
            if order is not None:
                scope |= {"account": order.account, "product_code": order.product_code}
            answer = await (await disrupt(state.faults, "query", scope)).answer()
            if answer is not None:
                return answer
            if order is None or order.merchant_id != params["merchant_id"]:
                raise ProtocolError(Code.NOT_FOUND, f"no order {order_id}")
            return ok(order_data(order))
        except ProtocolError as exc:
            return error(exc)

    @app.post("/s/{code}/api/card/check")
    async def check_key(code: str, request: Request) -> Response:
        state = suppliers.get(code)
        params = await read_form(request)
        try:
            authenticate(params, state.config.merchants)
            if not state.config.supports_key_check:
                raise ProtocolError(Code.UNSUPPORTED, "key check not supported")
            product_code, key = require(params, "product_code", "card_key")
            scope = {"product_code": product_code}
            answer = await (await disrupt(state.faults, "check_key", scope)).answer()
            if answer is not None:
                return answer
            return ok(_key_status(state, product_code, key))
        except ProtocolError as exc:
            return error(exc)

    add_admin_routes(app, suppliers)
    return app


def _positive_cents(amount: str) -> int:
    try:
        cents = parse_amount(amount)
    except AmountFormatError as exc:
        raise ProtocolError(Code.BAD_PARAM, str(exc)) from None
    if cents <= 0:
        raise ProtocolError(Code.BAD_PARAM, "amount must be positive")
    return cents


def _key_status(state: SupplierState, product_code: str, key: str) -> dict[str, object]:
    scope = {"product_code": product_code}
    card = state.keys.get(key)
    status: Literal["unused", "used", "invalid"] = "invalid"
    used_at = ""
    if card is not None and card.product_code == product_code:
        status = card.state
        used_at = beijing_time(card.used_at) if card.used_at else ""
    if state.faults.take("key_invalid", "check_key", **scope):
        status, used_at = "invalid", ""
    elif state.faults.take("key_used", "check_key", **scope) and status == "unused":
        status, used_at = "used", beijing_time(datetime.now(UTC))
    return {"product_code": product_code, "status": status, "used_at": used_at}
