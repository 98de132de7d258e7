"""HttpPaymentProvider against the real payment sandbox, over HTTP."""

from __future__ import annotations

import httpx
import pytest

from fulfilment.payments.http import HttpPaymentProvider
from fulfilment.ports import PaymentStatus, RefundOutcome, SignatureError
from simulators.admin import CallbackSinkAdmin
from tests.simulators_fixture import PaymentSandbox

pytestmark = pytest.mark.integration


def open_and_pay(provider: HttpPaymentProvider, notify_url: str = "", cents: int = 1999) -> str:
    """Create a payment for O1, pay it through the pay page; returns the txn id."""
    made = provider.create_payment(
        order_no="O1", amount_cents=cents, currency="CNY", notify_url=notify_url
    )
    assert made.ok and made.pay_url and made.txn_id
    page = httpx.get(made.pay_url)
    assert "19.99 CNY" in page.text or cents != 1999
    assert httpx.post(made.pay_url).status_code == 200
    return made.txn_id


def test_paying_sends_a_signed_callback_the_adapter_accepts(
    payment_sandbox: PaymentSandbox, callback_sink: CallbackSinkAdmin
) -> None:
    provider = payment_sandbox.provider()
    txn_id = open_and_pay(provider, notify_url=callback_sink.url("pay"))
    payment_sandbox.admin.wait_callbacks()

    (params,) = callback_sink.received("pay")
    notice = provider.parse_callback(params)
    assert (notice.order_no, notice.txn_id, notice.amount_cents) == ("O1", txn_id, 1999)
    assert (notice.currency, notice.status) == ("CNY", PaymentStatus.PAID)


def test_a_tampered_or_badly_signed_callback_is_rejected(
    payment_sandbox: PaymentSandbox, callback_sink: CallbackSinkAdmin
) -> None:
    payment_sandbox.admin.add_fault("callback_bad_sign")
    provider = payment_sandbox.provider()
    open_and_pay(provider, notify_url=callback_sink.url("pay"))
    payment_sandbox.admin.wait_callbacks()

    (params,) = callback_sink.received("pay")
    with pytest.raises(SignatureError):
        provider.parse_callback(params)


def test_query_follows_the_payment_from_not_found_to_pending_to_paid(
    payment_sandbox: PaymentSandbox,
) -> None:
    provider = payment_sandbox.provider()
    assert provider.query_payment(order_no="O1").status is PaymentStatus.NOT_FOUND
    provider.create_payment(order_no="O1", amount_cents=1999, currency="CNY", notify_url="")
    assert provider.query_payment(order_no="O1").status is PaymentStatus.PENDING
    payment_sandbox.admin.pay("O1")
    paid = provider.query_payment(order_no="O1")
    assert (paid.status, paid.amount_cents, paid.currency) == (PaymentStatus.PAID, 1999, "CNY")


def test_a_lost_callback_leaves_the_query_as_the_source_of_truth(
    payment_sandbox: PaymentSandbox, callback_sink: CallbackSinkAdmin
) -> None:
    payment_sandbox.admin.add_fault("callback_lost", order_no="O1")
    provider = payment_sandbox.provider()
    open_and_pay(provider, notify_url=callback_sink.url("pay"))
    payment_sandbox.admin.wait_callbacks()

    assert callback_sink.received("pay") == []
    assert provider.query_payment(order_no="O1").status is PaymentStatus.PAID


def test_creating_a_payment_twice_is_idempotent_but_not_with_another_amount(
    payment_sandbox: PaymentSandbox,
) -> None:
    provider = payment_sandbox.provider()
    first = provider.create_payment(order_no="O1", amount_cents=100, currency="CNY", notify_url="")
    again = provider.create_payment(order_no="O1", amount_cents=100, currency="CNY", notify_url="")
    other = provider.create_payment(order_no="O1", amount_cents=999, currency="CNY", notify_url="")
    assert first.txn_id == again.txn_id
    assert not other.ok
    assert other.message.startswith("2007")


def test_repeating_a_refund_ref_never_refunds_twice(payment_sandbox: PaymentSandbox) -> None:
    provider = payment_sandbox.provider()
    txn_id = open_and_pay(provider)

    first = provider.refund(refund_ref="RF1", txn_id=txn_id, amount_cents=500, currency="CNY")
    again = provider.refund(refund_ref="RF1", txn_id=txn_id, amount_cents=500, currency="CNY")

    assert first.outcome is again.outcome is RefundOutcome.SUCCEEDED
    assert first.provider_refund_id == again.provider_refund_id
    assert len(payment_sandbox.admin.refunds()) == 1
    assert payment_sandbox.admin.payment("O1")["refunded_cents"] == 500


