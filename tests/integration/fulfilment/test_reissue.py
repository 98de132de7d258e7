from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from fulfilment.actors import Actor
from fulfilment.errors import Conflict, NotAllowed
from fulfilment.models import AuditEntry, CardKey, SupplierClaim
from fulfilment.ports import KeyCheckResult, KeyCheckStatus
from fulfilment.services.delivery import deliver_order
from fulfilment.services.ownership import Proof, reveal_keys
from fulfilment.services.queries import get_order
from fulfilment.services.reissue import reissue_key
from tests.factories import card_product, paid_order

ORDER = "KM2026112200017"


@pytest.fixture
def delivered(uow, suppliers):
    supplier = suppliers.add("sup-a")
    keys = card_product(uow, keys=4)
    paid_order(uow, ORDER)
    deliver_order(uow=uow, order_no=ORDER, actor=Actor.system("test"))
    return supplier, keys


def _key_of(uow):
    revealed = reveal_keys(
        uow=uow,
        order_no=ORDER,
        claimant=Actor.customer("tg:1"),
        proof=Proof(email="a@example.com"),
    )
    assert revealed is not None
    return revealed[0].key


def test_a_key_the_supplier_says_is_invalid_is_replaced_and_claimed(uow, delivered):
    supplier, _ = delivered
    old = _key_of(uow)
    supplier.key_states[old] = KeyCheckResult(KeyCheckStatus.INVALID)
    outcome = reissue_key(
        uow=uow,
        order_no=ORDER,
        request_id="rq-1",
        reason="invalid",
        requested_by=Actor.system("bot"),
    )
    assert (outcome.status, outcome.code) == ("reissued", "key_bad")
    new = _key_of(uow)
    assert new != old
    with uow:
        claim = uow.session.scalars(select(SupplierClaim)).one()
        old_row = uow.session.get(CardKey, claim.card_key_id)
        assert old_row is not None and old_row.status == "invalid"
        actions = uow.session.scalars(select(AuditEntry.action)).all()
    assert "key.invalidated" in actions and "reissue.reissued" in actions


def test_a_key_used_before_delivery_is_bad_but_one_used_after_goes_to_a_person(uow, delivered):
    supplier, _ = delivered
    old = _key_of(uow)
    with uow:
        delivered_at = uow.session.scalars(
            select(CardKey.delivered_at).where(CardKey.status == "delivered")
        ).one()
    supplier.key_states[old] = KeyCheckResult(
        KeyCheckStatus.USED, used_at=delivered_at + timedelta(hours=1)
    )
    after = reissue_key(
        uow=uow, order_no=ORDER, request_id="rq-a", reason="used", requested_by=Actor.system("bot")
    )
    assert (after.status, after.code) == ("needs_review", "redeemed_after_delivery")
    supplier.key_states[old] = KeyCheckResult(
        KeyCheckStatus.USED, used_at=delivered_at - timedelta(days=3)
    )
    before = reissue_key(
        uow=uow, order_no=ORDER, request_id="rq-b", reason="used", requested_by=Actor.system("bot")
    )
    assert before.status == "reissued"


def test_a_valid_unused_key_is_not_reissued(uow, delivered):
    outcome = reissue_key(
        uow=uow,
        order_no=ORDER,
        request_id="rq-2",
        reason="says invalid",
        requested_by=Actor.system("bot"),
    )
    assert (outcome.status, outcome.code) == ("rejected", "key_valid")
    assert len(get_order(uow=uow, order_no=ORDER).deliveries) == 1


def test_the_same_request_id_never_reissues_twice(uow, delivered):
    supplier, _ = delivered
    supplier.default_check = KeyCheckResult(KeyCheckStatus.INVALID)
    first = reissue_key(
        uow=uow, order_no=ORDER, request_id="rq-3", reason="x", requested_by=Actor.system("bot")
    )
    again = reissue_key(
        uow=uow, order_no=ORDER, request_id="rq-3", reason="x", requested_by=Actor.system("bot")
    )
    assert first == again
    with uow:
        assert len(uow.session.scalars(select(SupplierClaim)).all()) == 1
    with pytest.raises(Conflict):
        reissue_key(
            uow=uow,
            order_no="OTHER-ORDER",
            request_id="rq-3",
            reason="x",
            requested_by=Actor.system("bot"),
        )


