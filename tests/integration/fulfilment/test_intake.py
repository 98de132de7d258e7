from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from fulfilment.actors import Actor
from fulfilment.errors import AmountMismatch, Conflict, InvalidRequest, NotFound, OwnershipLocked
from fulfilment.models import AuditEntry, Order, Payment
from fulfilment.ports import PaymentQuery, PaymentStatus
from fulfilment.services import orders
from fulfilment.services.orders import OrderInput, confirm_payment, handle_payment_callback
from fulfilment.services.ownership import Proof, verify_owner
from tests.factories import card_product, paid_order

ORDER = "20261122000000000017"


@pytest.fixture
def shop(uow, suppliers):
    suppliers.add("sup-a")
    card_product(uow, keys=3)


def _count(uow, model):
    with uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def test_intake_is_idempotent_on_the_order_number(uow, shop):
    first = paid_order(uow, ORDER)
    again = paid_order(uow, ORDER)
    assert (first.created, again.created) == (True, False)
    assert _count(uow, Order) == 1 and _count(uow, Payment) == 1


def test_same_order_number_with_other_contents_is_a_conflict(uow, shop):
    paid_order(uow, ORDER)
    with pytest.raises(Conflict):
        paid_order(uow, ORDER, quantity=2)


def test_an_amount_mismatch_is_rejected_recorded_and_changes_nothing(uow, shop):
    data = OrderInput(
        order_no=ORDER,
        sku="STEAM-50",
        quantity=1,
        amount=Decimal("5.00"),
        currency="CNY",
        buyer_email="a@example.com",
    )
    with pytest.raises(AmountMismatch):
        orders.ingest_order(uow=uow, data=data, paid=True, actor=Actor.shop())
    wrong_currency = OrderInput(**{**data.__dict__, "amount": Decimal("50.00"), "currency": "USD"})
    with pytest.raises(AmountMismatch):
        orders.ingest_order(uow=uow, data=wrong_currency, paid=True, actor=Actor.shop())
    assert _count(uow, Order) == 0
    with uow:
        rejected = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "order.rejected")
        ).all()
    assert len(rejected) == 2


@pytest.mark.parametrize(
    "change",
    [
        {"order_no": "x"},
        {"quantity": 0},
        {"quantity": 101},
        {"amount": Decimal("-1")},
        {"amount": Decimal("50.001")},
        {"currency": "yuan"},
        {"buyer_email": None},
        {"buyer_email": None, "buyer_phone": "+ - -"},
    ],
)
def test_malformed_orders_are_refused_before_anything_is_written(uow, shop, change):
    base = dict(
        order_no=ORDER,
        sku="STEAM-50",
        quantity=1,
        amount=Decimal("50.00"),
        currency="CNY",
        buyer_email="a@example.com",
    )
    with pytest.raises(InvalidRequest):
        orders.ingest_order(
            uow=uow, data=OrderInput(**{**base, **change}), paid=True, actor=Actor.shop()
        )
    assert _count(uow, Order) == 0


def test_an_unknown_product_is_not_found(uow, shop):
    with pytest.raises(NotFound):
        paid_order(uow, ORDER, sku="NOPE")


def test_duplicate_payment_callbacks_mark_paid_once(uow, shop):
    paid_order(uow, ORDER, paid=False)
    params = {
        "order_no": ORDER,
        "txn_id": "PAY-1",
        "amount": "5000",
        "currency": "CNY",
        "status": "paid",
        "sign": "good",
    }
    assert (
        handle_payment_callback(
            uow=uow, params=params, actor=Actor.system("payment-callback")
        ).status
        == "paid"
    )
    assert (
        handle_payment_callback(
            uow=uow, params=params, actor=Actor.system("payment-callback")
        ).status
        == "already_paid"
    )
    assert _count(uow, Payment) == 1


def test_a_callback_for_the_wrong_amount_does_not_mark_paid(uow, shop):
    paid_order(uow, ORDER, paid=False)
    params = {
        "order_no": ORDER,
        "txn_id": "PAY-1",
        "amount": "100",
        "currency": "CNY",
        "status": "paid",
        "sign": "good",
    }
    with pytest.raises(AmountMismatch):
        handle_payment_callback(uow=uow, params=params, actor=Actor.system("payment-callback"))
    assert _count(uow, Payment) == 0


def test_manual_confirmation_asks_the_provider_and_is_safe_to_repeat(uow, shop, payments):
    paid_order(uow, ORDER, paid=False)
    assert (
        confirm_payment(uow=uow, order_no=ORDER, actor=Actor.agent("staff")).status == "not_paid"
    )
    payments.paid[ORDER] = PaymentQuery(PaymentStatus.PAID, "PAY-9", 50_00, "CNY")
    assert confirm_payment(uow=uow, order_no=ORDER, actor=Actor.agent("staff")).status == "paid"
    assert (
        confirm_payment(uow=uow, order_no=ORDER, actor=Actor.agent("staff")).status
        == "already_paid"
    )
    assert _count(uow, Payment) == 1


def test_ownership_needs_a_matching_contact_and_guessing_is_limited(uow, shop):
    paid_order(uow, ORDER, email="Buyer@Example.com")
    assert verify_owner(
        uow=uow,
        order_no=ORDER,
        claimant=Actor.customer("tg:9"),
        proof=Proof(email="buyer@example.com"),
    )
    for guess in range(5):
        assert not verify_owner(
            uow=uow,
            order_no=f"2026112200000000{guess:04d}",
            claimant=Actor.customer("tg:666"),
            proof=Proof(email="x@example.com"),
        )
    with pytest.raises(OwnershipLocked):
        verify_owner(
            uow=uow,
            order_no=ORDER,
            claimant=Actor.customer("tg:666"),
            proof=Proof(email="buyer@example.com"),
        )


def test_the_audit_log_is_append_only(uow, shop):
    paid_order(uow, ORDER)
    with uow, pytest.raises(DBAPIError):
        uow.session.execute(text("UPDATE audit_log SET actor = 'mallory'"))
    with uow, pytest.raises(DBAPIError):
        uow.session.execute(text("DELETE FROM audit_log"))
