"""Asking a key's supplier whether a delivered key is bad (shared by reissue and refund).

A redemption time is compared with the delivery time only outside an ambiguity window
(`Policy.key_redemption_ambiguity_seconds`): suppliers report whole seconds, our times are
finer, and the two clocks drift, so a key redeemed "in the same second" as its delivery may
have been redeemed by the customer a moment after it. Inside the window nothing is automatic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

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


def is_bad_on_delivery(
    result: KeyCheckResult, delivered_at: datetime | None, ambiguity: timedelta = timedelta(0)
) -> bool | None:
    """True: the key was bad when we handed it out; False: it was fine; None: can't tell
    (including a redemption within `ambiguity` of the delivery)."""
    if result.status == KeyCheckStatus.INVALID:
        return True
    if result.status == KeyCheckStatus.UNUSED:
        return False
    if result.status == KeyCheckStatus.USED and result.used_at and delivered_at:
        if redeemed_near_delivery(result, delivered_at, ambiguity):
            return None
        return result.used_at < delivered_at
    return None


def redeemed_near_delivery(
    result: KeyCheckResult, delivered_at: datetime | None, ambiguity: timedelta
) -> bool:
    """The supplier says the key was redeemed within `ambiguity` of its delivery."""
    if result.status != KeyCheckStatus.USED or result.used_at is None or delivered_at is None:
        return False
    return abs(result.used_at - delivered_at) <= ambiguity


def ambiguity(uow: UnitOfWork) -> timedelta:
    """The policy's window around a delivery in which a redemption time proves nothing."""
    return timedelta(seconds=uow.policy.key_redemption_ambiguity_seconds)
