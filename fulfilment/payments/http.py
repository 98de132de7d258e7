"""`HttpPaymentProvider`: the payment provider over HTTP (httpx), signed-form protocol.

Endpoints under `base_url`: `/api/pay/create`, `/api/pay/query`, `/api/refund`,
`/api/refund/query` (described in `simulators.payment`). Mapping of answers:

- no readable answer (timeout, transport error, non-200, not the envelope) -> UNKNOWN;
- query: "0000" + status pending/paid -> PENDING/PAID; "3001" -> NOT_FOUND; else UNKNOWN;
- refund: "0000" + status succeeded/pending/failed -> SUCCEEDED/PENDING/FAILED; a refusal that
  proves no money moved for this request (bad parameter/merchant/signature/timestamp, not paid,
  over-refund, ref reused with other data, currency mismatch, unknown txn) -> FAILED;
  other codes (busy, unknown ones) -> UNKNOWN, and repeating the same `refund_ref` is safe.

Errors::

    ValueError
     └── fulfilment.ports.SignatureError   -- parse_callback: bad signature or merchant
          ├── MalformedCallback            -- (from `fulfilment.suppliers.signing`)
          └── StaleCallback                -- signed longer ago than `callback_max_age` s
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from fulfilment.money import AmountFormatError, format_amount, parse_amount
from fulfilment.ports import (
    PaymentCallback,
    PaymentQuery,
    PaymentStatus,
    RefundOutcome,
    RefundResult,
    SignatureError,
)
from fulfilment.suppliers.signing import (
    DEFAULT_MAX_AGE_SECONDS,
    HMAC_SHA256,
    MalformedCallback,
    verify,
)
from fulfilment.suppliers.transport import Answer, SignedEndpoint

log = logging.getLogger(__name__)

NOT_FOUND = "3001"
DEFINITE_REFUND_FAILURES = {"1001", "1002", "1003", "1004", "2003", "2004", "2005", "2006", "3001"}
PAYMENT_STATES = {"pending": PaymentStatus.PENDING, "paid": PaymentStatus.PAID}
REFUND_STATES = {
    "succeeded": RefundOutcome.SUCCEEDED,
    "pending": RefundOutcome.PENDING,
    "failed": RefundOutcome.FAILED,
}


@dataclass(frozen=True)
class CreatedPayment:
    """The answer to `create_payment`; `ok` False means no pay URL (see `message`)."""

    ok: bool
    txn_id: str | None = None
    pay_url: str | None = None
    message: str = ""


class HttpPaymentProvider(SignedEndpoint):
    """Implements `fulfilment.ports.PaymentProvider`; never raises for a provider's answer."""

    def __init__(
        self,
        *,
        base_url: str,
        merchant_id: str,
        secret: str,
        sign_type: str = HMAC_SHA256,
        timeout: float = 5.0,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
        callback_max_age: float = DEFAULT_MAX_AGE_SECONDS,
    ) -> None:
        super().__init__(
            label="payment provider",
            base_url=base_url,
            merchant_id=merchant_id,
            secret=secret,
            sign_type=sign_type,
            timeout=timeout,
            client=client,
            clock=clock,
            callback_max_age=callback_max_age,
        )

    def create_payment(
        self,
        *,
        order_no: str,
        amount_cents: int,
        currency: str,
        notify_url: str,
        subject: str = "",
    ) -> CreatedPayment:
        """Open a payment for `order_no` (idempotent at the provider); not part of the port."""
        params = {
            "order_no": order_no,
            "amount": format_amount(amount_cents),
            "currency": currency,
            "notify_url": notify_url,
            "subject": subject,
        }
        answer = self._post("/api/pay/create", params)
        if not answer.ok or not answer.text("pay_url"):
            return CreatedPayment(False, message=answer.describe())
        return CreatedPayment(True, txn_id=answer.text("txn_id"), pay_url=answer.text("pay_url"))

    def query_payment(self, *, order_no: str) -> PaymentQuery:
        """What the provider knows of the payment for `order_no`."""
        answer = self._post("/api/pay/query", {"order_no": order_no})
        if answer.code == NOT_FOUND:
            return PaymentQuery(PaymentStatus.NOT_FOUND)
        status = PAYMENT_STATES.get(answer.text("status"))
        if not answer.ok or status is None or answer.text("order_no") not in ("", order_no):
            log.info("payment query %s -> unknown %s", order_no, answer.problem or answer.code)
            return PaymentQuery(PaymentStatus.UNKNOWN)
        try:
            amount_cents = parse_amount(answer.text("amount"))
        except AmountFormatError:
            return PaymentQuery(PaymentStatus.UNKNOWN)
        return PaymentQuery(
            status,
            txn_id=answer.text("txn_id") or None,
            amount_cents=amount_cents,
            currency=answer.text("currency") or None,
        )

    def refund(
        self, *, refund_ref: str, txn_id: str, amount_cents: int, currency: str
    ) -> RefundResult:
        """Refund; `refund_ref` is our idempotency key (repeating it never refunds twice)."""
        params = {
            "refund_ref": refund_ref,
            "txn_id": txn_id,
            "amount": format_amount(amount_cents),
            "currency": currency,
        }
        result = self._refund_result(self._post("/api/refund", params), refund_ref)
        log.info("refund %s -> %s %s", refund_ref, result.outcome.value, result.message)
        return result

    def query_refund(self, *, refund_ref: str) -> RefundResult:
        """What became of `refund_ref` ("3001": no such refund, so no money moved: FAILED)."""
        answer = self._post("/api/refund/query", {"refund_ref": refund_ref})
        return self._refund_result(answer, refund_ref, definite={NOT_FOUND})

    def parse_callback(self, params: Mapping[str, str]) -> PaymentCallback:
        """Verify and decode a payment notification; raises SignatureError."""
        if params.get("merchant_id") != self._merchant_id:
            raise SignatureError("payment callback for another merchant")
        if not verify(params, self._secret):
            raise SignatureError("payment callback signature does not verify")
        self._check_fresh(params)
        order_no, txn_id, currency = (
            str(params.get(k) or "") for k in ("order_no", "txn_id", "currency")
        )
        status = PAYMENT_STATES.get(str(params.get("status") or ""))
        if not (order_no and txn_id and currency) or status is None:
            raise MalformedCallback("payment callback without order_no/txn_id/currency/status")
        try:
            amount_cents = parse_amount(str(params.get("amount") or ""))
        except AmountFormatError as exc:
            raise MalformedCallback(f"payment callback amount: {exc}") from None
        return PaymentCallback(order_no, txn_id, amount_cents, currency, status)

    def _refund_result(
        self, answer: Answer, refund_ref: str, definite: set[str] = DEFINITE_REFUND_FAILURES
    ) -> RefundResult:
        if answer.code is None:
            return RefundResult(RefundOutcome.UNKNOWN, message=answer.problem)
        if not answer.ok:
            outcome = RefundOutcome.FAILED if answer.code in definite else RefundOutcome.UNKNOWN
            return RefundResult(outcome, message=answer.describe())
        outcome = REFUND_STATES.get(answer.text("status"), RefundOutcome.UNKNOWN)
        if answer.text("refund_ref") not in ("", refund_ref):
            outcome = RefundOutcome.UNKNOWN
        return RefundResult(outcome, provider_refund_id=answer.text("refund_id") or None)