def test_the_per_order_limit_hands_further_reissues_to_a_person(uow, delivered):
    supplier, _ = delivered
    supplier.default_check = KeyCheckResult(KeyCheckStatus.INVALID)
    uow.policy = replace(uow.policy, reissue_max_per_order=1)
    assert (
        reissue_key(
            uow=uow, order_no=ORDER, request_id="a", reason="x", requested_by=Actor.system("bot")
        ).status
        == "reissued"
    )
    second = reissue_key(
        uow=uow, order_no=ORDER, request_id="b", reason="x", requested_by=Actor.system("bot")
    )
    assert (second.status, second.code) == ("needs_review", "limit_order")


def test_an_unreachable_supplier_leaves_the_request_open_to_retry(uow, delivered):
    supplier, _ = delivered
    supplier.default_check = KeyCheckResult(KeyCheckStatus.UNKNOWN, message="timeout")
    first = reissue_key(
        uow=uow, order_no=ORDER, request_id="rq-4", reason="x", requested_by=Actor.system("bot")
    )
    assert first.status == "check_unavailable"
    supplier.default_check = KeyCheckResult(KeyCheckStatus.INVALID)
    retry = reissue_key(
        uow=uow, order_no=ORDER, request_id="rq-4", reason="x", requested_by=Actor.system("bot")
    )
    assert retry.status == "reissued"


def test_unchecked_reissue_follows_the_policy(uow, suppliers):
    card_product(uow, keys=3, supplier=None)  # keys of unknown origin: cannot be checked
    paid_order(uow, ORDER)
    deliver_order(uow=uow, order_no=ORDER, actor=Actor.system("test"))
    refused = reissue_key(
        uow=uow, order_no=ORDER, request_id="p-1", reason="x", requested_by=Actor.system("bot")
    )
    assert (refused.status, refused.code) == ("needs_review", "cannot_verify")
    uow.policy = replace(uow.policy, reissue_without_check=True)
    allowed = reissue_key(
        uow=uow, order_no=ORDER, request_id="p-2", reason="x", requested_by=Actor.system("bot")
    )
    assert (allowed.status, allowed.code) == ("reissued", "unchecked_policy")


def test_reissue_without_stock_waits_like_an_order_and_completes_on_import(uow, suppliers):
    from fulfilment.services import catalog
    from fulfilment.services.recovery import run_due_work

    supplier = suppliers.add("sup-a")
    card_product(uow, keys=1)
    paid_order(uow, ORDER)
    deliver_order(uow=uow, order_no=ORDER, actor=Actor.system("test"))
    supplier.default_check = KeyCheckResult(KeyCheckStatus.INVALID)
    outcome = reissue_key(
        uow=uow, order_no=ORDER, request_id="w-1", reason="x", requested_by=Actor.system("bot")
    )
    assert outcome.status == "waiting_stock"
    catalog.import_keys(
        uow=uow,
        sku="STEAM-50",
        keys=["FRESH-KEY-0001"],
        actor=Actor.system("test"),
        supplier_code="sup-a",
    )
    run_due_work(uow=uow, actor=Actor.system("sweeper"))
    assert _key_of(uow) == "FRESH-KEY-0001"


def test_a_top_up_order_cannot_have_a_key_reissued(uow, suppliers):
    from tests.factories import topup_product

    suppliers.add("sup-a")
    suppliers.add("sup-b")
    topup_product(uow)
    paid_order(uow, "DJ0000000000000001", sku="CM-100", price="98.50", account="13800138000")
    with pytest.raises(NotAllowed):
        reissue_key(
            uow=uow,
            order_no="DJ0000000000000001",
            request_id="t-1",
            reason="x",
            requested_by=Actor.system("bot"),
        )


def _at(uow, moment):
    uow.clock = lambda: moment


