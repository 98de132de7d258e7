"""Asking a key's supplier whether a delivered key is bad (shared by reissue and refund)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from fulfilment.models import CardKey, ProductSupplier, Supplier
from fulfilment.ports import KeyCheckResult, KeyCheckStatus
from fulfilment.uow import UnitOfWork


@dataclass(frozen=True)
class KeyToCheck:
    key_id: int
    supplier_code: str | None
    product_code: str
    supports_check: bool
    delivered_at: datetime | None


def describe_key(uow: UnitOfWork, key: CardKey) -> KeyToCheck:
    """What is needed to check `key` with its supplier (inside an open unit of work)."""
    supplier = uow.session.get(Supplier, key.supplier_id) if key.supplier_id else None
    code = None
    if supplier is not None:
        code = uow.session.scalars(
            select(ProductSupplier.supplier_product_code).where(
                ProductSupplier.product_id == key.product_id,
                ProductSupplier.supplier_id == supplier.id,
            )
        ).first()
    return KeyToCheck(
        key_id=key.id,
        supplier_code=supplier.code if supplier else None,
        product_code=code or "",
        supports_check=bool(supplier and supplier.supports_key_check),
        delivered_at=key.delivered_at,
    )


def check_key(uow: UnitOfWork, target: KeyToCheck) -> KeyCheckResult:
    """Call the supplier (outside any transaction); never raises for the supplier's answer."""
    if not target.supports_check or target.supplier_code is None:
        return KeyCheckResult(KeyCheckStatus.UNSUPPORTED, message="supplier cannot check keys")
    with uow:
        key = uow.session.get(CardKey, target.key_id)
        assert key is not None
        secret = uow.vault.decrypt(key.secret_encrypted)
    client = uow.suppliers.get(target.supplier_code)
    return client.check_key(product_code=target.product_code, key=secret)


def is_bad_on_delivery(result: KeyCheckResult, delivered_at: datetime | None) -> bool | None:
    """True: the key was bad when we handed it out; False: it was fine; None: can't tell."""
    if result.status == KeyCheckStatus.INVALID:
        return True
    if result.status == KeyCheckStatus.UNUSED:
        return False
    if result.status == KeyCheckStatus.USED and result.used_at and delivered_at:
        return result.used_at < delivered_at
    return None
