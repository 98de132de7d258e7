"""The card-key inventory: importing keys, restocking a product paused for low stock, pausing
one that fell under its safety stock, waking orders that wait.

Key imports: at most `MAX_KEYS_PER_IMPORT` keys per call (`TooLarge` beyond: callers with more,
like `kamidesk keys import`, send batches). A key already in stock of the same product is a
duplicate, counted and skipped, so importing a file twice is harmless; a key that belongs to
another product is a `Conflict` (code `duplicate_keys`) naming the keys masked, and nothing of
the batch is imported, also when the two imports run at the same time. Whether two keys that
differ only in case are the same is a product setting (`keys_case_sensitive`, default exact).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from fulfilment import repository as repo
from fulfilment.actors import Actor
from fulfilment.errors import Conflict, InvalidRequest, TooLarge
from fulfilment.events import KeysImported, ProductPaused, ProductResumed
from fulfilment.keyvault import mask
from fulfilment.models import CardKey, Order, OrderStatus, Product, ProductKind, ProductStatus
from fulfilment.uow import UnitOfWork

MAX_KEY_LENGTH = 512
MAX_BATCH_LENGTH = 64  # the card_keys.batch column
MAX_KEYS_PER_IMPORT = 10_000  # about 2 s of work: one import stays one short transaction
SHOWN_DUPLICATES = 20
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
    """Add card keys to stock: encrypted, duplicates skipped, keys of other products refused."""
    if batch is not None and len(batch) > MAX_BATCH_LENGTH:
        raise InvalidRequest(f"batch label must be at most {MAX_BATCH_LENGTH} characters")
    keys = list(islice(keys, MAX_KEYS_PER_IMPORT + 1))
    if len(keys) > MAX_KEYS_PER_IMPORT:
        raise TooLarge(
            f"at most {MAX_KEYS_PER_IMPORT} keys per import; send the rest in further "
            "imports (`kamidesk keys import` splits a file by itself)",
            code="too_many_keys",
        )
    try:
        return _import(uow, sku, keys, actor, supplier_code, batch)
    except IntegrityError:
        # A concurrent import committed some of these keys between our check and our insert
        # (PostgreSQL; SQLite serialises imports). Ours rolled back: name what collided.
        raise _keys_taken(uow, sku, keys) from None


def _import(
    uow: UnitOfWork,
    sku: str,
    keys: list[str],
    actor: Actor,
    supplier_code: str | None,
    batch: str | None,
) -> ImportResult:
    with uow:
        product = repo.product_by_sku(uow.session, sku, lock=True)
        if product.kind != ProductKind.CARD_KEY:
            raise InvalidRequest(f"{sku} is a {product.kind} product; it holds no keys")
        supplier_id = (
            repo.supplier_by_code(uow.session, supplier_code).id if supplier_code else None
        )
        fresh, duplicates, rejected, taken = _fresh_keys(uow, keys, product)
        if taken:
            raise _duplicates_conflict(taken)
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


def _fresh_keys(
    uow: UnitOfWork, keys: Iterable[str], product: Product
) -> tuple[dict[str, str], int, int, dict[str, str]]:
    """(new keys: secret -> hash, duplicates, rejected, keys of other products: secret -> sku)."""
    fresh: dict[str, str] = {}  # secret -> hash, in input order
    seen: set[str] = set()
    duplicates = rejected = 0
    for raw in keys:
        secret = raw.strip()
        if not secret or len(secret) > MAX_KEY_LENGTH or not secret.isprintable():
            rejected += 1
            continue
        digest = uow.vault.fingerprint(secret, case_sensitive=product.keys_case_sensitive)
        if digest in seen:
            duplicates += 1
            continue
        seen.add(digest)
        fresh[secret] = digest
    owners = _stored_owners(uow, list(fresh.values()))
    taken = {s: owners[h] for s, h in fresh.items() if owners.get(h, product.sku) != product.sku}
    duplicates += sum(1 for h in fresh.values() if owners.get(h) == product.sku)
    fresh = {s: h for s, h in fresh.items() if h not in owners}
    return fresh, duplicates, rejected, taken


def _stored_owners(uow: UnitOfWork, hashes: list[str]) -> dict[str, str]:
    """For the hashes already in the store: hash -> sku of the product holding the key."""
    owners: dict[str, str] = {}
    for i in range(0, len(hashes), 500):
        rows = uow.session.execute(
            select(CardKey.secret_hash, Product.sku)
            .join(Product, Product.id == CardKey.product_id)
            .where(CardKey.secret_hash.in_(hashes[i : i + 500]))
        )
        owners.update({digest: sku for digest, sku in rows})
    return owners


def _duplicates_conflict(taken: dict[str, str]) -> Conflict:
    """The keys (masked) that other products hold; the caller imported none of the batch."""
    shown = [f"{mask(secret)} ({sku})" for secret, sku in list(taken.items())[:SHOWN_DUPLICATES]]
    more = f" and {len(taken) - len(shown)} more" if len(taken) > len(shown) else ""
    return Conflict(
        f"{len(taken)} key(s) already belong to another product, nothing was imported: "
        f"{', '.join(shown)}{more}",
        code="duplicate_keys",
    )


def _keys_taken(uow: UnitOfWork, sku: str, keys: list[str]) -> Conflict:
    with uow:
        product = repo.product_by_sku(uow.session, sku)
        _, _, _, taken = _fresh_keys(uow, keys, product)
    if not taken:  # cannot happen while imports lock their product; refuse, never 500
        return Conflict("keys were imported concurrently; nothing was imported, try again")
    return _duplicates_conflict(taken)


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
