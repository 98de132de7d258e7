from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import select

from fulfilment.actors import Actor
from fulfilment.errors import NotAllowed
from fulfilment.models import CardKey
from fulfilment.ports import KeyCheckResult, KeyCheckStatus, RefundOutcome, RefundResult
from fulfilment.services.delivery import deliver_order
from fulfilment.services.queries import get_order
from fulfilment.services.recovery import run_due_work
from fulfilment.services.refunds import approve_refund, request_refund
from tests.factories import card_product, paid_order

ORDER = "KM2026112200099"


@pytest.fixture
def shop(uow, suppliers):
    supplier = suppliers.add("sup-a")
    card_product(uow, keys=5)
    return supplier


def _refund(uow, request_id="r-1", **kw):
    return request_refund(
        uow=uow,
        order_no=ORDER,
        request_id=request_id,
        reason="customer",
        requested_by=Actor.system("bot"),
        **kw,
    )


def test_an_undelivered_paid_order_is_refunded_in_full_and_never_delivered(uow, shop, payments):
    paid_order(uow, ORDER)
    result = _refund(uow)
    assert (result.status, result.amount_cents) == ("succeeded", 50_00)
    assert (
        deliver_order(uow=uow, order_no=ORDER, actor=Actor.system("test")).status
        == "not_deliverable"
    )
    assert get_order(uow=uow, order_no=ORDER).status == "refunded"
    assert payments.by_txn[f"T-{ORDER}"] == 50_00


def test_a_delivered_unused_key_is_refunded_and_revoked(uow, shop, payments):
    paid_order(uow, ORDER)
    deliver_order(uow=uow, order_no=ORDER, actor=Actor.system("test"))
    result = _refund(uow)
    assert result.status == "succeeded"
    with uow:
        statuses = uow.session.scalars(
            select(CardKey.status).where(CardKey.order_id.is_not(None))
        ).all()
    assert statuses == ["revoked"]


def test_a_delivered_key_that_was_used_is_not_refunded(uow, shop, payments):
    shop.default_check = KeyCheckResult(KeyCheckStatus.USED)
    paid_order(uow, ORDER)
    deliver_order(uow=uow, order_no=ORDER, actor=Actor.system("test"))
    result = _refund(uow)
    assert (result.status, result.code) == ("rejected", "key_used")
    assert payments.refund_calls == []
    assert get_order(uow=uow, order_no=ORDER).status == "delivered"


def test_the_same_request_id_refunds_once(uow, shop, payments):
    paid_order(uow, ORDER)
    first = _refund(uow)
    second = _refund(uow)
    assert first == second
    assert payments.refund_calls == ["r-1"]


def test_never_more_than_was_paid(uow, shop, payments):
    paid_order(uow, ORDER)
    uow.policy = replace(uow.policy, refund_auto_approve_cents=10_000_00)
    with pytest.raises(NotAllowed) as err:
        _refund(uow, amount=Decimal("50.01"), approved_by=Actor.agent("staff"))
    assert err.value.code == "exceeds_paid"
    _refund(uow, "g-1", amount=Decimal("20.00"), approved_by=Actor.agent("staff"))  # goodwill part
    with pytest.raises(NotAllowed):
        _refund(uow, "g-2", amount=Decimal("30.01"), approved_by=Actor.agent("staff"))
    assert sum(payments.refunds.values()) == 20_00


def test_over_the_auto_approve_limit_a_person_must_approve(uow, shop, payments):
    uow.policy = replace(uow.policy, refund_auto_approve_cents=10_00)
    paid_order(uow, ORDER)
    pending = _refund(uow)
    assert (pending.status, pending.code) == ("pending_approval", "over_auto_limit")
    assert payments.refund_calls == []
    approved = approve_refund(uow=uow, request_id="r-1", approved_by=Actor.agent("lee"))
    assert approved.status == "succeeded"
    assert payments.by_txn[f"T-{ORDER}"] == 50_00


def test_a_lost_provider_answer_is_retried_with_the_same_ref_and_pays_once(uow, shop, payments):
    paid_order(uow, ORDER)
    payments.refund_answers.append(RefundResult(RefundOutcome.UNKNOWN, message="timeout"))
    first = _refund(uow)
    assert first.status == "processing"
    with uow:
        from fulfilment.models import Refund

        refund = uow.session.scalars(select(Refund)).one()
        refund.next_attempt_at = None  # due now
        uow.commit()
    run_due_work(uow=uow, actor=Actor.system("sweeper"))
    assert get_order(uow=uow, order_no=ORDER).status == "refunded"
    assert payments.refund_calls == ["r-1", "r-1"]
    assert payments.by_txn[f"T-{ORDER}"] == 50_00


def test_an_unpaid_order_cannot_be_refunded(uow, shop, payments):
    paid_order(uow, ORDER, paid=False)
    with pytest.raises(NotAllowed):
        _refund(uow)
