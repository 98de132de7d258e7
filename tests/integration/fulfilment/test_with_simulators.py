"""The fulfilment core against the real supplier simulator and payment sandbox over HTTP."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fulfilment.actors import Actor
from fulfilment.models import AuditEntry
from fulfilment.ports import SignatureError
from fulfilment.services import catalog
from fulfilment.services.delivery import deliver_order
from fulfilment.services.ownership import Proof, reveal_keys
from fulfilment.services.queries import get_order
from fulfilment.services.recovery import run_due_work
from fulfilment.services.refunds import request_refund
from fulfilment.services.reissue import reissue_key
from fulfilment.services.topup import handle_supplier_callback
from fulfilment.suppliers.directory import StaticSupplierDirectory
from tests.containers import make_container
from tests.factories import card_product, paid_order, topup_product

ORDER = "DJ2026112200000042"
ACCOUNT = "13800138000"


@pytest.fixture
def real_uow(parts, supplier_sim, payment_sandbox, callback_sink):
    notify = callback_sink.url("supplier")
    directory = StaticSupplierDirectory(
        [
            supplier_sim.client("sup-a", notify_url=notify, timeout=0.5),
            supplier_sim.client("sup-b", notify_url=notify, timeout=0.5),
        ]
    )
    real = {**parts, "suppliers": directory, "payments": payment_sandbox.provider(timeout=2.0)}
    box = make_container(**real)
    yield box.uow()
    box.close()


def _paid_through_sandbox(uow, payment_sandbox, callback_sink, order_no, price):
    created = uow.payments.create_payment(
        order_no=order_no,
        amount_cents=int(price * 100),
        currency="CNY",
        notify_url=callback_sink.url("pay"),
    )
    assert created.ok, created.message
    payment_sandbox.admin.pay(order_no)
    return created.txn_id


def test_a_submit_that_times_out_after_creating_the_order_tops_up_exactly_once(
    real_uow, supplier_sim
):
    topup_product(real_uow, suppliers=("sup-a", "sup-b"))
    supplier_sim.admin.add_fault(
        "sup-a", "timeout", operation="submit", seconds=1.5, create_order=True, times=1
    )
    paid_order(real_uow, ORDER, sku="CM-100", price="98.50", account=ACCOUNT)
    deliver_order(uow=real_uow, order_no=ORDER, actor=Actor.system("test"))
    run_due_work(uow=real_uow, actor=Actor.system("sweeper"))
    assert get_order(uow=real_uow, order_no=ORDER).status == "delivered"
    with real_uow:
        answers = real_uow.session.scalars(
            select(AuditEntry.after)
            .where(AuditEntry.action.like("topup.%_answer"))
            .order_by(AuditEntry.id)
        ).all()
    assert [a["answer"] for a in answers][:2] == ["unknown", "success"]  # timeout, then query
    assert supplier_sim.admin.topup_count(ACCOUNT) == 1
    assert supplier_sim.admin.submit_count(ACCOUNT) == 1  # queried, never re-submitted


def test_a_refusing_supplier_fails_over_and_the_customer_is_topped_up_once(real_uow, supplier_sim):
    topup_product(real_uow, suppliers=("sup-a", "sup-b"))
    supplier_sim.admin.add_fault(
        "sup-a", "outcome", outcome="reject", operation="submit", account=ACCOUNT
    )
    paid_order(real_uow, ORDER, sku="CM-100", price="98.50", account=ACCOUNT)
    assert (
        deliver_order(uow=real_uow, order_no=ORDER, actor=Actor.system("test")).status
        == "delivered"
    )
    assert supplier_sim.admin.topup_count(ACCOUNT) == 1
    assert get_order(uow=real_uow, order_no=ORDER).deliveries[0].supplier_ref.startswith("SUP-B")


def test_all_suppliers_failing_makes_the_order_refundable_through_the_sandbox(
    real_uow, supplier_sim, payment_sandbox, callback_sink
):
    topup_product(real_uow, suppliers=("sup-a", "sup-b"))
    for code in ("sup-a", "sup-b"):
        supplier_sim.admin.add_fault(code, "outcome", outcome="reject", operation="submit")
    from decimal import Decimal

    from fulfilment.services.orders import OrderInput, ingest_order

    txn = _paid_through_sandbox(real_uow, payment_sandbox, callback_sink, ORDER, Decimal("98.50"))
    ingest_order(
        uow=real_uow,
        data=OrderInput(
            order_no=ORDER,
            sku="CM-100",
            quantity=1,
            amount=Decimal("98.50"),
            currency="CNY",
            buyer_email="a@example.com",
            recharge_account=ACCOUNT,
        ),
        paid=True,
        actor=Actor.system("test"),
        txn_id=txn,
    )
    assert (
        deliver_order(uow=real_uow, order_no=ORDER, actor=Actor.system("test")).status == "failed"
    )
    result = request_refund(
        uow=real_uow,
        order_no=ORDER,
        request_id="rf-1",
        reason="failed",
        requested_by=Actor.system("bot"),
    )
    again = request_refund(
        uow=real_uow,
        order_no=ORDER,
        request_id="rf-1",
        reason="failed",
        requested_by=Actor.system("bot"),
    )
    assert result.status == again.status == "succeeded"
    refunds = payment_sandbox.admin.refunds()
    assert [(r["refund_ref"], r["amount_cents"], r["status"]) for r in refunds] == [
        ("rf-1", 9850, "succeeded")
    ]


def test_a_key_the_supplier_invalidated_is_reissued_after_a_real_check(real_uow, supplier_sim):
    keys = supplier_sim.admin.mint_keys("sup-a", "STEAM-50", 3)
    card_product(real_uow, keys=0, supplier="sup-a")
    catalog.import_keys(
        uow=real_uow, sku="STEAM-50", keys=keys, supplier_code="sup-a", actor=Actor.system("test")
    )
    paid_order(real_uow, "KM2026112200042")
    deliver_order(uow=real_uow, order_no="KM2026112200042", actor=Actor.system("test"))
    proof = Proof(email="a@example.com")
    (old,) = reveal_keys(
        uow=real_uow, order_no="KM2026112200042", claimant=Actor.customer("c"), proof=proof
    )
    fine = reissue_key(
        uow=real_uow,
        order_no="KM2026112200042",
        request_id="r-0",
        reason="x",
        requested_by=Actor.system("bot"),
    )
    assert (fine.status, fine.code) == ("rejected", "key_valid")
    supplier_sim.admin.invalidate_key("sup-a", old.key)
    outcome = reissue_key(
        uow=real_uow,
        order_no="KM2026112200042",
        request_id="r-1",
        reason="x",
        requested_by=Actor.system("bot"),
    )
    assert (outcome.status, outcome.code) == ("reissued", "key_bad")
    (new,) = reveal_keys(
        uow=real_uow, order_no="KM2026112200042", claimant=Actor.customer("c"), proof=proof
    )
    assert new.key != old.key and new.key in keys


def test_signed_supplier_callbacks_are_verified(real_uow, supplier_sim, callback_sink):
    topup_product(real_uow, suppliers=("sup-a",))
    paid_order(real_uow, ORDER, sku="CM-100", price="98.50", account=ACCOUNT)
    deliver_order(uow=real_uow, order_no=ORDER, actor=Actor.system("test"))
    supplier_sim.admin.wait_callbacks()
    (params,) = [c for c in callback_sink.received("supplier")][:1]
    outcome = handle_supplier_callback(
        uow=real_uow, supplier_code="sup-a", params=params, actor=Actor.system("supplier:sup-a")
    )
    assert outcome.status == "delivered"
    with pytest.raises(SignatureError):
        handle_supplier_callback(
            uow=real_uow,
            supplier_code="sup-a",
            params={**params, "status": "failed"},
            actor=Actor.system("supplier:sup-a"),
        )


def test_no_card_key_reaches_the_logs(real_uow, supplier_sim, caplog):
    caplog.set_level("DEBUG")
    keys = supplier_sim.admin.mint_keys("sup-a", "STEAM-50", 3)
    card_product(real_uow, keys=0, supplier="sup-a")
    catalog.import_keys(
        uow=real_uow, sku="STEAM-50", keys=keys, supplier_code="sup-a", actor=Actor.system("test")
    )
    paid_order(real_uow, "KM2026112200043")
    deliver_order(uow=real_uow, order_no="KM2026112200043", actor=Actor.system("test"))
    supplier_sim.admin.redeem_key("sup-a", keys[0])
    reissue_key(
        uow=real_uow,
        order_no="KM2026112200043",
        request_id="r-1",
        reason="x",
        requested_by=Actor.system("bot"),
    )
    request_refund(
        uow=real_uow,
        order_no="KM2026112200043",
        request_id="f-1",
        reason="x",
        requested_by=Actor.system("bot"),
    )
    assert caplog.records  # the adapters did log their calls
    for key in keys:
        assert key not in caplog.text
        assert key[:-4] not in caplog.text
