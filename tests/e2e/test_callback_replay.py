"""Issue 10: a replayed payment notification changes nothing; an old one is refused."""

from __future__ import annotations

import time

import httpx
import pytest
from sqlalchemy import func, select

from fulfilment.models import Alert, AuditEntry, Payment
from fulfilment.payments.http import HttpPaymentProvider
from fulfilment.services.queries import get_order
from fulfilment.suppliers.signing import signed
from tests.factories import card_product, paid_order

SECRET = "sandbox-secret"
ORDER = "KM2026112200701"


def nobody(_request: httpx.Request) -> httpx.Response:
    raise AssertionError("a callback is answered without calling the provider")


@pytest.fixture
def payments() -> HttpPaymentProvider:
    """The real provider adapter (its signature and replay checks), with no network."""
    return HttpPaymentProvider(
        base_url="http://pay.test",
        merchant_id="kamidesk",
        secret=SECRET,
        client=httpx.Client(transport=httpx.MockTransport(nobody)),
    )


@pytest.fixture
def unpaid(container):  # type: ignore[no-untyped-def]
    uow = container.uow()
    card_product(uow, keys=2, supplier=None)
    paid_order(uow, ORDER, paid=False)
    return uow


def notice(timestamp: float) -> dict[str, str]:
    return signed(
        {
            "merchant_id": "kamidesk",
            "order_no": ORDER,
            "txn_id": "PAY-7001",
            "amount": "50.00",
            "currency": "CNY",
            "status": "paid",
            "paid_at": "2026-11-29 20:00:00",
            "timestamp": str(int(timestamp)),
            "sign_type": "HMAC-SHA256",
        },
        SECRET,
    )


def counts(uow) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    with uow:
        return tuple(  # type: ignore[return-value]
            uow.session.scalar(select(func.count()).select_from(model)) or 0
            for model in (AuditEntry, Alert, Payment)
        )


def test_a_correctly_signed_notification_two_days_old_is_refused(client, unpaid, jobs):
    before = counts(unpaid)
    answer = client.post("/api/v1/callbacks/payment", data=notice(time.time() - 2 * 86400))
    assert answer.status_code == 401
    assert answer.json()["error"] == "stale_timestamp"
    assert get_order(uow=unpaid, order_no=ORDER).status == "created"
    assert counts(unpaid) == before
    assert jobs.deliveries == []


def test_a_replayed_notification_is_acknowledged_and_changes_nothing(client, unpaid, jobs):
    body = notice(time.time())
    first = client.post("/api/v1/callbacks/payment", data=body)
    assert (first.status_code, first.text) == (200, "success")
    assert get_order(uow=unpaid, order_no=ORDER).status == "paid"
    after_first = counts(unpaid)
    for _ in range(3):
        again = client.post("/api/v1/callbacks/payment", data=body)
        assert (again.status_code, again.text) == (200, "success")  # the provider stops
    assert counts(unpaid) == after_first  # no audit entry, alert or payment more
    assert jobs.deliveries == [ORDER]