def test_refunds_beyond_the_paid_amount_are_rejected(payment_sandbox: PaymentSandbox) -> None:
    provider = payment_sandbox.provider()
    txn_id = open_and_pay(provider)

    def refund(ref: str, cents: int) -> RefundOutcome:
        return provider.refund(
            refund_ref=ref, txn_id=txn_id, amount_cents=cents, currency="CNY"
        ).outcome

    assert refund("RF1", 1500) is RefundOutcome.SUCCEEDED
    over = provider.refund(refund_ref="RF2", txn_id=txn_id, amount_cents=500, currency="CNY")
    assert (over.outcome, over.message) == (
        RefundOutcome.FAILED,
        "2004: refundable amount is 499 cents",
    )
    assert refund("RF3", 499) is RefundOutcome.SUCCEEDED
    assert refund("RF4", 1) is RefundOutcome.FAILED
    assert payment_sandbox.admin.payment("O1")["refunded_cents"] == 1999


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"amount_cents": 100, "currency": "USD"}, "2006"),
        ({"amount_cents": 0, "currency": "CNY"}, "1001"),
        ({"amount_cents": 100, "currency": "CNY", "txn_id": "T-nope"}, "3001"),
    ],
)
def test_refund_mistakes_are_definite_failures_with_a_code(
    payment_sandbox: PaymentSandbox, kwargs: dict[str, object], code: str
) -> None:
    provider = payment_sandbox.provider()
    txn_id = open_and_pay(provider)
    options: dict[str, object] = {"refund_ref": "RF1", "txn_id": txn_id, **kwargs}
    result = provider.refund(**options)  # type: ignore[arg-type]
    assert result.outcome is RefundOutcome.FAILED
    assert result.message.startswith(code)
    assert payment_sandbox.admin.payment("O1")["refunded_cents"] == 0


def test_refunding_an_unpaid_payment_or_reusing_a_ref_is_refused(
    payment_sandbox: PaymentSandbox,
) -> None:
    provider = payment_sandbox.provider()
    made = provider.create_payment(order_no="O1", amount_cents=1000, currency="CNY", notify_url="")
    assert made.txn_id
    unpaid = provider.refund(
        refund_ref="RF1", txn_id=made.txn_id, amount_cents=100, currency="CNY"
    )
    assert unpaid.message.startswith("2003")
    payment_sandbox.admin.pay("O1")
    provider.refund(refund_ref="RF1", txn_id=made.txn_id, amount_cents=100, currency="CNY")
    reused = provider.refund(
        refund_ref="RF1", txn_id=made.txn_id, amount_cents=200, currency="CNY"
    )
    assert (reused.outcome, reused.message[:4]) == (RefundOutcome.FAILED, "2005")
    assert payment_sandbox.admin.payment("O1")["refunded_cents"] == 100


def test_a_refund_that_timed_out_is_unknown_and_retrying_the_ref_is_safe(
    payment_sandbox: PaymentSandbox,
) -> None:
    provider = payment_sandbox.provider(timeout=0.5)
    txn_id = open_and_pay(provider)
    payment_sandbox.admin.add_fault(
        "timeout", operation="refund", seconds=1.5, create_order=True, times=1
    )

    lost = provider.refund(refund_ref="RF1", txn_id=txn_id, amount_cents=700, currency="CNY")
    assert lost.outcome is RefundOutcome.UNKNOWN
    assert provider.query_refund(refund_ref="RF1").outcome is RefundOutcome.SUCCEEDED
    retried = provider.refund(refund_ref="RF1", txn_id=txn_id, amount_cents=700, currency="CNY")
    assert retried.outcome is RefundOutcome.SUCCEEDED
    assert payment_sandbox.admin.payment("O1")["refunded_cents"] == 700


def test_a_5xx_makes_queries_and_refunds_unknown(payment_sandbox: PaymentSandbox) -> None:
    provider = payment_sandbox.provider()
    txn_id = open_and_pay(provider)
    payment_sandbox.admin.add_fault("http_error", status_code=503, times=2)

    assert provider.query_payment(order_no="O1").status is PaymentStatus.UNKNOWN
    result = provider.refund(refund_ref="RF1", txn_id=txn_id, amount_cents=100, currency="CNY")
    assert result.outcome is RefundOutcome.UNKNOWN
    assert payment_sandbox.admin.payment("O1")["refunded_cents"] == 0
    assert provider.query_payment(order_no="O1").status is PaymentStatus.PAID


def test_a_pending_refund_settles_later(payment_sandbox: PaymentSandbox) -> None:
    provider = payment_sandbox.provider()
    txn_id = open_and_pay(provider)
    payment_sandbox.admin.add_fault("outcome", operation="refund", outcome="pending")

    made = provider.refund(refund_ref="RF1", txn_id=txn_id, amount_cents=1999, currency="CNY")
    assert made.outcome is RefundOutcome.PENDING
    # Pending money counts against the refundable amount.
    extra = provider.refund(refund_ref="RF2", txn_id=txn_id, amount_cents=1, currency="CNY")
    assert extra.outcome is RefundOutcome.FAILED
    payment_sandbox.admin.complete_refund("RF1", "succeeded")
    assert provider.query_refund(refund_ref="RF1").outcome is RefundOutcome.SUCCEEDED


def test_a_wrong_secret_is_refused(payment_sandbox: PaymentSandbox) -> None:
    with HttpPaymentProvider(
        base_url=payment_sandbox.base_url, merchant_id="shop", secret="wrong"
    ) as provider:
        result = provider.refund(refund_ref="RF1", txn_id="T", amount_cents=1, currency="CNY")
        assert result.message.startswith("1003")
        assert provider.query_payment(order_no="O1").status is PaymentStatus.UNKNOWN
