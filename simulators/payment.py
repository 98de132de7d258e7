"""The payment sandbox: a payment provider with the shape of the real ones.

Protocol (envelope, signature and codes as in `simulators.protocol`; amounts "10.00"):

    POST /api/pay/create     merchant_id order_no amount currency notify_url [subject]
                             -> {order_no, txn_id, pay_url, status}
    GET  /pay/{txn_id}       the payer's page;  POST /pay/{txn_id} pays
    POST /api/pay/query      merchant_id order_no -> {order_no, txn_id, status, amount,
                             currency, paid_at, refunded_amount}; status pending | paid
    POST /api/refund         merchant_id refund_ref txn_id amount currency [reason]
                             -> {refund_ref, refund_id, txn_id, status, amount}
    POST /api/refund/query   merchant_id refund_ref -> the same data

A payment notification is a signed form POST to notify_url: `merchant_id order_no txn_id amount
currency status paid_at timestamp sign_type sign`; the merchant answers `success`.
Refunds are idempotent on (merchant, refund_ref) and never exceed the paid amount.
Fault operations: create, query, refund, refund_query, callback. Admin: `simulators.payment_admin`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import HTMLResponse

from fulfilment.money import AmountFormatError, format_amount, parse_amount
from fulfilment.suppliers.signing import signed
from simulators.callbacks import Notifier
from simulators.faults import FaultBook, disrupt
from simulators.payment_admin import add_admin_routes
from simulators.payment_state import Ledger, Payment, Refund, SandboxConfig
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

CURRENCY = re.compile(r"^[A-Z]{3}$")
Action = Callable[[dict[str, str]], dict[str, str]]


class Sandbox:
    """Configuration, ledger, faults and notifier of one sandbox process."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.ledger = Ledger()
        self.faults = FaultBook()
        self.notifier = Notifier()

    async def reset(self) -> None:
        """Forget every payment, refund, fault and notification."""
        await self.notifier.reset()
        self.ledger = Ledger()
        self.faults = FaultBook()

    def pay(self, payment: Payment) -> bool:
        """Mark the payment paid and notify the merchant (faults permitting)."""
        if not self.ledger.pay(payment):
            return False
        if not payment.notify_url or self.faults.take(
            "callback_lost", "callback", order_no=payment.order_no
        ):
            return True
        params = {
            **payment_data(payment),
            "merchant_id": payment.merchant_id,
            "timestamp": str(int(time.time())),
            "sign_type": self.config.callback_sign_type,
        }
        params.pop("refunded_amount")
        params = signed(params, self.config.merchants[payment.merchant_id])
        if self.faults.take("callback_bad_sign", "callback", order_no=payment.order_no):
            params["sign"] = "0" * len(params["sign"])
        self.notifier.send(
            payment.notify_url,
            params,
            attempts=self.config.callback_attempts,
            backoff=self.config.callback_backoff,
        )
        return True


def payment_data(payment: Payment) -> dict[str, str]:
    """The `data` of create and query answers (and the callback's fields)."""
    return {
        "order_no": payment.order_no,
        "txn_id": payment.txn_id,
        "status": payment.status,
        "amount": format_amount(payment.amount_cents),
        "currency": payment.currency,
        "paid_at": beijing_time(payment.paid_at) if payment.paid_at else "",
        "refunded_amount": format_amount(payment.refunded_cents),
    }


def refund_data(refund: Refund) -> dict[str, str]:
    """The `data` of refund and refund-query answers."""
    return {
        "refund_ref": refund.refund_ref,
        "refund_id": refund.refund_id,
        "txn_id": refund.txn_id,
        "status": refund.status,
        "amount": format_amount(refund.amount_cents),
        "currency": refund.currency,
    }


def _money(params: dict[str, str]) -> tuple[int, str]:
    amount, currency = require(params, "amount", "currency")
    try:
        cents = parse_amount(amount)
    except AmountFormatError as exc:
        raise ProtocolError(Code.BAD_PARAM, str(exc)) from None
    if cents <= 0:
        raise ProtocolError(Code.BAD_PARAM, "amount must be positive")
    if not CURRENCY.match(currency):
        raise ProtocolError(Code.BAD_PARAM, "currency must be an ISO 4217 code like CNY")
    return cents, currency


