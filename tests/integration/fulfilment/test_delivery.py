from __future__ import annotations

from sqlalchemy import func, select

from fulfilment.actors import Actor
from fulfilment.models import Alert, CardKey, KeyStatus, Product
from fulfilment.services import catalog
from fulfilment.services.delivery import deliver_order
from fulfilment.services.queries import get_order
from fulfilment.services.recovery import run_due_work
from tests.factories import card_product, paid_order


def test_a_paid_order_gets_one_key_per_unit(uow):
    card_product(uow, keys=5)
    paid_order(uow, "KM0000000001", quantity=2)
    outcome = deliver_order(uow=uow, order_no="KM0000000001", actor=Actor.system("test"))
    assert outcome.status == "delivered"
    assert outcome.delivered_units == 2
    view = get_order(uow=uow, order_no="KM0000000001")
    assert view.status == "delivered"
    hints = [d.key_hint for d in view.deliveries]
    assert hints == ["****ABCD", "****ABCD"]  # masked: only the last four characters show
    with uow:
        owners = uow.session.scalars(
            select(CardKey.order_id).where(CardKey.status == KeyStatus.DELIVERED)
        ).all()
    assert len(owners) == 2


def test_delivering_twice_hands_out_no_second_key(uow):
    card_product(uow, keys=3)
    paid_order(uow, "KM0000000002")
    deliver_order(uow=uow, order_no="KM0000000002", actor=Actor.system("test"))
    again = deliver_order(uow=uow, order_no="KM0000000002", actor=Actor.system("test"))
    assert again.status == "delivered"
    with uow:
        used = uow.session.scalar(
            select(func.count()).select_from(CardKey).where(CardKey.status == KeyStatus.DELIVERED)
        )
    assert used == 1


def test_an_unpaid_order_is_not_delivered(uow):
    card_product(uow, keys=3)
    paid_order(uow, "KM0000000003", paid=False)
    assert (
        deliver_order(uow=uow, order_no="KM0000000003", actor=Actor.system("test")).status
        == "not_deliverable"
    )


def test_out_of_stock_order_waits_and_is_delivered_after_import(uow):
    card_product(uow, keys=1)
    paid_order(uow, "KM0000000004", quantity=3)
    first = deliver_order(uow=uow, order_no="KM0000000004", actor=Actor.system("test"))
    assert (first.status, first.delivered_units) == ("waiting_stock", 1)
    catalog.import_keys(
        uow=uow, sku="STEAM-50", keys=["NEW-1", "NEW-2"], actor=Actor.system("test")
    )
    run_due_work(uow=uow, actor=Actor.system("sweeper"))
    assert get_order(uow=uow, order_no="KM0000000004").status == "delivered"


def test_stock_under_the_safety_threshold_pauses_the_product_with_an_alert(uow):
    card_product(uow, keys=3, safety_stock=3)
    paid_order(uow, "KM0000000005")
    deliver_order(uow=uow, order_no="KM0000000005", actor=Actor.system("test"))
    with uow:
        product = uow.session.scalars(select(Product)).one()
        alerts = uow.session.scalars(select(Alert.kind)).all()
    assert product.status == "paused"
    assert "low_stock" in alerts
    result = catalog.import_keys(
        uow=uow, sku="STEAM-50", keys=["X1", "X2"], actor=Actor.system("test")
    )
    assert result.resumed
