"""Issue 10: refunds above what was paid, and keys redeemed about when they were delivered."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from fulfilment.actors import Actor
from fulfilment.errors import NotAllowed
from fulfilment.models import ReissueRequest
from fulfilment.ports import KeyCheckResult, KeyCheckStatus
from fulfilment.services.delivery import deliver_order
from fulfilment.services.queries import get_order
from fulfilment.services.refunds import request_refund
from fulfilment.services.reissue import reissue_key
from tests.factories import card_product, paid_order

ORDER = "KM2026112200601"
DELIVERED_AT = datetime(2026, 11, 22, 12, 0, 0, 700_000, tzinfo=UTC)


@pytest.fixture
def delivered(uow, suppliers):
    supplier = suppliers.add("sup-a")
    card_product(uow, keys=5)
    paid_order(uow, ORDER)
    uow.clock = lambda: DELIVERED_AT
    assert deliver_order(uow=uow, order_no=ORDER, actor=Actor.system("test")).status == "delivered"
    uow.clock = lambda: DELIVERED_AT + timedelta(days=1)
    return supplier


def used(at: datetime) -> KeyCheckResult:
    return KeyCheckResult(KeyCheckStatus.USED, used_at=at)


def test_a_refund_above_what_was_paid_is_refused_before_any_supplier_is_asked(uow, delivered):
    with pytest.raises(NotAllowed) as refused:
        request_refund(
            uow=uow,
            order_no=ORDER,
            request_id="r-over",
            reason="customer",
            requested_by=Actor.agent("lee"),
            amount=Decimal("50.01"),
            approved_by=Actor.agent("lee"),
        )
    assert refused.value.code == "exceeds_paid"
    assert [kind for kind, _ in delivered.calls] == []  # no key check for a refused amount
    assert get_order(uow=uow, order_no=ORDER).refunds == []


def reissue(uow, request_id: str):  # type: ignore[no-untyped-def]
    return reissue_key(
        uow=uow,
        order_no=ORDER,
        request_id=request_id,
        reason="says used",
        requested_by=Actor.system("bot"),
    )


def test_a_key_redeemed_in_the_second_it_was_delivered_goes_to_a_person(uow, delivered):
    # The supplier's whole-second time reads earlier than our delivery, though the customer
    # may have redeemed it 200 ms after receiving it.
    delivered.default_check = used(DELIVERED_AT.replace(microsecond=0))
    outcome = reissue(uow, "rq-same-second")
    assert (outcome.status, outcome.code) == ("needs_review", "redeemed_near_delivery")
    assert len(get_order(uow=uow, order_no=ORDER).deliveries) == 1  # nothing replaced
    with uow:
        request = uow.session.scalars(select(ReissueRequest)).one()
        assert (request.status, request.decision) == ("needs_review", "redeemed_near_delivery")


@pytest.mark.parametrize(
    ("used_at", "status", "code"),
    [
        (DELIVERED_AT - timedelta(seconds=59), "needs_review", "redeemed_near_delivery"),
        (DELIVERED_AT + timedelta(seconds=30), "needs_review", "redeemed_near_delivery"),
        (DELIVERED_AT - timedelta(seconds=61), "reissued", "key_bad"),
        (DELIVERED_AT + timedelta(minutes=5), "needs_review", "redeemed_after_delivery"),
    ],
)
def test_only_a_redemption_outside_the_window_decides_by_itself(
    uow, delivered, used_at, status, code
):
    delivered.default_check = used(used_at)
    outcome = reissue(uow, "rq-window")
    assert (outcome.status, outcome.code) == (status, code)


def test_the_ambiguity_window_is_a_policy_setting(uow, delivered):
    uow.policy = replace(uow.policy, key_redemption_ambiguity_seconds=300)
    delivered.default_check = used(DELIVERED_AT - timedelta(minutes=2))
    assert reissue(uow, "rq-wide").code == "redeemed_near_delivery"
    uow.policy = replace(uow.policy, key_redemption_ambiguity_seconds=0)
    delivered.default_check = used(DELIVERED_AT - timedelta(seconds=1))
    assert reissue(uow, "rq-none").code == "key_bad"


def test_a_refund_of_a_key_redeemed_about_when_it_was_delivered_is_refused_for_a_person(
    uow, delivered, payments
):
    delivered.default_check = used(DELIVERED_AT.replace(microsecond=0))
    near = request_refund(
        uow=uow,
        order_no=ORDER,
        request_id="r-near",
        reason="customer",
        requested_by=Actor.system("bot"),
    )
    assert (near.status, near.code) == ("rejected", "redeemed_near_delivery")
    delivered.default_check = used(DELIVERED_AT + timedelta(hours=1))
    later = request_refund(
        uow=uow,
        order_no=ORDER,
        request_id="r-later",
        reason="customer",
        requested_by=Actor.system("bot"),
    )
    assert (later.status, later.code) == ("rejected", "key_used")
    assert payments.refund_calls == []
    assert get_order(uow=uow, order_no=ORDER).status == "delivered"
