"""In-memory state of the payment sandbox: payments and refunds (one event loop, no locks)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field

from simulators.protocol import Code, ProtocolError

RefundStatus = Literal["succeeded", "pending", "failed"]


class SandboxConfig(BaseModel):
    """The sandbox's merchants and callback behaviour."""

    merchants: dict[str, str]  # merchant_id -> secret
    callback_sign_type: Literal["MD5", "HMAC-SHA256"] = "HMAC-SHA256"
    callback_attempts: int = Field(default=3, ge=1, le=20)
    callback_backoff: float = Field(default=0.2, ge=0, le=60)
    public_url: str | None = None  # base of pay URLs; None: the URL the request came to


@dataclass
class Payment:
    txn_id: str
    merchant_id: str
    order_no: str
    amount_cents: int
    currency: str
    notify_url: str
    subject: str = ""
    status: Literal["pending", "paid"] = "pending"
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    paid_at: datetime | None = None
    refunded_cents: int = 0  # succeeded and pending refunds (money promised back)

    def as_json(self) -> dict[str, object]:
        """Admin view."""
        return {
            "txn_id": self.txn_id,
            "merchant_id": self.merchant_id,
            "order_no": self.order_no,
            "amount_cents": self.amount_cents,
            "currency": self.currency,
            "status": self.status,
            "paid_at": self.paid_at.isoformat() if self.paid_at else None,
            "refunded_cents": self.refunded_cents,
        }


@dataclass
class Refund:
    refund_ref: str
    refund_id: str
    txn_id: str
    merchant_id: str
    amount_cents: int
    currency: str
    status: RefundStatus
    reason: str = ""
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def as_json(self) -> dict[str, object]:
        """Admin view."""
        return {
            "refund_ref": self.refund_ref,
            "refund_id": self.refund_id,
            "txn_id": self.txn_id,
            "amount_cents": self.amount_cents,
            "currency": self.currency,
            "status": self.status,
            "reason": self.reason,
        }


class Ledger:
    """Payments by (merchant, order_no) and by txn id; refunds by (merchant, refund_ref)."""

    def __init__(self) -> None:
        self.payments: dict[tuple[str, str], Payment] = {}
        self.by_txn: dict[str, Payment] = {}
        self.refunds: dict[tuple[str, str], Refund] = {}
        self._seq = itertools.count(1)

    def _id(self, prefix: str) -> str:
        return f"{prefix}{datetime.now(UTC):%Y%m%d%H%M%S}{next(self._seq):06d}"

    def create(
        self, *, merchant_id: str, order_no: str, amount_cents: int, currency: str,
        notify_url: str, subject: str,
    ) -> Payment:  # fmt: skip
        """A pending payment; repeating the same order_no returns the existing one."""
        existing = self.payments.get((merchant_id, order_no))
        if existing is not None:
            if (existing.amount_cents, existing.currency) != (amount_cents, currency):
                raise ProtocolError(Code.PAYMENT_CONFLICT, f"order {order_no} differs")
            return existing
        payment = Payment(
            txn_id=self._id("T"),
            merchant_id=merchant_id,
            order_no=order_no,
            amount_cents=amount_cents,
            currency=currency,
            notify_url=notify_url,
            subject=subject,
        )
        self.payments[(merchant_id, order_no)] = payment
        self.by_txn[payment.txn_id] = payment
        return payment

    def pay(self, payment: Payment) -> bool:
        """Mark paid; False when it already was."""
        if payment.status == "paid":
            return False
        payment.status = "paid"
        payment.paid_at = datetime.now(UTC)
        return True

    def refund(
        self, *, merchant_id: str, refund_ref: str, txn_id: str, amount_cents: int,
        currency: str, reason: str, outcome: RefundStatus,
    ) -> Refund:  # fmt: skip
        """Refund once per ref; never more than paid in total."""
        existing = self.refunds.get((merchant_id, refund_ref))
        if existing is not None:
            if (existing.txn_id, existing.amount_cents, existing.currency) != (
                txn_id,
                amount_cents,
                currency,
            ):
                raise ProtocolError(Code.REFUND_CONFLICT, f"refund {refund_ref} differs")
            return existing
        payment = self.by_txn.get(txn_id)
        if payment is None or payment.merchant_id != merchant_id:
            raise ProtocolError(Code.NOT_FOUND, f"no transaction {txn_id}")
        if payment.status != "paid":
            raise ProtocolError(Code.NOT_PAID, f"transaction {txn_id} is not paid")
        if currency != payment.currency:
            raise ProtocolError(Code.CURRENCY_MISMATCH, f"transaction is in {payment.currency}")
        refundable = payment.amount_cents - payment.refunded_cents
        if amount_cents > refundable:
            raise ProtocolError(Code.OVER_REFUND, f"refundable amount is {refundable} cents")
        refund = Refund(
            refund_ref=refund_ref,
            refund_id=self._id("R"),
            txn_id=txn_id,
            merchant_id=merchant_id,
            amount_cents=amount_cents,
            currency=currency,
            status=outcome,
            reason=reason,
        )
        self.refunds[(merchant_id, refund_ref)] = refund
        if outcome != "failed":
            payment.refunded_cents += amount_cents
        return refund

    def settle(self, refund: Refund, status: RefundStatus) -> bool:
        """Finish a pending refund; a failed one gives the amount back to the refundable."""
        if refund.status != "pending" or status == "pending":
            return False
        refund.status = status
        if status == "failed":
            self.by_txn[refund.txn_id].refunded_cents -= refund.amount_cents
        return True
