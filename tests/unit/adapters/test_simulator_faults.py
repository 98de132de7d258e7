"""The simulators' fault book and refund ledger, without HTTP."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from simulators.faults import FaultBook, FaultRule
from simulators.payment_state import Ledger
from simulators.protocol import Code, ProtocolError


def test_a_rule_fires_only_for_its_kind_operation_and_scope() -> None:
    book = FaultBook()
    book.add(FaultRule(kind="timeout", operation="submit", account="A"))

    assert book.take("timeout", "query", account="A") is None
    assert book.take("timeout", "submit", account="B") is None
    assert book.take("http_error", "submit", account="A") is None
    assert book.take("timeout", "submit", account="A") is not None


def test_a_rule_with_times_retires_after_firing_that_often() -> None:
    book = FaultBook()
    rule = book.add(FaultRule(kind="http_error", times=2))
    assert [book.take("http_error") is not None for _ in range(3)] == [True, True, False]
    assert not book.remove(rule.id)


def test_random_rules_are_reproducible_with_a_seed() -> None:
    def draws() -> list[bool]:
        book = FaultBook()
        book.add(FaultRule(kind="latency", rate=0.3, seed=42))
        return [book.take("latency") is not None for _ in range(50)]

    first = draws()
    assert first == draws()
    assert 0 < sum(first) < 50


def test_rules_are_validated() -> None:
    with pytest.raises(ValidationError):
        FaultRule(kind="meteor")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        FaultRule(kind="http_error", status_code=200)
    with pytest.raises(ValidationError):
        FaultRule(kind="latency", rate=1.5)


def paid_ledger(cents: int = 1000) -> tuple[Ledger, str]:
    ledger = Ledger()
    payment = ledger.create(
        merchant_id="m", order_no="O1", amount_cents=cents, currency="CNY",
        notify_url="", subject="",
    )  # fmt: skip
    ledger.pay(payment)
    return ledger, payment.txn_id


def refund(ledger: Ledger, txn_id: str, ref: str, cents: int, outcome: str = "succeeded"):
    return ledger.refund(
        merchant_id="m", refund_ref=ref, txn_id=txn_id, amount_cents=cents, currency="CNY",
        reason="", outcome=outcome,  # type: ignore[arg-type]
    )  # fmt: skip


def test_a_failed_pending_refund_gives_the_amount_back_to_the_refundable() -> None:
    ledger, txn_id = paid_ledger()
    pending = refund(ledger, txn_id, "RF1", 1000, outcome="pending")
    with pytest.raises(ProtocolError) as over:
        refund(ledger, txn_id, "RF2", 1)
    assert over.value.code is Code.OVER_REFUND

    assert ledger.settle(pending, "failed")
    assert refund(ledger, txn_id, "RF3", 1000).status == "succeeded"
    assert not ledger.settle(pending, "succeeded")  # already final


def test_a_refund_of_another_merchants_transaction_is_not_found() -> None:
    ledger, txn_id = paid_ledger()
    with pytest.raises(ProtocolError) as err:
        ledger.refund(
            merchant_id="other", refund_ref="RF1", txn_id=txn_id, amount_cents=1,
            currency="CNY", reason="", outcome="succeeded",
        )  # fmt: skip
    assert err.value.code is Code.NOT_FOUND
