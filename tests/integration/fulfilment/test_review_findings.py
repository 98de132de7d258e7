"""Defects found in review of the fulfilment core, each pinned by the test that first failed."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from fulfilment.actors import Actor
from fulfilment.errors import Conflict, InvalidRequest, NotAllowed, OwnershipLocked
from fulfilment.models import Alert, Order, Product, Refund, SupplierOrder
from fulfilment.ports import (
    KeyCheckResult,
    KeyCheckStatus,
    RefundOutcome,
    RefundResult,
    SupplierOutcome,
    SupplierResult,
)
from fulfilment.services import catalog, refunds
from fulfilment.services.delivery import deliver_order
from fulfilment.services.orders import record_payment
from fulfilment.services.ownership import Proof, verify_owner
from fulfilment.services.queries import get_order, open_alerts
from fulfilment.services.refunds import request_refund
from fulfilment.services.reissue import reissue_key
from fulfilment.services.topup import handle_supplier_callback
from tests.factories import card_product, paid_order, topup_product

ORDER = "KM2026112200501"


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


def _alerts(uow, kind):
    with uow:
        return list(uow.session.scalars(select(Alert).where(Alert.kind == kind)))


def test_a_refund_the_provider_refused_can_be_requested_again_and_completes(uow, shop, payments):
    paid_order(uow, ORDER)
    payments.refund_answers.append(RefundResult(RefundOutcome.FAILED, message="channel closed"))
    assert _refund(uow).status == "failed"
    assert get_order(uow=uow, order_no=ORDER).status == "refunding"  # nothing delivered
    retry = _refund(uow, "r-2")
    assert (retry.status, retry.amount_cents) == ("succeeded", 50_00)
    assert get_order(uow=uow, order_no=ORDER).status == "refunded"
    assert payments.by_txn[f"T-{ORDER}"] == 50_00


def test_a_refund_failure_with_a_long_provider_message_is_still_recorded(uow, shop, payments):
    paid_order(uow, ORDER)
    payments.refund_answers.append(RefundResult(RefundOutcome.FAILED, message="x" * 900))
    assert _refund(uow).status == "failed"
    [alert] = _alerts(uow, "refund_failed")
    assert len(alert.message) <= 500


def test_a_long_provider_refund_id_does_not_leave_a_paid_refund_processing(uow, shop, payments):
    paid_order(uow, ORDER)
    payments.refund_answers.append(RefundResult(RefundOutcome.SUCCEEDED, "R" * 200))
    assert _refund(uow).status == "succeeded"
    assert get_order(uow=uow, order_no=ORDER).status == "refunded"


def test_a_duplicate_of_a_refund_request_arriving_mid_way_gets_the_same_answer(
    uow, shop, payments, monkeypatch
):
    paid_order(uow, ORDER)
    original = refunds._keys_needing_check
    seen: list[object] = []
    calls = []

    def duplicate_lands_first(*args, **kwargs):
        # The same request (a retry) lands between this one's lookup and its insert.
        calls.append(1)
        if len(calls) == 1:
            seen.append(_refund(uow.fork()))
        return original(*args, **kwargs)

    monkeypatch.setattr(refunds, "_keys_needing_check", duplicate_lands_first)
    result = _refund(uow)
    assert result == seen[0]
    assert (result.status, result.amount_cents) == ("succeeded", 50_00)
    assert payments.by_txn[f"T-{ORDER}"] == 50_00


def test_a_second_payment_with_another_transaction_raises_an_alert(uow, shop):
    paid_order(uow, ORDER, paid=False)
    first = record_payment(
        uow=uow,
        order_no=ORDER,
        txn_id="PAY-1",
        amount_cents=50_00,
        currency="CNY",
        source="callback",
        actor=Actor.system("test"),
    )
    repeat = record_payment(
        uow=uow,
        order_no=ORDER,
        txn_id="PAY-1",
        amount_cents=50_00,
        currency="CNY",
        source="callback",
        actor=Actor.system("test"),
    )
    assert (first.status, repeat.status) == ("paid", "already_paid")
    assert _alerts(uow, "duplicate_payment") == []
    other = record_payment(
        uow=uow,
        order_no=ORDER,
        txn_id="PAY-2",
        amount_cents=50_00,
        currency="CNY",
        source="callback",
        actor=Actor.system("test"),
    )
    assert other.status == "already_paid"
    [alert] = _alerts(uow, "duplicate_payment")
    assert "PAY-2" in alert.message
    for txn_id in ("PAY-2", "pay-2"):  # a repeated notification, then a third payment
        record_payment(
            uow=uow,
            order_no=ORDER,
            txn_id=txn_id,
            amount_cents=50_00,
            currency="CNY",
            source="callback",
            actor=Actor.system("test"),
        )
    assert len(_alerts(uow, "duplicate_payment")) == 2
    assert get_order(uow=uow, order_no=ORDER).paid == "50.00"


def test_a_supplier_answer_with_an_overlong_reference_still_delivers(uow, suppliers):
    supplier = suppliers.add("sup-a")
    suppliers.add("sup-b")
    topup_product(uow)
    paid_order(uow, ORDER, sku="CM-100", price="98.50", account="13800138000")
    supplier.submits.append(SupplierResult(SupplierOutcome.SUCCESS, "S" * 200))
    assert deliver_order(uow=uow, order_no=ORDER, actor=Actor.system("test")).status == "delivered"
    with uow:
        sorder = uow.session.scalars(select(SupplierOrder)).one()
        assert sorder.status == "success" and len(sorder.supplier_ref or "") <= 80


def test_a_goodwill_refund_approved_after_a_full_refund_is_paid_not_lost(uow, shop, payments):
    paid_order(uow, ORDER)
    deliver_order(uow=uow, order_no=ORDER, actor=Actor.system("test"))
    goodwill = _refund(uow, "g-1", amount=Decimal("20.00"))
    assert goodwill.status == "pending_approval"
    rest = _refund(uow, "r-2")  # the remaining 30.00: keys checked unused, revoked
    assert (rest.status, rest.amount_cents) == ("succeeded", 30_00)
    approved = refunds.approve_refund(uow=uow, request_id="g-1", approved_by=Actor.agent("lee"))
    assert (approved.status, approved.amount_cents) == ("succeeded", 20_00)
    assert get_order(uow=uow, order_no=ORDER).status == "refunded"
    assert payments.by_txn[f"T-{ORDER}"] == 50_00
    with uow:
        assert uow.session.scalar(select(Refund.status).where(Refund.request_id == "g-1"))


@pytest.fixture
def needs_approval(uow):
    uow.policy = replace(uow.policy, refund_auto_approve_cents=10_00)


def _refund_rows(uow):
    with uow:
        return {r.request_id: r.status for r in uow.session.scalars(select(Refund))}


def test_an_approval_the_key_check_refuses_keeps_the_refund_on_record(
    uow, shop, payments, needs_approval
):
    paid_order(uow, ORDER)
    deliver_order(uow=uow, order_no=ORDER, actor=Actor.system("test"))
    assert _refund(uow).status == "pending_approval"
    shop.default_check = KeyCheckResult(KeyCheckStatus.USED)
    refused = refunds.approve_refund(uow=uow, request_id="r-1", approved_by=Actor.agent("lee"))
    assert (refused.status, refused.code) == ("rejected", "key_used")
    assert _refund_rows(uow) == {"r-1": "rejected"}
    again = refunds.approve_refund(uow=uow, request_id="r-1", approved_by=Actor.agent("lee"))
    assert again.status == "rejected"
    assert payments.refund_calls == []
    assert get_order(uow=uow, order_no=ORDER).status == "delivered"


def test_a_crash_during_approval_leaves_the_refund_waiting_for_approval(
    uow, shop, payments, needs_approval, monkeypatch
):
    paid_order(uow, ORDER)
    deliver_order(uow=uow, order_no=ORDER, actor=Actor.system("test"))
    _refund(uow)

    def process_dies(*args, **kwargs):
        raise RuntimeError("process died during the key check")

    monkeypatch.setattr(refunds, "check_key", process_dies)
    with pytest.raises(RuntimeError):
        refunds.approve_refund(uow=uow, request_id="r-1", approved_by=Actor.agent("lee"))
    assert _refund_rows(uow) == {"r-1": "pending_approval"}
    monkeypatch.undo()
    approved = refunds.approve_refund(uow=uow, request_id="r-1", approved_by=Actor.agent("lee"))
    assert approved.status == "succeeded"
    assert payments.by_txn[f"T-{ORDER}"] == 50_00


def test_concurrent_approvals_of_one_refund_pay_it_once(uow, shop, payments, needs_approval):
    paid_order(uow, ORDER)
    _refund(uow)
    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = [
            pool.submit(
                refunds.approve_refund,
                uow=uow.fork(),
                request_id="r-1",
                approved_by=Actor.agent(f"staff-{n}"),
            )
            for n in range(6)
        ]
        results = [f.result() for f in futures]
    assert {r.status for r in results} <= {"succeeded", "processing"}
    assert _refund_rows(uow) == {"r-1": "succeeded"}
    assert payments.by_txn[f"T-{ORDER}"] == 50_00


def test_repeating_a_pending_refund_request_with_approval_approves_it(
    uow, shop, payments, needs_approval
):
    paid_order(uow, ORDER)
    assert _refund(uow).status == "pending_approval"
    approved = _refund(uow, approved_by=Actor.agent("lee"))
    assert approved.status == "succeeded"
    assert payments.by_txn[f"T-{ORDER}"] == 50_00


def test_a_key_swapped_while_the_refund_checked_the_old_one_is_not_revoked_unchecked(
    uow, shop, payments, monkeypatch
):
    paid_order(uow, ORDER)
    deliver_order(uow=uow, order_no=ORDER, actor=Actor.system("test"))
    original = refunds.check_key

    def reissued_meanwhile(*args, **kwargs):
        answer = original(*args, **kwargs)
        reissue_key(
            uow=uow.fork(),
            order_no=ORDER,
            request_id="rq-1",
            reason="staff override",
            requested_by=Actor.agent("staff"),
            override=True,
        )
        return answer

    monkeypatch.setattr(refunds, "check_key", reissued_meanwhile)
    with pytest.raises(NotAllowed) as err:
        _refund(uow)
    assert err.value.code == "not_checked"
    assert payments.refund_calls == []
    assert get_order(uow=uow, order_no=ORDER).deliveries[-1].status == "active"


def test_a_success_reported_after_failover_for_the_failed_attempt_raises_an_alert(uow, suppliers):
    a, b = suppliers.add("sup-a"), suppliers.add("sup-b")
    topup_product(uow)
    paid_order(uow, ORDER, sku="CM-100", price="98.50", account="13800138000")
    a.submits.append(SupplierResult(SupplierOutcome.FAILED, message="channel busy"))
    assert (
        deliver_order(uow=uow, order_no=ORDER, actor=Actor.system("test")).status == "delivered"
    )  # by sup-b
    assert [c for c, _ in b.calls] == ["submit", "query"]
    params = {"order_id": f"{ORDER}-1", "status": "success", "sign": "good"}
    for _ in range(2):  # the late callback, and its retry
        outcome = handle_supplier_callback(
            uow=uow, supplier_code="sup-a", params=params, actor=Actor.system("supplier:sup-a")
        )
        assert outcome.status == "delivered"
    # The customer may have been topped up twice: a person must sort it out, once.
    [alert] = _alerts(uow, "late_supplier_success")
    assert f"{ORDER}-1" in alert.message
    assert len(get_order(uow=uow, order_no=ORDER).deliveries) == 1


def test_a_failure_reported_after_delivery_raises_an_alert_and_tries_no_one_else(uow, suppliers):
    suppliers.add("sup-a")
    b = suppliers.add("sup-b")
    topup_product(uow)
    paid_order(uow, ORDER, sku="CM-100", price="98.50", account="13800138000")
    assert deliver_order(uow=uow, order_no=ORDER, actor=Actor.system("test")).status == "delivered"
    params = {"order_id": f"{ORDER}-1", "status": "failed", "sign": "good"}
    outcome = handle_supplier_callback(
        uow=uow, supplier_code="sup-a", params=params, actor=Actor.system("supplier:sup-a")
    )
    assert outcome.status == "delivered"
    [alert] = _alerts(uow, "supplier_reversed")
    assert f"{ORDER}-1" in alert.message
    assert b.calls == []


def test_a_callback_racing_a_worker_on_the_same_attempt_does_not_deadlock(
    uow, suppliers, session_factory
):
    a = suppliers.add("sup-a")
    suppliers.add("sup-b")
    topup_product(uow)
    paid_order(uow, ORDER, sku="CM-100", price="98.50", account="13800138000")
    a.queries.append(SupplierResult(SupplierOutcome.ACCEPTED))
    deliver_order(
        uow=uow, order_no=ORDER, actor=Actor.system("test")
    )  # accepted, then still processing on query
    params = {"order_id": f"{ORDER}-1", "status": "success", "sign": "good"}
    # A worker's step holds the order and then writes the attempt (as `_next_step` does),
    # while the supplier's callback for that attempt arrives.
    with session_factory() as worker:
        worker.execute(select(Order).where(Order.order_no == ORDER).with_for_update())
        with ThreadPoolExecutor(max_workers=1) as pool:
            callback = pool.submit(
                handle_supplier_callback,
                uow=uow.fork(),
                supplier_code="sup-a",
                params=params,
                actor=Actor.system("supplier:sup-a"),
            )
            time.sleep(0.5)  # let the callback reach its locks
            worker.execute(
                update(SupplierOrder)
                .where(SupplierOrder.request_ref == f"{ORDER}-1")
                .values(last_message="worker step")
            )
            worker.commit()
            assert callback.result(timeout=30).status == "delivered"


def test_a_key_import_racing_a_delivery_of_the_same_product_does_not_deadlock(
    uow, suppliers, session_factory
):
    suppliers.add("sup-a")
    card_product(uow, keys=0)
    paid_order(uow, ORDER)
    assert (
        deliver_order(uow=uow, order_no=ORDER, actor=Actor.system("test")).status
        == "waiting_stock"
    )
    # A delivery holds the waiting order and then writes its product (as `pause_if_low`
    # does), while the shop imports keys for that product.
    with session_factory() as worker:
        worker.execute(select(Order).where(Order.order_no == ORDER).with_for_update())
        with ThreadPoolExecutor(max_workers=1) as pool:
            imported = pool.submit(
                catalog.import_keys,
                uow=uow.fork(),
                sku="STEAM-50",
                keys=["STEAM-50-KEY-9999-ABCD"],
                actor=Actor.system("test"),
            )
            time.sleep(0.5)  # let the import reach its locks
            worker.execute(
                update(Product).where(Product.sku == "STEAM-50").values(pause_reason=None)
            )
            worker.commit()
            assert imported.result(timeout=30).imported == 1
    assert deliver_order(uow=uow, order_no=ORDER, actor=Actor.system("test")).status == "delivered"


def test_a_claimant_too_long_to_record_is_refused_before_any_answer(uow, shop):
    # Failures are counted in rows whose claimant column holds 80 characters; a longer one
    # failed to record on PostgreSQL, so its wrong guesses were never counted.
    paid_order(uow, ORDER, email="a@example.com")
    claimant = "web:" + "s" * 96
    for email in ("x@example.com", "a@example.com"):
        with pytest.raises(InvalidRequest):
            verify_owner(
                uow=uow,
                order_no=ORDER,
                claimant=Actor.customer(claimant),
                proof=Proof(email=email),
            )
    longest = "web:" + "s" * 76
    for _ in range(uow.policy.ownership_max_failures):
        proof = Proof(email="x@example.com")
        assert not verify_owner(
            uow=uow, order_no=ORDER, claimant=Actor.customer(longest), proof=proof
        )
    with pytest.raises(OwnershipLocked):
        verify_owner(
            uow=uow,
            order_no=ORDER,
            claimant=Actor.customer(longest),
            proof=Proof(email="a@example.com"),
        )


def test_an_overlong_batch_label_is_refused_on_every_database(uow, shop):
    with pytest.raises(InvalidRequest):
        catalog.import_keys(
            uow=uow,
            sku="STEAM-50",
            keys=["NEW-KEY-0001-WXYZ"],
            actor=Actor.system("cli"),
            batch="b" * 65,
        )
    assert catalog.get_product(uow=uow, sku="STEAM-50").stock == 5


def test_concurrent_wrong_guesses_from_one_claimant_stop_at_the_limit(uow, shop):
    paid_order(uow, ORDER, email="a@example.com")

    def guess(n: int) -> str:
        try:
            ok = verify_owner(
                uow=uow.fork(),
                order_no=f"KM20261122{n:05d}",
                claimant=Actor.customer("web:burst"),
                proof=Proof(email=f"guess{n}@example.com"),
            )
        except OwnershipLocked:
            return "locked"
        return "ok" if ok else "wrong"

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(guess, range(32)))
    # Every answer a guesser gets beyond the limit is one more try: the limit must hold.
    assert answers.count("wrong") == uow.policy.ownership_max_failures
    assert answers.count("locked") == 32 - uow.policy.ownership_max_failures


def test_concurrent_creation_of_one_product_or_supplier_is_a_conflict_not_a_crash(uow):
    def create_product():
        try:
            catalog.create_product(
                uow=uow.fork(),
                sku="RACE-1",
                name="Race",
                kind="card_key",
                face_value=Decimal("10"),
                price=Decimal("10.00"),
                currency="CNY",
                actor=Actor.system("test"),
            )
        except Conflict:
            return "conflict"
        return "created"

    def add_supplier():
        return catalog.add_supplier(
            uow=uow.fork(), code="sup-race", name="R", actor=Actor.system("test")
        ).code

    with ThreadPoolExecutor(max_workers=8) as pool:
        products = list(pool.map(lambda _: create_product(), range(8)))
        codes = list(pool.map(lambda _: add_supplier(), range(8)))
    assert sorted(products) == ["conflict"] * 7 + ["created"]
    assert codes == ["sup-race"] * 8


def test_a_supplier_without_a_configured_client_is_failed_over_not_retried_forever(uow, suppliers):
    # sup-a is registered and linked first, but this process has no client for it.
    b = suppliers.add("sup-b")
    topup_product(uow)
    paid_order(uow, ORDER, sku="CM-100", price="98.50", account="13800138000")
    assert deliver_order(uow=uow, order_no=ORDER, actor=Actor.system("test")).status == "delivered"
    assert [c for c, _ in b.calls] == ["submit", "query"]
    with uow:
        attempts = [
            (s.request_ref, s.status, s.last_message)
            for s in uow.session.scalars(select(SupplierOrder).order_by(SupplierOrder.id))
        ]
    assert attempts[0][:2] == (f"{ORDER}-1", "failed")
    assert "no client" in (attempts[0][2] or "")
    assert attempts[1][:2] == (f"{ORDER}-2", "success")


def test_an_attempt_that_cannot_be_queried_here_waits_and_is_never_failed_over(uow, suppliers):
    a = suppliers.add("sup-a")
    suppliers.add("sup-b")
    topup_product(uow)
    paid_order(uow, ORDER, sku="CM-100", price="98.50", account="13800138000")
    uow.policy = replace(uow.policy, supplier_poll_seconds=60)
    assert (
        deliver_order(uow=uow, order_no=ORDER, actor=Actor.system("test")).status == "in_progress"
    )  # accepted by sup-a
    assert [c for c, _ in a.calls] == ["submit"]
    with uow:
        uow.session.execute(update(SupplierOrder).values(next_check_at=None))  # due now
        uow.commit()
    del suppliers.suppliers["sup-a"]  # a process started without sup-a's client
    assert (
        deliver_order(uow=uow, order_no=ORDER, actor=Actor.system("test")).status == "in_progress"
    )
    with uow:
        statuses = [s.status for s in uow.session.scalars(select(SupplierOrder))]
    assert statuses == ["processing"]  # it may still succeed: never tried elsewhere


def test_a_refund_waiting_for_approval_is_on_the_staff_alert_list_until_decided(
    uow, shop, payments, needs_approval
):
    paid_order(uow, ORDER)
    assert _refund(uow).status == "pending_approval"
    [waiting] = [a for a in open_alerts(uow=uow) if a.kind == "refund_needs_approval"]
    assert waiting.order_no == ORDER and "r-1" in waiting.message
    refunds.approve_refund(uow=uow, request_id="r-1", approved_by=Actor.agent("lee"))
    assert [a for a in open_alerts(uow=uow) if a.kind == "refund_needs_approval"] == []
