"""HttpPaymentProvider against httpx.MockTransport."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl

import httpx
import pytest

from fulfilment.payments.http import HttpPaymentProvider
from fulfilment.ports import PaymentStatus, RefundOutcome, SignatureError
from fulfilment.suppliers.signing import MalformedCallback, signed, verify

SECRET = "pay-secret"
Handler = Callable[[httpx.Request], httpx.Response]
CALLBACK_TIME = 1795366320


def envelope(code: str = "0000", msg: str = "ok", **data: object) -> httpx.Response:
    return httpx.Response(200, json={"code": code, "msg": msg, "data": data or None})


def make_provider(handler: Handler, **kwargs: object) -> HttpPaymentProvider:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    options: dict[str, object] = {
        "base_url": "http://pay.test",
        "merchant_id": "shop",
        "secret": SECRET,
        "client": http,
        "clock": lambda: CALLBACK_TIME,  # when `callback()` below was signed
        **kwargs,
    }
    return HttpPaymentProvider(**options)  # type: ignore[arg-type]


def form(request: httpx.Request) -> dict[str, str]:
    return dict(parse_qsl(request.content.decode(), keep_blank_values=True))


def paid(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "order_no": "O1",
        "txn_id": "T1",
        "status": "paid",
        "amount": "19.99",
        "currency": "CNY",
    }
    return {**data, **changes}


def test_query_payment_reports_a_paid_payment_in_cents() -> None:
    result = make_provider(lambda _r: envelope(**paid())).query_payment(order_no="O1")
    assert result.status is PaymentStatus.PAID
    assert (result.txn_id, result.amount_cents, result.currency) == ("T1", 1999, "CNY")


@pytest.mark.parametrize(
    ("response", "status"),
    [
        (envelope(**paid(status="pending")), PaymentStatus.PENDING),
        (envelope("3001"), PaymentStatus.NOT_FOUND),
        (envelope("1003"), PaymentStatus.UNKNOWN),
        (envelope(**paid(status="vanished")), PaymentStatus.UNKNOWN),
        (envelope(**paid(amount="19.999")), PaymentStatus.UNKNOWN),
        (envelope(**paid(order_no="O2")), PaymentStatus.UNKNOWN),
        (httpx.Response(500), PaymentStatus.UNKNOWN),
        (httpx.Response(200, text="<html/>"), PaymentStatus.UNKNOWN),
    ],
)
def test_query_payment_maps_answers(response: httpx.Response, status: PaymentStatus) -> None:
    assert make_provider(lambda _r: response).query_payment(order_no="O1").status is status


def test_query_payment_timeout_is_unknown() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow")

    assert make_provider(handler).query_payment(order_no="O1").status is PaymentStatus.UNKNOWN


def test_refund_sends_a_signed_request_and_reports_success() -> None:
    seen: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(form(request))
        return envelope(refund_ref="RF1", refund_id="R9", status="succeeded")

    result = make_provider(handler).refund(
        refund_ref="RF1", txn_id="T1", amount_cents=500, currency="CNY"
    )

    assert (result.outcome, result.provider_refund_id) == (RefundOutcome.SUCCEEDED, "R9")
    assert verify(seen[0], SECRET)
    assert seen[0]["sign_type"] == "HMAC-SHA256"
    assert (seen[0]["amount"], seen[0]["txn_id"], seen[0]["refund_ref"]) == ("5.00", "T1", "RF1")


@pytest.mark.parametrize(
    ("response", "outcome"),
    [
        (envelope(refund_ref="RF1", refund_id="R", status="pending"), RefundOutcome.PENDING),
        (envelope(refund_ref="RF1", refund_id="R", status="failed"), RefundOutcome.FAILED),
        (envelope(refund_ref="RF2", refund_id="R", status="succeeded"), RefundOutcome.UNKNOWN),
        (envelope("2004", msg="over"), RefundOutcome.FAILED),  # over-refund
        (envelope("2003"), RefundOutcome.FAILED),  # not paid
        (envelope("2005"), RefundOutcome.FAILED),  # ref reused with other data
        (envelope("2006"), RefundOutcome.FAILED),  # currency mismatch
        (envelope("3001"), RefundOutcome.FAILED),  # unknown txn
        (envelope("1003"), RefundOutcome.FAILED),  # bad signature: nothing happened
        (envelope("9999"), RefundOutcome.UNKNOWN),  # busy
        (httpx.Response(502), RefundOutcome.UNKNOWN),
        (httpx.Response(200, text="maintenance"), RefundOutcome.UNKNOWN),
    ],
)
def test_refund_maps_answers(response: httpx.Response, outcome: RefundOutcome) -> None:
    provider = make_provider(lambda _r: response)
    result = provider.refund(refund_ref="RF1", txn_id="T1", amount_cents=100, currency="CNY")
    assert result.outcome is outcome


def test_query_refund_treats_an_unknown_ref_as_failed_and_busy_as_unknown() -> None:
    assert (
        make_provider(lambda _r: envelope("3001")).query_refund(refund_ref="RF1").outcome
        is RefundOutcome.FAILED
    )
    assert (
        make_provider(lambda _r: envelope("9999")).query_refund(refund_ref="RF1").outcome
        is RefundOutcome.UNKNOWN
    )


def test_create_payment_returns_the_pay_url_or_says_why_not() -> None:
    made = make_provider(
        lambda _r: envelope(order_no="O1", txn_id="T1", pay_url="http://pay.test/pay/T1")
    ).create_payment(order_no="O1", amount_cents=1999, currency="CNY", notify_url="http://s/cb")
    assert (made.ok, made.txn_id, made.pay_url) == (True, "T1", "http://pay.test/pay/T1")
    refused = make_provider(lambda _r: envelope("2007", msg="differs")).create_payment(
        order_no="O1", amount_cents=1, currency="CNY", notify_url=""
    )
    assert (refused.ok, refused.message) == (False, "2007: differs")


def callback(**changes: str) -> dict[str, str]:
    params = {
        "merchant_id": "shop",
        "order_no": "O1",
        "txn_id": "T1",
        "amount": "19.99",
        "currency": "CNY",
        "status": "paid",
        "paid_at": "2026-11-22 20:00:00",
        "timestamp": str(CALLBACK_TIME),
        "sign_type": "HMAC-SHA256",
    }
    return signed({**params, **changes}, SECRET)


def test_parse_callback_decodes_a_signed_payment_notification() -> None:
    result = make_provider(lambda _r: envelope()).parse_callback(callback())
    assert (result.order_no, result.txn_id, result.amount_cents) == ("O1", "T1", 1999)
    assert (result.currency, result.status) == ("CNY", PaymentStatus.PAID)


def test_parse_callback_rejects_tampering_and_other_merchants() -> None:
    provider = make_provider(lambda _r: envelope())
    with pytest.raises(SignatureError):
        provider.parse_callback({**callback(), "amount": "0.01"})
    with pytest.raises(SignatureError):
        provider.parse_callback(callback(merchant_id="evil"))


@pytest.mark.parametrize("change", [{"amount": "abc"}, {"status": "odd"}, {"txn_id": ""}])
def test_parse_callback_rejects_signed_but_unusable_notifications(change: dict[str, str]) -> None:
    with pytest.raises(MalformedCallback):
        make_provider(lambda _r: envelope()).parse_callback(callback(**change))
