"""Events of delivery: card keys from stock, direct top-ups through suppliers."""

from __future__ import annotations

from dataclasses import dataclass

from fulfilment.events.base import AuditRecord, Event, order_entry


@dataclass(frozen=True)
class KeyDelivered(Event):
    """One delivery pass handed out keys (also a reissued unit that waited for stock)."""

    order_no: str
    sku: str
    unit_nos: tuple[int, ...]
    key_hints: tuple[str, ...]  # masked, never the key
    order_complete: bool
    status_before: str
    status_after: str
    owed: int  # units owed before this pass

    def audit(self) -> AuditRecord:
        return order_entry(
            "order.keys_delivered",
            self.order_no,
            before={"status": self.status_before},
            after={"status": self.status_after, "keys": list(self.key_hints)},
            reason=f"{len(self.key_hints)} of {self.owed} owed units delivered",
        )


@dataclass(frozen=True)
class OrderWaitingForStock(Event):
    """A paid card-key order could not get all its keys (not audited: an alert says it)."""

    order_no: str
    sku: str
    missing: int


@dataclass(frozen=True)
class OrderDelivered(Event):
    """The order reached DELIVERED (its audit entry is the keys' or the supplier's answer)."""

    order_no: str
    kind: str  # card_key | direct_topup


@dataclass(frozen=True)
class StockLow(Event):
    """Available keys fell under the product's safety stock (the pause is a reaction to it)."""

    sku: str
    stock: int
    safety_stock: int


@dataclass(frozen=True)
class TopupSubmitting(Event):
    """An attempt at a supplier is written down before it is sent."""

    order_no: str
    supplier: str
    attempt: int
    request_ref: str
    status_before: str
    status: str

    def audit(self) -> AuditRecord:
        return order_entry(
            "topup.submitting",
            self.order_no,
            before={"status": self.status_before},
            after={
                "status": self.status,
                "supplier": self.supplier,
                "attempt": self.attempt,
                "request_ref": self.request_ref,
            },
        )


@dataclass(frozen=True)
class TopupAnswered(Event):
    """What a supplier said about an attempt (to a submit, a query or in a callback)."""

    order_no: str
    via: str  # submit | query | callback
    request_ref: str
    answer: str
    status: str  # the attempt's status afterwards
    message: str

    def audit(self) -> AuditRecord:
        return order_entry(
            f"topup.{self.via}_answer",
            self.order_no,
            after={"request_ref": self.request_ref, "answer": self.answer, "status": self.status},
            reason=self.message or None,
        )


@dataclass(frozen=True)
class TopupSucceeded(Event):
    """The supplier topped the account up; the order is delivered."""

    order_no: str
    supplier: str
    supplier_ref: str | None


@dataclass(frozen=True)
class TopupFailed(Event):
    """Every supplier failed definitely: the order is FAILED and refundable."""

    order_no: str
    sku: str
    reason: str
    status_before: str

    def audit(self) -> AuditRecord:
        return order_entry(
            "order.failed",
            self.order_no,
            before={"status": self.status_before},
            after={"status": "failed"},
            reason=self.reason,
        )


@dataclass(frozen=True)
class TopupContradicted(Event):
    """A supplier answered against its first terminal answer: money may be wrong."""

    order_no: str
    request_ref: str
    kind: str  # late_supplier_success | supplier_reversed
    answer: str
    attempt_status: str
    message: str

    def audit(self) -> AuditRecord:
        return order_entry(
            f"topup.{self.kind}",
            self.order_no,
            after={"request_ref": self.request_ref, "answer": self.answer},
            reason=self.message or None,
        )


@dataclass(frozen=True)
class TopupSucceededLate(Event):
    """A top-up succeeded after the order stopped being deliverable (e.g. refunded)."""

    order_no: str
    request_ref: str
    order_status: str


@dataclass(frozen=True)
class SupplierUnreachable(Event):
    """An attempt got no answer many times in a row; it is still retried."""

    order_no: str
    request_ref: str
    errors: int
