"""`HttpSupplierClient`: a supplier speaking the signed-form protocol over HTTP (httpx).

Endpoints under `base_url` (e.g. `http://127.0.0.1:8001/s/sup-a` for the simulator):
`/api/topup/submit`, `/api/topup/query`, `/api/card/check`; the protocol is described in
`simulators.supplier`. Mapping of answers to port results:

- no readable answer (timeout, transport error, non-200, not the JSON envelope) -> UNKNOWN;
- submit: "0000" + status processing/success/failed -> ACCEPTED/SUCCESS/FAILED; a refusal that
  proves nothing was created (bad parameter, merchant, signature, timestamp, rejected) -> FAILED;
  any other code (busy, conflicting order, codes we do not know) -> UNKNOWN;
- query: "3001" -> NOT_FOUND; other codes -> UNKNOWN (an auth error says nothing of the order);
- check-key: "4001" or `supports_key_check=False` -> UNSUPPORTED.

Card keys never appear in logs or result messages; `keyvault.mask` shows their ends only.

Errors::

    ValueError
     └── fulfilment.ports.SignatureError   -- parse_callback: bad signature or merchant
          ├── MalformedCallback            -- (from `signing`) signed, but fields unusable
          └── StaleCallback                -- signed longer ago than `callback_max_age` s
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone

import httpx

from fulfilment.keyvault import mask
from fulfilment.money import format_amount
from fulfilment.ports import (
    KeyCheckResult,
    KeyCheckStatus,
    SignatureError,
    SupplierCallback,
    SupplierOutcome,
    SupplierResult,
)
from fulfilment.suppliers.signing import DEFAULT_MAX_AGE_SECONDS, MD5, MalformedCallback, verify
from fulfilment.suppliers.transport import Answer, SignedEndpoint

log = logging.getLogger(__name__)

BEIJING = timezone(timedelta(hours=8))
DEFINITE_SUBMIT_FAILURES = {"1001", "1002", "1003", "1004", "2002"}
NOT_FOUND = "3001"
UNSUPPORTED = "4001"
ORDER_STATES = {
    "processing": SupplierOutcome.ACCEPTED,
    "success": SupplierOutcome.SUCCESS,
    "failed": SupplierOutcome.FAILED,
}
KEY_STATES = {
    "unused": KeyCheckStatus.UNUSED,
    "used": KeyCheckStatus.USED,
    "invalid": KeyCheckStatus.INVALID,
}


class HttpSupplierClient(SignedEndpoint):
    """Implements `fulfilment.ports.SupplierClient`; never raises for a supplier's answer."""

    def __init__(
        self,
        *,
        code: str,
        base_url: str,
        merchant_id: str,
        secret: str,
        sign_type: str = MD5,
        notify_url: str = "",
        timeout: float = 5.0,
        supports_key_check: bool = True,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
        callback_max_age: float = DEFAULT_MAX_AGE_SECONDS,
    ) -> None:
        super().__init__(
            label=f"supplier {code}",
            base_url=base_url,
            merchant_id=merchant_id,
            secret=secret,
            sign_type=sign_type,
            timeout=timeout,
            client=client,
            clock=clock,
            callback_max_age=callback_max_age,
        )
        self.code = code
        self._notify_url = notify_url
        self._supports_key_check = supports_key_check

    def submit_topup(
        self, *, request_ref: str, product_code: str, account: str, amount_cents: int
    ) -> SupplierResult:
        """Submit a direct top-up; `request_ref` is our idempotency key at the supplier."""
        params = {
            "order_id": request_ref,
            "product_code": product_code,
            "account": account,
            "amount": format_amount(amount_cents),
            "notify_url": self._notify_url,
        }
        answer = self._post("/api/topup/submit", params)
        if answer.code is None:
            result = SupplierResult(SupplierOutcome.UNKNOWN, message=answer.problem)
        elif answer.ok:
            result = self._order_result(answer, request_ref)
        elif answer.code in DEFINITE_SUBMIT_FAILURES:
            result = SupplierResult(SupplierOutcome.FAILED, message=answer.describe())
        else:
            result = SupplierResult(SupplierOutcome.UNKNOWN, message=answer.describe())
        self._log("submit", request_ref, result)
        return result

    def query_topup(self, *, request_ref: str) -> SupplierResult:
        """Ask the supplier what became of `request_ref`."""
        answer = self._post("/api/topup/query", {"order_id": request_ref})
        if answer.code is None:
            result = SupplierResult(SupplierOutcome.UNKNOWN, message=answer.problem)
        elif answer.ok:
            result = self._order_result(answer, request_ref)
        elif answer.code == NOT_FOUND:
            result = SupplierResult(SupplierOutcome.NOT_FOUND, message=answer.describe())
        else:
            result = SupplierResult(SupplierOutcome.UNKNOWN, message=answer.describe())
        self._log("query", request_ref, result)
        return result

    def check_key(self, *, product_code: str, key: str) -> KeyCheckResult:
        """Ask the supplier whether a card key is valid/unused."""
        if not self._supports_key_check:
            return KeyCheckResult(KeyCheckStatus.UNSUPPORTED, message="supplier cannot check")
        answer = self._post("/api/card/check", {"product_code": product_code, "card_key": key})
        if answer.code is None:
            result = KeyCheckResult(KeyCheckStatus.UNKNOWN, message=answer.problem)
        elif answer.code == UNSUPPORTED:
            result = KeyCheckResult(KeyCheckStatus.UNSUPPORTED, message=answer.describe())
        elif not answer.ok or answer.text("status") not in KEY_STATES:
            result = KeyCheckResult(KeyCheckStatus.UNKNOWN, message=answer.describe())
        else:
            status = KEY_STATES[answer.text("status")]
            used_at = parse_supplier_time(answer.text("used_at"))
            result = KeyCheckResult(status, used_at=used_at, message=answer.msg)
        log.info(
            "supplier %s check_key %s key=%s -> %s",
            self.code,
            product_code,
            mask(key),
            result.status.value,
        )
        return result

    def parse_callback(self, params: Mapping[str, str]) -> SupplierCallback:
        """Verify and decode an async result notification; raises SignatureError."""
        if params.get("merchant_id") != self._merchant_id:
            raise SignatureError(f"supplier {self.code}: callback for another merchant")
        if not verify(params, self._secret):
            raise SignatureError(f"supplier {self.code}: callback signature does not verify")
        self._check_fresh(params)
        request_ref = str(params.get("order_id") or "")
        outcome = ORDER_STATES.get(str(params.get("status") or ""))
        if not request_ref or outcome is None:
            raise MalformedCallback(f"supplier {self.code}: callback without order_id/status")
        supplier_ref = str(params.get("supplier_order_id") or "") or None
        message = str(params.get("message") or "")
        return SupplierCallback(request_ref, outcome, supplier_ref=supplier_ref, message=message)

    def _order_result(self, answer: Answer, request_ref: str) -> SupplierResult:
        outcome = ORDER_STATES.get(answer.text("status"))
        if outcome is None or answer.text("order_id") not in ("", request_ref):
            problem = f"unexpected answer: status={answer.text('status')!r}"
            return SupplierResult(SupplierOutcome.UNKNOWN, message=problem)
        supplier_ref = answer.text("supplier_order_id") or None
        return SupplierResult(outcome, supplier_ref=supplier_ref, message=answer.text("message"))

    def _log(self, action: str, request_ref: str, result: SupplierResult) -> None:
        log.info(
            "supplier %s %s %s -> %s %s",
            self.code,
            action,
            request_ref,
            result.outcome.value,
            result.message,
        )


def parse_supplier_time(text: str) -> datetime | None:
    """'2026-11-22 20:15:00' (Beijing time) -> aware UTC datetime; '' or junk -> None."""
    if not text:
        return None
    try:
        local = datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
    except ValueError:
        return None
    return local.astimezone(UTC)
