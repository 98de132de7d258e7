"""Queries the services share. Repositories never commit."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from fulfilment.errors import NotFound
from fulfilment.models import (
    CardKey,
    Delivery,
    DeliveryStatus,
    KeyStatus,
    Order,
    Product,
    Supplier,
)

T = TypeVar("T")


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _one(session: Session, model: type[T], condition: Any, lock: bool, missing: str) -> T:
    stmt = select(model).where(condition)
    if lock:
        # Row lock on PostgreSQL; SQLite transactions are already write-serialised.
        stmt = stmt.with_for_update()
    row = session.scalars(stmt).one_or_none()
    if row is None:
        raise NotFound(missing)
    return row


def product_by_sku(session: Session, sku: str, *, lock: bool = False) -> Product:
    return _one(session, Product, Product.sku == sku, lock, f"no product with sku {sku!r}")


def order_by_no(session: Session, order_no: str, *, lock: bool = False) -> Order:
    return _one(session, Order, Order.order_no == order_no, lock, f"no order {order_no!r}")


def order_by_id(session: Session, order_id: int, *, lock: bool = False) -> Order:
    return _one(session, Order, Order.id == order_id, lock, f"no order id {order_id}")


def supplier_by_code(session: Session, code: str) -> Supplier:
    return _one(session, Supplier, Supplier.code == code, False, f"no supplier {code!r}")


def serialise(session: Session, *keys: str) -> None:
    """Hold transaction-scoped locks on names (PostgreSQL advisory locks, taken in sorted order
    so two holders never wait on each other); SQLite transactions are serialised already."""
    if not is_postgres(session):
        return
    for key in sorted(set(keys)):
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})


def take_available_keys(session: Session, product_id: int, count: int) -> list[CardKey]:
    """Lock up to `count` available keys that no other transaction holds."""
    stmt = (
        select(CardKey)
        .where(CardKey.product_id == product_id, CardKey.status == KeyStatus.AVAILABLE)
        .order_by(CardKey.id)
        .limit(count)
    )
    if is_postgres(session):
        # Concurrent workers each get different keys instead of queueing on the same rows.
        stmt = stmt.with_for_update(skip_locked=True)
    return list(session.scalars(stmt))


def available_stock(session: Session, product_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(CardKey)
            .where(CardKey.product_id == product_id, CardKey.status == KeyStatus.AVAILABLE)
        )
        or 0
    )


def active_deliveries(session: Session, order_id: int) -> list[Delivery]:
    return list(
        session.scalars(
            select(Delivery)
            .where(Delivery.order_id == order_id, Delivery.status == DeliveryStatus.ACTIVE)
            .order_by(Delivery.unit_no)
        )
    )
