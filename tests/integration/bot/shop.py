"""A small shop for conversation tests: one card-key product, one top-up product, orders in
the after-sales situations the bot handles; and database checks (what was revealed, reissued,
refunded, handed off)."""

from __future__ import annotations

from sqlalchemy import func, select

from fulfilment.actors import Actor
from fulfilment.models import (
    AuditEntry,
    CardKey,
    Delivery,
    Order,
    Refund,
    ReissueRequest,
)
from fulfilment.ports import KeyCheckResult, KeyCheckStatus
from fulfilment.services.delivery import deliver_order
from fulfilment.services.ownership import Proof, reveal_keys
from fulfilment.uow import UnitOfWork
from tests.factories import card_product, paid_order, topup_product

KEY_ORDER = "KM2026112200001"
TOPUP_ORDER = "DJ2026112200000004"
EMAIL = "buyer@example.com"


def key_shop(uow: UnitOfWork, suppliers, *, keys: int = 4, order: str = KEY_ORDER):  # type: ignore[no-untyped-def]
    """A delivered Steam key order bought with EMAIL; returns (supplier, all keys)."""
    supplier = suppliers.add("sup-a")
    stock = card_product(uow, keys=keys)
    paid_order(uow, order, email=EMAIL)
    deliver_order(uow=uow, order_no=order, actor=Actor.system("test"))
    return supplier, stock


def topup_shop(uow: UnitOfWork, suppliers, *, order: str = TOPUP_ORDER):  # type: ignore[no-untyped-def]
    a, b = suppliers.add("sup-a"), suppliers.add("sup-b")
    topup_product(uow)
    paid_order(uow, order, sku="CM-100", price="98.50", account="13800138000", email=EMAIL)
    return a, b


def delivered_key(uow: UnitOfWork, order: str = KEY_ORDER) -> str:
    revealed = reveal_keys(
        uow=uow, order_no=order, claimant=Actor.system("test-check"), proof=Proof(email=EMAIL)
    )
    assert revealed
    return revealed[0].key


def mark_key(supplier, key: str, status: KeyCheckStatus, **kw) -> None:  # type: ignore[no-untyped-def]
    supplier.key_states[key] = KeyCheckResult(status, **kw)


def count(uow: UnitOfWork, stmt) -> int:  # type: ignore[no-untyped-def]
    with uow:
        return int(uow.session.scalar(stmt) or 0)


def reissues(uow: UnitOfWork, status: str | None = None) -> int:
    q = select(func.count()).select_from(ReissueRequest)
    if status:
        q = q.where(ReissueRequest.status == status)
    return count(uow, q)


def refunds(uow: UnitOfWork, status: str | None = None) -> int:
    q = select(func.count()).select_from(Refund)
    if status:
        q = q.where(Refund.status == status)
    return count(uow, q)


def revealed_to(uow: UnitOfWork, claimant_prefix: str) -> int:
    """How many times keys were revealed to claimants starting with the prefix."""
    return count(
        uow,
        select(func.count())
        .select_from(AuditEntry)
        .where(
            AuditEntry.action == "keys.revealed",
            AuditEntry.actor.like(f"customer:{claimant_prefix}%"),
        ),
    )


def active_keys(uow: UnitOfWork, order: str = KEY_ORDER) -> int:
    return count(
        uow,
        select(func.count())
        .select_from(Delivery)
        .join(Order, Order.id == Delivery.order_id)
        .where(Order.order_no == order, Delivery.status == "active"),
    )


def order_status(uow: UnitOfWork, order: str) -> str:
    with uow:
        return str(uow.session.scalar(select(Order.status).where(Order.order_no == order)))


def key_status(uow: UnitOfWork, key_hint_suffix: str) -> list[str]:
    with uow:
        return list(
            uow.session.scalars(
                select(CardKey.status).where(CardKey.hint.like(f"%{key_hint_suffix}"))
            )
        )