def test_a_reissue_interrupted_before_its_decision_is_finished_by_the_sweeper(uow, delivered):
    from datetime import UTC, datetime

    from fulfilment.services import reissue as reissue_module
    from fulfilment.services.recovery import due_work, run_due_work

    supplier, _ = delivered
    supplier.default_check = KeyCheckResult(KeyCheckStatus.INVALID)
    start = datetime.now(UTC)
    _at(uow, start)

    def dies(*_args, **_kwargs):
        raise RuntimeError("process killed")

    original = reissue_module.check_key
    reissue_module.check_key = dies
    try:
        with pytest.raises(RuntimeError):
            reissue_key(
                uow=uow,
                order_no=ORDER,
                request_id="rq-crash",
                reason="x",
                requested_by=Actor.system("bot"),
            )
    finally:
        reissue_module.check_key = original
    assert due_work(uow=uow).reissues == []  # a live request is left alone at first
    _at(uow, start + timedelta(minutes=3))
    assert due_work(uow=uow).reissues == ["rq-crash"]
    run_due_work(uow=uow, actor=Actor.system("sweeper"))
    again = reissue_key(
        uow=uow,
        order_no=ORDER,
        request_id="rq-crash",
        reason="x",
        requested_by=Actor.system("bot"),
    )
    assert (again.status, again.code) == ("reissued", "key_bad")
    assert due_work(uow=uow).reissues == []
    with uow:
        assert len(uow.session.scalars(select(SupplierClaim)).all()) == 1


def test_a_reissue_the_supplier_could_not_check_is_retried_by_the_sweeper(uow, delivered):
    from datetime import UTC, datetime

    from fulfilment.services.recovery import due_work, run_due_work

    supplier, _ = delivered
    old = _key_of(uow)
    start = datetime.now(UTC)
    _at(uow, start)
    supplier.default_check = KeyCheckResult(KeyCheckStatus.UNKNOWN, message="timeout")
    first = reissue_key(
        uow=uow,
        order_no=ORDER,
        request_id="rq-later",
        reason="x",
        requested_by=Actor.system("bot"),
    )
    assert first.status == "check_unavailable"
    assert due_work(uow=uow).reissues == []  # not hammered: the next try is a minute away
    supplier.default_check = KeyCheckResult(KeyCheckStatus.INVALID)
    _at(uow, start + timedelta(seconds=61))
    run_due_work(uow=uow, actor=Actor.system("sweeper"))
    assert due_work(uow=uow).reissues == []
    assert _key_of(uow) != old
    with uow:
        assert len(uow.session.scalars(select(SupplierClaim)).all()) == 1


def test_the_per_customer_limit_counts_one_phone_however_it_is_written(uow, suppliers):
    from decimal import Decimal

    from fulfilment.services.orders import OrderInput, ingest_order

    supplier = suppliers.add("sup-a")
    supplier.default_check = KeyCheckResult(KeyCheckStatus.INVALID)
    card_product(uow, keys=10)
    uow.policy = replace(uow.policy, reissue_max_per_customer=1)
    spellings = ("+86 138-0013-8000", "13800138000")
    for n, phone in enumerate(spellings):
        no = f"KM20261122000{n:02d}"
        ingest_order(
            uow=uow,
            data=OrderInput(
                order_no=no,
                sku="STEAM-50",
                quantity=1,
                amount=Decimal("50.00"),
                currency="CNY",
                buyer_phone=phone,
            ),
            paid=True,
            actor=Actor.system("test"),
        )
        deliver_order(uow=uow, order_no=no, actor=Actor.system("test"))
    first = reissue_key(
        uow=uow,
        order_no="KM2026112200000",
        request_id="c-1",
        reason="x",
        requested_by=Actor.system("bot"),
    )
    second = reissue_key(
        uow=uow,
        order_no="KM2026112200001",
        request_id="c-2",
        reason="x",
        requested_by=Actor.system("bot"),
    )
    assert first.status == "reissued"
    assert (second.status, second.code) == ("needs_review", "limit_customer")
