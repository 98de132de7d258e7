"""Builders for the common shop set-up used across tests."""

from __future__ import annotations

from decimal import Decimal

from fulfilment.actors import Actor
from fulfilment.services import catalog, orders
from fulfilment.services.catalog import SupplierLink
from fulfilment.services.orders import OrderInput
from fulfilment.uow import UnitOfWork


def card_product(
    uow: UnitOfWork,
    *,
    sku: str = "STEAM-50",
    keys: int = 5,
    safety_stock: int = 0,
    supplier: str | None = "sup-a",
) -> list[str]:
    """A card-key product priced 50.00 CNY with `keys` keys in stock; returns the keys."""
    catalog.create_product(
        uow=uow,
        sku=sku,
        name="Steam 50",
        kind="card_key",
        face_value=Decimal("50"),
        price=Decimal("50.00"),
        currency="CNY",
        safety_stock=safety_stock,
        actor=Actor.system("test"),
    )
    if supplier:
        catalog.add_supplier(uow=uow, code=supplier, name=supplier, actor=Actor.system("test"))
        catalog.link_supplier(
            uow=uow, sku=sku, link=SupplierLink(supplier, 1), actor=Actor.system("test")
        )
    secrets = [f"{sku}-KEY-{i:04d}-ABCD" for i in range(keys)]
    if secrets:
        catalog.import_keys(
            uow=uow, sku=sku, keys=secrets, supplier_code=supplier, actor=Actor.system("test")
        )
    return secrets


def topup_product(
    uow: UnitOfWork, *, sku: str = "CM-100", suppliers: tuple[str, ...] = ("sup-a", "sup-b")
) -> None:
    """A 100 CNY phone top-up sold at 98.50, fulfilled by `suppliers` in that order."""
    catalog.create_product(
        uow=uow,
        sku=sku,
        name="China Mobile 100",
        kind="direct_topup",
        face_value=Decimal("100"),
        price=Decimal("98.50"),
        currency="CNY",
        actor=Actor.system("test"),
    )
    for priority, code in enumerate(suppliers, start=1):
        catalog.add_supplier(uow=uow, code=code, name=code, actor=Actor.system("test"))
        catalog.link_supplier(
            uow=uow,
            sku=sku,
            link=SupplierLink(code, priority, f"{code}-{sku}"),
            actor=Actor.system("test"),
        )


def paid_order(
    uow: UnitOfWork,
    order_no: str,
    *,
    sku: str = "STEAM-50",
    quantity: int = 1,
    price: str = "50.00",
    account: str | None = None,
    email: str = "a@example.com",
    paid: bool = True,
) -> orders.IntakeOutcome:
    """Ingest an order; paid by default."""
    data = OrderInput(
        order_no=order_no,
        sku=sku,
        quantity=quantity,
        amount=Decimal(price) * quantity,
        currency="CNY",
        buyer_email=email,
        recharge_account=account,
    )
    return orders.ingest_order(
        uow=uow,
        data=data,
        paid=paid,
        actor=Actor.system("test"),
        txn_id=f"T-{order_no}" if paid else None,
    )