def create_payment_app(config: SandboxConfig) -> FastAPI:
    """The sandbox app for `config`."""
    sandbox = Sandbox(config)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        await sandbox.notifier.aclose()

    app = FastAPI(title="kamidesk payment sandbox", lifespan=lifespan)
    app.state.sandbox = sandbox

    async def handle(request: Request, operation: str, action: Action) -> Response:
        params = await read_form(request)
        try:
            authenticate(params, sandbox.config.merchants)
            scope = {"order_no": params.get("order_no") or params.get("refund_ref")}
            disruption = await disrupt(sandbox.faults, operation, scope)
            data = action(params) if disruption.lets_action_happen else None
            answer = await disruption.answer()
            if answer is not None:
                return answer
            if data is None:
                raise ProtocolError(Code.BUSY, "system busy")
            return ok(data)
        except ProtocolError as exc:
            return error(exc)

    @app.post("/api/pay/create")
    async def create(request: Request) -> Response:
        base = (sandbox.config.public_url or str(request.base_url)).rstrip("/")

        def action(params: dict[str, str]) -> dict[str, str]:
            (order_no,) = require(params, "order_no")
            cents, currency = _money(params)
            payment = sandbox.ledger.create(
                merchant_id=params["merchant_id"], order_no=order_no, amount_cents=cents,
                currency=currency, notify_url=notify_url(params),
                subject=params.get("subject", ""),
            )  # fmt: skip
            return {**payment_data(payment), "pay_url": f"{base}/pay/{payment.txn_id}"}

        return await handle(request, "create", action)

    @app.post("/api/pay/query")
    async def query(request: Request) -> Response:
        def action(params: dict[str, str]) -> dict[str, str]:
            (order_no,) = require(params, "order_no")
            payment = sandbox.ledger.payments.get((params["merchant_id"], order_no))
            if payment is None:
                raise ProtocolError(Code.NOT_FOUND, f"no payment for {order_no}")
            return payment_data(payment)

        return await handle(request, "query", action)

    @app.post("/api/refund")
    async def refund(request: Request) -> Response:
        def action(params: dict[str, str]) -> dict[str, str]:
            refund_ref, txn_id = require(params, "refund_ref", "txn_id")
            cents, currency = _money(params)
            forced = sandbox.faults.take("outcome", "refund", order_no=refund_ref)
            outcome = forced.outcome if forced and forced.outcome else "succeeded"
            if outcome not in ("succeeded", "pending", "failed"):
                outcome = "succeeded"
            made = sandbox.ledger.refund(
                merchant_id=params["merchant_id"], refund_ref=refund_ref, txn_id=txn_id,
                amount_cents=cents, currency=currency, reason=params.get("reason", ""),
                outcome=outcome,  # type: ignore[arg-type]
            )  # fmt: skip
            return refund_data(made)

        return await handle(request, "refund", action)

    @app.post("/api/refund/query")
    async def refund_query(request: Request) -> Response:
        def action(params: dict[str, str]) -> dict[str, str]:
            (refund_ref,) = require(params, "refund_ref")
            made = sandbox.ledger.refunds.get((params["merchant_id"], refund_ref))
            if made is None:
                raise ProtocolError(Code.NOT_FOUND, f"no refund {refund_ref}")
            return refund_data(made)

        return await handle(request, "refund_query", action)

    @app.get("/pay/{txn_id}", response_class=HTMLResponse)
    async def pay_page(txn_id: str) -> str:
        payment = _payment(sandbox, txn_id)
        amount = f"{format_amount(payment.amount_cents)} {payment.currency}"
        if payment.status == "paid":
            return f"<html><body><p>已支付 / Paid: {amount}</p></body></html>"
        return (
            "<html><body><h1>Sandbox checkout</h1>"
            f"<p>订单 / Order {payment.order_no}: {amount}</p>"
            f'<form method="post" action="/pay/{payment.txn_id}">'
            '<button type="submit">支付 / Pay</button></form></body></html>'
        )

    @app.post("/pay/{txn_id}", response_class=HTMLResponse)
    async def pay(txn_id: str) -> str:
        payment = _payment(sandbox, txn_id)
        sandbox.pay(payment)
        return f"<html><body><p>已支付 / Paid: order {payment.order_no}</p></body></html>"

    add_admin_routes(app, sandbox)
    return app


def _payment(sandbox: Sandbox, txn_id: str) -> Payment:
    payment = sandbox.ledger.by_txn.get(txn_id)
    if payment is None:
        raise HTTPException(404, "no such payment")
    return payment
