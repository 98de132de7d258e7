"""In-memory fakes of the ports, scripted per test."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from fulfilment.ports import (
    KeyCheckResult,
    KeyCheckStatus,
    PaymentCallback,
    PaymentQuery,
    PaymentStatus,
    RefundOutcome,
    RefundResult,
    SignatureError,
    SupplierCallback,
    SupplierOutcome,
    SupplierResult,
)
from fulfilment.suppliers.directory import UnknownSupplier


@dataclass
class FakeSupplier:
    """A supplier whose answers are queued per call kind; it tracks what really happened."""

    code: str
    submits: deque[SupplierResult] = field(default_factory=deque)
    queries: deque[SupplierResult] = field(default_factory=deque)
    key_states: dict[str, KeyCheckResult] = field(default_factory=dict)
    default_check: KeyCheckResult = field(
        default_factory=lambda: KeyCheckResult(KeyCheckStatus.UNUSED)
    )
    calls: list[tuple[str, str]] = field(default_factory=list)
    received: set[str] = field(default_factory=set)  # refs the supplier actually has

    def submit_topup(
        self, *, request_ref: str, product_code: str, account: str, amount_cents: int
    ) -> SupplierResult:
        self.calls.append(("submit", request_ref))
        result = (
            self.submits.popleft()
            if self.submits
            else SupplierResult(SupplierOutcome.ACCEPTED, f"S-{request_ref}")
        )
        if result.outcome in (SupplierOutcome.ACCEPTED, SupplierOutcome.SUCCESS):
            self.received.add(request_ref)  # UNKNOWN: a test says whether it arrived
        return result

    def query_topup(self, *, request_ref: str) -> SupplierResult:
        self.calls.append(("query", request_ref))
        if self.queries:
            return self.queries.popleft()
        if request_ref not in self.received:
            return SupplierResult(SupplierOutcome.NOT_FOUND)
        return SupplierResult(SupplierOutcome.SUCCESS, f"S-{request_ref}")

    def check_key(self, *, product_code: str, key: str) -> KeyCheckResult:
        self.calls.append(("check", key[-4:]))
        return self.key_states.get(key, self.default_check)

    def parse_callback(self, params: Mapping[str, str]) -> SupplierCallback:
        if params.get("sign") != "good":
            raise SignatureError("bad signature")
        return SupplierCallback(
            params["order_id"], SupplierOutcome(params["status"]), params.get("supplier_ref")
        )


class FakeSupplierDirectory:
    def __init__(self) -> None:
        self.suppliers: dict[str, FakeSupplier] = {}

    def add(self, code: str) -> FakeSupplier:
        self.suppliers[code] = FakeSupplier(code)
        return self.suppliers[code]

    def get(self, code: str) -> FakeSupplier:
        if code not in self.suppliers:
            raise UnknownSupplier(f"no supplier client for {code!r}")  # as the real directory
        return self.suppliers[code]


@dataclass
class FakePayments:
    """Payment provider fake: refunds are idempotent on the ref, like the real contract."""

    paid: dict[str, PaymentQuery] = field(default_factory=dict)
    refund_answers: deque[RefundResult] = field(default_factory=deque)
    refunds: dict[str, int] = field(default_factory=dict)  # ref -> cents actually paid out
    refund_calls: list[str] = field(default_factory=list)
    by_txn: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))

    def query_payment(self, *, order_no: str) -> PaymentQuery:
        return self.paid.get(order_no, PaymentQuery(PaymentStatus.NOT_FOUND))

    def refund(
        self, *, refund_ref: str, txn_id: str, amount_cents: int, currency: str
    ) -> RefundResult:
        self.refund_calls.append(refund_ref)
        answer = (
            self.refund_answers.popleft()
            if self.refund_answers
            else RefundResult(RefundOutcome.SUCCEEDED, f"R-{refund_ref}")
        )
        if (
            answer.outcome in (RefundOutcome.SUCCEEDED, RefundOutcome.UNKNOWN)
            and refund_ref not in self.refunds
        ):
            self.refunds[refund_ref] = amount_cents  # UNKNOWN: the money may have moved
            self.by_txn[txn_id] += amount_cents
        return answer

    def parse_callback(self, params: Mapping[str, str]) -> PaymentCallback:
        if params.get("sign") != "good":
            raise SignatureError("bad signature")
        return PaymentCallback(
            params["order_no"],
            params["txn_id"],
            int(params["amount"]),
            params["currency"],
            PaymentStatus(params["status"]),
        )


def at(text: str) -> datetime:
    """A UTC datetime from ISO text."""
    return datetime.fromisoformat(text)
