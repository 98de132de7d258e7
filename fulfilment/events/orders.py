"""Events of order intake and payment."""

from __future__ import annotations

from dataclasses import dataclass

from fulfilment.events.base import AuditRecord, Event, order_entry


@dataclass(frozen=True)
class OrderCreated(Event):
    order_no: str
    sku: str
    quantity: int
    paid: bool  # paid at intake (the shop took the money)

    def audit(self) -> AuditRecord:
        return order_entry(
            "order.created", self.order_no, after={"status": "created", "paid": self.paid}
        )


@dataclass(frozen=True)
class OrderRejected(Event):
    """An order whose amount or currency contradicts the product; nothing was stored."""

    order_no: str
    sku: str
    amount: str
    currency: str
    quantity: int
    reason: str

    def audit(self) -> AuditRecord:
        after = {
            "sku": self.sku,
            "amount": self.amount,
            "currency": self.currency,
            "quantity": self.quantity,
        }
        return order_entry("order.rejected", self.order_no, after=after, reason=self.reason)


@dataclass(frozen=True)
class OrderPaid(Event):
    """The order is paid and owed to the customer: delivery starts."""

    order_no: str
    txn_id: str
    source: str  # intake | callback | manual

    def audit(self) -> AuditRecord:
        return order_entry(
            "order.paid",
            self.order_no,
            before={"status": "created"},
            after={"status": "paid", "txn_id": self.txn_id, "source": self.source},
        )


@dataclass(frozen=True)
class PaymentRejected(Event):
    """A payment notification whose amount or currency differs from the order's."""

    order_no: str
    txn_id: str
    amount_cents: int
    currency: str

    def audit(self) -> AuditRecord:
        return order_entry(
            "payment.rejected",
            self.order_no,
            after={
                "txn_id": self.txn_id,
                "amount_cents": self.amount_cents,
                "currency": self.currency,
            },
            reason="paid amount differs from the order amount",
        )


@dataclass(frozen=True)
class PaymentDuplicated(Event):
    """Another transaction arrived for a settled order: the customer paid twice."""

    order_no: str
    sku: str
    txn_id: str
    amount_cents: int
    recorded_txn_id: str | None
    order_status: str

    def audit(self) -> AuditRecord:
        return order_entry(
            "payment.duplicate",
            self.order_no,
            after={
                "txn_id": self.txn_id,
                "amount_cents": self.amount_cents,
                "recorded_txn_id": self.recorded_txn_id,
            },
            reason="a second payment for a settled order",
        )


@dataclass(frozen=True)
class PaymentConfirmRefused(Event):
    """Staff asked to confirm a payment the provider does not report as paid."""

    order_no: str
    provider_status: str

    def audit(self) -> AuditRecord:
        return order_entry(
            "payment.confirm_refused",
            self.order_no,
            reason=f"provider says {self.provider_status}",
        )
