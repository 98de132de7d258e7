"""Events after delivery: reissues, refunds, ownership proofs."""

from __future__ import annotations

from dataclasses import dataclass

from fulfilment.events.base import AuditRecord, Event, order_entry


@dataclass(frozen=True)
class ReissueRequested(Event):
    order_no: str
    request_id: str
    key_hint: str
    status: str  # checking, or needs_review when a limit is already reached
    reason: str  # the requester's reason, or the limit that was hit

    def audit(self) -> AuditRecord:
        return order_entry(
            "reissue.requested",
            self.order_no,
            after={"request_id": self.request_id, "key": self.key_hint, "status": self.status},
            reason=self.reason,
        )


@dataclass(frozen=True)
class KeyReissued(Event):
    """A bad key was invalidated and claimed back; a fresh one delivered (or awaited)."""

    order_no: str
    request_id: str
    unit_no: int
    old_key_hint: str
    new_key_hint: str | None  # None: the unit waits for stock like any order
    waiting_stock: bool
    reason: str  # key_bad | override | unchecked_policy
    order_status: str

    def audit(self) -> AuditRecord:
        return order_entry(
            "key.invalidated",
            self.order_no,
            after={
                "old_key": self.old_key_hint,
                "new_key": self.new_key_hint,
                "claim": "opened",
                "order_status": self.order_status,
            },
            reason=self.reason,
        )


@dataclass(frozen=True)
class _ReissueClosed(Event):
    order_no: str
    request_id: str
    code: str
    check: str | None  # what the supplier said about the key
    detail: str  # the recorded decision (the code, or a limit with its count)

    status = ""  # set by subclasses: the request's final status

    def audit(self) -> AuditRecord | None:
        return order_entry(
            f"reissue.{self.status}",
            self.order_no,
            after={"request_id": self.request_id, "check": self.check},
            reason=self.detail,
        )


@dataclass(frozen=True)
class ReissueGranted(_ReissueClosed):
    status = "reissued"


@dataclass(frozen=True)
class ReissueRejected(_ReissueClosed):
    status = "rejected"


@dataclass(frozen=True)
class ReissueNeedsReview(_ReissueClosed):
    """A person must decide (limits, a key redeemed after delivery, a key nobody can check)."""

    status = "needs_review"
    on_request: bool = False  # decided when asked: `ReissueRequested` is its audit entry

    def audit(self) -> AuditRecord | None:
        return None if self.on_request else super().audit()


@dataclass(frozen=True)
class RefundRequested(Event):
    order_no: str
    request_id: str
    amount_cents: int
    status: str  # processing | pending_approval
    goodwill: bool
    reason: str

    def audit(self) -> AuditRecord:
        return order_entry(
            "refund.requested",
            self.order_no,
            after={
                "request_id": self.request_id,
                "amount_cents": self.amount_cents,
                "status": self.status,
                "goodwill": self.goodwill,
            },
            reason=self.reason,
        )


@dataclass(frozen=True)
class RefundAwaitingApproval(Event):
    """A refund waits for a person (over the auto-approve limit, or a partial amount)."""

    order_no: str
    request_id: str
    amount_cents: int
    currency: str


@dataclass(frozen=True)
class OrderRefunding(Event):
    """A full refund stops fulfilment: nothing more is delivered, keys are revoked."""

    order_no: str
    status_before: str

    def audit(self) -> AuditRecord:
        return order_entry(
            "order.refunding",
            self.order_no,
            before={"status": self.status_before},
            after={"status": "refunding"},
        )


@dataclass(frozen=True)
class RefundApproved(Event):
    order_no: str
    request_id: str
    amount_cents: int
    status: str

    def audit(self) -> AuditRecord:
        return order_entry(
            "refund.approved",
            self.order_no,
            after={"request_id": self.request_id, "status": self.status},
        )


@dataclass(frozen=True)
class RefundRejected(Event):
    order_no: str
    request_id: str
    code: str
    status: str | None = None  # set when a stored (waiting) refund was rejected

    def audit(self) -> AuditRecord:
        after: dict[str, object] = {"request_id": self.request_id}
        if self.status is not None:
            after["status"] = self.status
        return order_entry("refund.rejected", self.order_no, after=after, reason=self.code)


@dataclass(frozen=True)
class RefundPaid(Event):
    order_no: str
    request_id: str
    amount_cents: int
    message: str

    def audit(self) -> AuditRecord:
        return order_entry(
            "refund.succeeded",
            self.order_no,
            after={"request_id": self.request_id, "status": "succeeded"},
            reason=self.message or None,
        )


@dataclass(frozen=True)
class RefundFailed(Event):
    """The provider refused the payout: no money moved."""

    order_no: str
    request_id: str
    message: str

    def audit(self) -> AuditRecord:
        return order_entry(
            "refund.failed",
            self.order_no,
            after={"request_id": self.request_id, "status": "failed"},
            reason=self.message or None,
        )


@dataclass(frozen=True)
class RefundPending(Event):
    """The provider's answer is pending or unknown; the payout is asked again later."""

    order_no: str
    request_id: str
    outcome: str  # pending | unknown
    message: str

    def audit(self) -> AuditRecord:
        return order_entry(
            f"refund.{self.outcome}",
            self.order_no,
            after={"request_id": self.request_id, "status": "processing"},
            reason=self.message or None,
        )


@dataclass(frozen=True)
class OrderRefunded(Event):
    order_no: str
    status_before: str
    refunded_cents: int

    def audit(self) -> AuditRecord:
        return order_entry(
            "order.refunded",
            self.order_no,
            before={"status": self.status_before},
            after={"status": "refunded", "refunded_cents": self.refunded_cents},
        )


@dataclass(frozen=True)
class OwnershipProofFailed(Event):
    order_no: str  # as given (at most 64 characters): it may not exist
    claimant: str

    def audit(self) -> AuditRecord:
        return order_entry("ownership.failed", self.order_no)


@dataclass(frozen=True)
class KeysRevealed(Event):
    order_no: str
    claimant: str
    unit_nos: tuple[int, ...]

    def audit(self) -> AuditRecord:
        return order_entry("keys.revealed", self.order_no, after={"units": list(self.unit_nos)})
