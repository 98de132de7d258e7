"""Ports to the outside world: suppliers and the payment provider.

Each port is a `Protocol`; `fulfilment.suppliers.http` and `fulfilment.payments.http` implement
them over HTTP, tests use fakes. Results are plain values: an adapter never raises for an answer
the supplier gave; it raises only `SignatureError` for a callback that fails verification.

A supplier timeout, a transport error or a 5xx is `UNKNOWN`: the order may or may not exist at
the supplier, so the caller must query before re-submitting or failing over.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class SignatureError(ValueError):
    """A callback's signature (or merchant id) did not verify."""


class SupplierOutcome(StrEnum):
    ACCEPTED = "accepted"  # the supplier took the order and is processing it
    SUCCESS = "success"  # the top-up arrived
    FAILED = "failed"  # definite failure: nothing was charged at the supplier
    NOT_FOUND = "not_found"  # query only: the supplier has no order with this ref
    UNKNOWN = "unknown"  # timeout, transport error, 5xx, unreadable answer


@dataclass(frozen=True)
class SupplierResult:
    outcome: SupplierOutcome
    supplier_ref: str | None = None
    message: str = ""


@dataclass(frozen=True)
class SupplierCallback:
    request_ref: str
    outcome: SupplierOutcome  # SUCCESS or FAILED (ACCEPTED is allowed and changes nothing)
    supplier_ref: str | None = None
    message: str = ""


class KeyCheckStatus(StrEnum):
    UNUSED = "unused"  # the key is valid and has not been redeemed
    USED = "used"  # redeemed; `used_at` says when
    INVALID = "invalid"  # the supplier does not know the key or declares it void
    UNSUPPORTED = "unsupported"  # this supplier cannot check keys
    UNKNOWN = "unknown"  # the check could not be completed (timeout, 5xx, ...)


@dataclass(frozen=True)
class KeyCheckResult:
    status: KeyCheckStatus
    used_at: datetime | None = None
    message: str = ""


class SupplierClient(Protocol):
    """One upstream supplier."""

    code: str

    def submit_topup(
        self, *, request_ref: str, product_code: str, account: str, amount_cents: int
    ) -> SupplierResult:
        """Submit a direct top-up; `request_ref` is our idempotency key at the supplier."""
        ...

    def query_topup(self, *, request_ref: str) -> SupplierResult:
        """Ask the supplier what became of `request_ref`."""
        ...

    def check_key(self, *, product_code: str, key: str) -> KeyCheckResult:
        """Ask the supplier whether a card key is valid/unused."""
        ...

    def parse_callback(self, params: Mapping[str, str]) -> SupplierCallback:
        """Verify and decode an async result notification; raises SignatureError."""
        ...


class SupplierDirectory(Protocol):
    """Finds the client for a supplier code."""

    def get(self, code: str) -> SupplierClient: ...


class PaymentStatus(StrEnum):
    PAID = "paid"
    PENDING = "pending"
    NOT_FOUND = "not_found"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class PaymentQuery:
    status: PaymentStatus
    txn_id: str | None = None
    amount_cents: int | None = None
    currency: str | None = None


@dataclass(frozen=True)
class PaymentCallback:
    order_no: str
    txn_id: str
    amount_cents: int
    currency: str
    status: PaymentStatus


class RefundOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    PENDING = "pending"
    FAILED = "failed"  # definite: no money moved
    UNKNOWN = "unknown"  # timeout etc.: query (or retry with the same ref) later


@dataclass(frozen=True)
class RefundResult:
    outcome: RefundOutcome
    provider_refund_id: str | None = None
    message: str = ""


class PaymentProvider(Protocol):
    """The payment provider the shop takes money through."""

    def query_payment(self, *, order_no: str) -> PaymentQuery:
        """What the provider knows of the payment for `order_no`."""
        ...

    def refund(
        self, *, refund_ref: str, txn_id: str, amount_cents: int, currency: str
    ) -> RefundResult:
        """Refund; `refund_ref` is our idempotency key (repeating it never refunds twice)."""
        ...

    def parse_callback(self, params: Mapping[str, str]) -> PaymentCallback:
        """Verify and decode a payment notification; raises SignatureError."""
        ...
