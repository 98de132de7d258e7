"""The card-key inventory: importing keys (encrypted, duplicates refused), restocking a product
paused for low stock, pausing one that fell under its safety stock, waking orders that wait.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select, update

from fulfilment import repository as repo
from fulfilment.actors import Actor
from fulfilment.errors import InvalidRequest
from fulfilment.events import KeysImported, ProductPaused, ProductResumed
from fulfilment.keyvault import mask
from fulfilment.models import CardKey, Order, OrderStatus, Product, ProductKind, ProductStatus
from fulfilment.uow import UnitOfWork

MAX_KEY_LENGTH = 512
MAX_BATCH_LENGTH = 64  # the card_keys.batch column
LOW_STOCK = "low_stock"  # the pause reason


@dataclass(frozen=True)
class ImportResult:
    imported: int
    duplicates: int
    rejected: int
    stock: int
    resumed: bool  # the product was paused for low stock and is active again


def import_keys(
    *,
    uow: UnitOfWork,
    sku: str,
    keys: Iterable[str],
    actor: Actor,
    supplier_code: str | None = None,
    batch: str | None = None,
) -> ImportResult:
    """Add card keys to stock: encrypted, duplicates (in the batch or the store) rejected."""
    if batch is not None and len(batch) > MAX_BATCH_LENGTH:
        raise InvalidRequest(f"batch label must be at most {MAX_BATCH_LENGTH} characters")
    with uow:
        product = repo.product_by_sku(uow.session, sku, lock=True)
        if product.kind != ProductKind.CARD_KEY:
            raise InvalidRequest(f"{sku} is a {product.kind} product; it holds no keys")
        supplier_id = (
            repo.supplier_by_code(uow.session, supplier_code).id if supplier_code else None
        )
        fresh, duplicates, rejected = _fresh_keys(uow, keys)
        for secret, digest in fresh.items():
            uow.session.add(
                CardKey(
                    product_id=product.id,
                    supplier_id=supplier_id,
                    batch=batch,
                    secret_encrypted=uow.vault.encrypt(secret),
                    secret_hash=digest,
                    hint=mask(secret),
                )
            )
        uow.session.flush()
        stock = repo.available_stock(uow.session, product.id)
        resumed = _resume_if_restocked(uow, product, stock, actor)
        imported = KeysImported(
            sku=sku,
            imported=len(fresh),
            duplicates=duplicates,
            rejected=rejected,
            stock=stock,
            batch=batch,
        )
        # A subscriber wakes the orders waiting for these keys, after the product lock is
        # released (a delivery holds its order, then reads the product: no deadlock).
        uow.record(imported, actor=actor)
        uow.commit()
    return ImportResult(len(fresh), duplicates, rejected, stock, resumed)


def _fresh_keys(uow: UnitOfWork, keys: Iterable[str]) -> tuple[dict[str, str], int, int]:
    fresh: dict[str, str] = {}  # secret -> hash, in input order
    seen: set[str] = set()
    duplicates = rejected = 0
    for raw in keys:
        secret = raw.strip()
        if not secret or len(secret) > MAX_KEY_LENGTH or not secret.isprintable():
            rejected += 1
            continue
        digest = uow.vault.fingerprint(secret)
        if digest in seen:
            duplicates += 1
            continue
        seen.add(digest)
        fresh[secret] = digest
    stored: set[str] = set()
    hashes = list(fresh.values())
    for i in range(0, len(hashes), 500):
        chunk = hashes[i : i + 500]
        stored.update(
            uow.session.scalars(select(CardKey.secret_hash).where(CardKey.secret_hash.in_(chunk)))
        )
    if stored:
        duplicates += len(stored)
        fresh = {s: h for s, h in fresh.items() if h not in stored}
    return fresh, duplicates, rejected


def _resume_if_restocked(uow: UnitOfWork, product: Product, stock: int, actor: Actor) -> bool:
    if product.status != ProductStatus.PAUSED or product.pause_reason != LOW_STOCK:
        return False
    if stock < product.safety_stock:
        return False
    # Resumed in the import's transaction: `ImportResult.resumed` reports it. The low-stock
    # alert is resolved by a subscriber of the event.
    product.status, product.pause_reason = ProductStatus.ACTIVE, None
    uow.record(ProductResumed(sku=product.sku, stock=stock), actor=actor)
    return True


def wake_orders_waiting_for(*, uow: UnitOfWork, sku: str) -> int:
    """Orders waiting for stock of `sku` are due now (keys arrived); returns how many."""
    with uow:
        product = repo.product_by_sku(uow.session, sku)
        woken = uow.session.execute(
            update(Order)
            .where(Order.product_id == product.id, Order.status == OrderStatus.DELIVERING)
            .values(next_attempt_at=uow.clock())
        )
        uow.commit()
        return int(getattr(woken, "rowcount", 0) or 0)


def pause_for_low_stock(*, uow: UnitOfWork, sku: str, actor: Actor) -> bool:
    """Pause a product whose stock is under its safety threshold (once); True if paused now."""
    with uow:
        # The product's row lock first: concurrent deliveries that all saw the stock fall
        # would otherwise each pause the product.
        product = repo.product_by_sku(uow.session, sku, lock=True)
        if product.status != ProductStatus.ACTIVE or product.safety_stock <= 0:
            return False
        stock = repo.available_stock(uow.session, product.id)
        if stock >= product.safety_stock:
            return False
        product.status, product.pause_reason = ProductStatus.PAUSED, LOW_STOCK
        paused = ProductPaused(sku=sku, stock=stock, safety_stock=product.safety_stock)
        uow.record(paused, actor=actor)
        uow.commit()
        return True
