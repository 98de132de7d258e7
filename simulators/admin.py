"""Small synchronous clients for the simulators' admin endpoints (tests and the demo).

Every method raises `httpx.HTTPStatusError` when the simulator refuses (unknown supplier, bad
fault rule, ...): in a test that is a mistake in the test, and it should be loud.
"""

from __future__ import annotations

from typing import Any

import httpx


class _Admin:
    def __init__(self, base_url: str, client: httpx.Client | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = client or httpx.Client(timeout=10.0, trust_env=False)
        self._owns_client = client is None

    def close(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_client:
            self._client.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._client.request(method, f"{self.base_url}{path}", **kwargs)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        """Back to the start-up state."""
        self._call("POST", "/admin/reset")


class _SenderAdmin(_Admin):
    def callbacks(self) -> list[dict[str, Any]]:
        """Notifications sent so far, each with its attempts."""
        return self._call("GET", "/admin/callbacks")

    def wait_callbacks(self, timeout: float = 5.0) -> None:
        """Block until every pending notification has been delivered or given up."""
        self._call("POST", "/admin/callbacks/wait", params={"timeout": timeout})


class SupplierSimAdmin(_SenderAdmin):
    """Admin of the supplier simulator; `code` picks the simulated supplier."""

    def supplier_url(self, code: str) -> str:
        """The base URL an `HttpSupplierClient` for `code` talks to."""
        return f"{self.base_url}/s/{code}"

    def put_supplier(self, config: dict[str, Any]) -> None:
        """Add or replace a simulated supplier (fields of `SupplierConfig`)."""
        self._call("PUT", f"/admin/suppliers/{config['code']}", json=config)

    def add_fault(self, code: str, kind: str, **rule: Any) -> dict[str, Any]:
        """Activate a fault rule (fields of `simulators.faults.FaultRule`)."""
        return self._call("POST", f"/admin/s/{code}/faults", json={"kind": kind, **rule})

    def clear_faults(self, code: str) -> None:
        """Remove the supplier's fault rules."""
        self._call("DELETE", f"/admin/s/{code}/faults")

    def orders(self, code: str) -> list[dict[str, Any]]:
        """The supplier's orders."""
        return self._call("GET", f"/admin/s/{code}/orders")

    def order(self, code: str, order_id: str) -> dict[str, Any] | None:
        """One order, or None."""
        response = self._client.get(f"{self.base_url}/admin/s/{code}/orders/{order_id}")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    def complete_order(self, code: str, order_id: str, status: str, message: str = "") -> None:
        """Finish a processing order (sends the callback)."""
        body = {"status": status, "message": message}
        self._call("POST", f"/admin/s/{code}/orders/{order_id}/complete", json=body)

    def topups(self, account: str) -> dict[str, Any]:
        """Successful top-ups of `account` across suppliers: {count, amount_cents, by_supplier}."""
        return self._call("GET", "/admin/topups", params={"account": account})

    def topup_count(self, account: str) -> int:
        """How many times `account` was topped up, across every simulated supplier."""
        return int(self.topups(account)["count"])

    def submit_count(self, account: str) -> int:
        """How many signed submit requests for `account` reached any supplier (incl. repeats)."""
        return int(self.topups(account)["submits"])

    def mint_keys(self, code: str, product_code: str, count: int) -> list[str]:
        """New unused card keys (plaintext) for `product_code` at supplier `code`."""
        body = {"product_code": product_code, "count": count}
        return self._call("POST", f"/admin/s/{code}/keys/mint", json=body)["keys"]

    def redeem_key(self, code: str, key: str) -> dict[str, Any]:
        """Simulate a customer redeeming the key."""
        return self._call("POST", f"/admin/s/{code}/keys/redeem", json={"key": key})

    def invalidate_key(self, code: str, key: str) -> dict[str, Any]:
        """Simulate the supplier voiding the key."""
        return self._call("POST", f"/admin/s/{code}/keys/invalidate", json={"key": key})

    def key_state(self, code: str, key: str) -> dict[str, Any]:
        """{product_code, state, used_at} of a minted key."""
        return self._call("POST", f"/admin/s/{code}/keys/state", json={"key": key})


class PaymentSandboxAdmin(_SenderAdmin):
    """Admin of the payment sandbox."""

    def add_fault(self, kind: str, **rule: Any) -> dict[str, Any]:
        """Activate a fault rule (operations: create, query, refund, refund_query, callback)."""
        return self._call("POST", "/admin/faults", json={"kind": kind, **rule})

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self._call("DELETE", "/admin/faults")

    def pay(self, order_no: str) -> dict[str, Any]:
        """Pay the payment of `order_no` as the payer would (sends the callback)."""
        return self._call("POST", f"/admin/payments/{order_no}/pay")

    def payment(self, order_no: str) -> dict[str, Any]:
        """The payment of `order_no`."""
        return self._call("GET", f"/admin/payments/{order_no}")

    def refunds(self) -> list[dict[str, Any]]:
        """Every refund."""
        return self._call("GET", "/admin/refunds")

    def complete_refund(self, refund_ref: str, status: str) -> dict[str, Any]:
        """Settle a pending refund as succeeded or failed."""
        body = {"status": status}
        return self._call("POST", f"/admin/refunds/{refund_ref}/complete", json=body)


class CallbackSinkAdmin(_Admin):
    """Client of `simulators.receiver`."""

    def url(self, channel: str) -> str:
        """The notify URL of `channel`."""
        return f"{self.base_url}/notify/{channel}"

    def received(self, channel: str) -> list[dict[str, str]]:
        """Forms received on `channel`, oldest first."""
        return self._call("GET", f"/received/{channel}")

    def fail_next(self, channel: str, times: int = 1, status_code: int = 500) -> None:
        """Make the next `times` deliveries to `channel` fail."""
        body = {"times": times, "status_code": status_code}
        self._call("POST", f"/admin/fail/{channel}", json=body)
