"""Issue 10: a correctly signed callback is refused outside the replay window."""

from __future__ import annotations

import httpx
import pytest

from fulfilment.payments.http import HttpPaymentProvider
from fulfilment.ports import PaymentStatus, SignatureError, SupplierOutcome
from fulfilment.suppliers.http import HttpSupplierClient
from fulfilment.suppliers.signing import StaleCallback, check_timestamp, signed

NOW = 1_796_083_200  # 2026-12-01 00:00:00 UTC
TWO_DAYS = 2 * 24 * 3600
SECRET = "callback-secret"


def unused(_request: httpx.Request) -> httpx.Response:
    raise AssertionError("parsing a callback calls nobody")


def provider(**kwargs: object) -> HttpPaymentProvider:
    return HttpPaymentProvider(
        base_url="http://pay.test",
        merchant_id="shop",
        secret=SECRET,
        client=httpx.Client(transport=httpx.MockTransport(unused)),
        clock=lambda: NOW,
        **kwargs,  # type: ignore[arg-type]
    )


def supplier() -> HttpSupplierClient:
    return HttpSupplierClient(
        code="sup-x",
        base_url="http://supplier.test",
        merchant_id="m1",
        secret=SECRET,
        client=httpx.Client(transport=httpx.MockTransport(unused)),
        clock=lambda: NOW,
    )


def payment_notice(timestamp: int | None) -> dict[str, str]:
    params = {
        "merchant_id": "shop",
        "order_no": "KM2026112200017",
        "txn_id": "PAY-1",
        "amount": "50.00",
        "currency": "CNY",
        "status": "paid",
        "sign_type": "HMAC-SHA256",
    }
    if timestamp is not None:
        params["timestamp"] = str(timestamp)
    return signed(params, SECRET)


def supplier_notice(timestamp: int) -> dict[str, str]:
    params = {
        "merchant_id": "m1",
        "order_id": "R1",
        "supplier_order_id": "S1",
        "status": "success",
        "timestamp": str(timestamp),
    }
    return signed(params, SECRET)


def test_a_signed_payment_callback_from_two_days_ago_is_refused_as_a_replay() -> None:
    with pytest.raises(StaleCallback):
        provider().parse_callback(payment_notice(NOW - TWO_DAYS))


@pytest.mark.parametrize("offset", [-300, -10, 0, 10, 300])
def test_a_payment_callback_inside_the_window_is_accepted(offset: int) -> None:
    notice = provider().parse_callback(payment_notice(NOW + offset))
    assert (notice.order_no, notice.status) == ("KM2026112200017", PaymentStatus.PAID)


@pytest.mark.parametrize("timestamp", [NOW - 301, NOW + 301, None])
def test_a_payment_callback_outside_the_window_or_without_a_timestamp_is_refused(
    timestamp: int | None,
) -> None:
    with pytest.raises(StaleCallback) as refused:
        provider().parse_callback(payment_notice(timestamp))
    assert refused.value.code == "stale_timestamp"


def test_the_window_is_configurable_and_a_forged_fresh_timestamp_breaks_the_signature() -> None:
    old = payment_notice(NOW - 1000)
    assert provider(callback_max_age=3600).parse_callback(old).txn_id == "PAY-1"
    with pytest.raises(SignatureError) as forged:
        provider().parse_callback({**old, "timestamp": str(NOW)})
    assert not isinstance(forged.value, StaleCallback)


def test_a_signed_supplier_callback_from_two_days_ago_is_refused_as_a_replay() -> None:
    assert supplier().parse_callback(supplier_notice(NOW)).outcome is SupplierOutcome.SUCCESS
    with pytest.raises(StaleCallback):
        supplier().parse_callback(supplier_notice(NOW - TWO_DAYS))


@pytest.mark.parametrize("value", ["", "soon", "1.5e9", "１７９６０８３２００"])
def test_a_timestamp_that_is_not_unix_seconds_is_refused(value: str) -> None:
    with pytest.raises(StaleCallback):
        check_timestamp({"timestamp": value}, now=NOW, max_age=300)
