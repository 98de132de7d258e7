"""Products, suppliers and the card-key inventory.

Key imports: at most `MAX_KEYS_PER_IMPORT` keys per call (`TooLarge` beyond: callers with more,
like `kamidesk keys import`, send batches). A key already in stock of the same product is a
duplicate, counted and skipped, so importing a file twice is harmless; a key that belongs to
another product is a `Conflict` (code `duplicate_keys`) naming the keys masked, and nothing of
the batch is imported, also when the two imports run at the same time. Whether two keys that
differ only in case are the same is a product setting (`keys_case_sensitive`, default exact).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from fulfilment import repository as repo
from fulfilment.errors import Conflict, InvalidRequest, TooLarge
from fulfilment.keyvault import mask
from fulfilment.models import (
    Alert,
    CardKey,
    Order,
    OrderStatus,
    Product,
    ProductKind,
    ProductStatus,
    ProductSupplier,
    Supplier,
)
from fulfilment.money import format_amount, to_cents
from fulfilment.redaction import redact_keys
from fulfilment.uow import UnitOfWork

MAX_KEY_LENGTH = 512
MAX_BATCH_LENGTH = 64  # the card_keys.batch column
MAX_KEYS_PER_IMPORT = 10_000  # about 2 s of work: one import stays one short transaction
SHOWN_DUPLICATES = 20
LOW_STOCK = "low_stock"


@dataclass(frozen=True)
class ImportResult:
    imported: int
    duplicates: int
    rejected: int
    stock: int
    resumed: bool  # the product was paused for low stock and is active again


def create_product(
    *,
    uow: UnitOfWork,
    sku: str,
    name: str,
    kind: str,
    face_value: Decimal,
    price: Decimal,
    currency: str,
    safety_stock: int = 0,
    suppliers: Sequence[SupplierLink] = (),
    keys_case_sensitive: bool = True,
    actor: str,
) -> Product:
    """Create a product with its suppliers, all or nothing; the same sku twice is a conflict."""
    if kind not in set(ProductKind):
        raise InvalidRequest(f"kind must be one of {sorted(ProductKind)}")
    if price <= 0 or face_value <= 0:
        raise InvalidRequest("price and face value must be positive")
    if safety_stock < 0:
        raise InvalidRequest("safety_stock cannot be negative")
    with uow:
        if uow.session.scalar(select(Product.id).where(Product.sku == sku)) is not None:
            raise Conflict(f"product {sku!r} already exists")
        product = Product(
            sku=sku,
            name=name,
            kind=kind,
            face_value_cents=to_cents(face_value),
            price_cents=to_cents(price),
            currency=currency.upper(),
            safety_stock=safety_stock,
            status=ProductStatus.ACTIVE,
            keys_case_sensitive=keys_case_sensitive,
        )
        uow.session.add(product)
        try:
            uow.session.flush()
        except IntegrityError:  # created concurrently since the check above
            raise Conflict(f"product {sku!r} already exists") from None
        repo.audit(
            uow.session,
            actor=actor,
            action="product.created",
            entity="product",
            entity_id=sku,
            after={"kind": kind, "price_cents": product.price_cents},
        )
        for link in suppliers:
            _link(uow, product, link, actor)
        uow.commit()
        return product


def add_supplier(
    *, uow: UnitOfWork, code: str, name: str, supports_key_check: bool = True, actor: str
) -> Supplier:
    """Register a supplier (idempotent on its code)."""
    try:
        with uow:
            existing = uow.session.scalars(select(Supplier).where(Supplier.code == code)).first()
            if existing is not None:
                return existing
            supplier = Supplier(code=code, name=name, supports_key_check=supports_key_check)
            uow.session.add(supplier)
            repo.audit(
                uow.session,
                actor=actor,
                action="supplier.created",
                entity="supplier",
                entity_id=code,
            )
            uow.commit()
            return supplier
    except IntegrityError:  # registered concurrently: answer with that one
        with uow:
            return repo.supplier_by_code(uow.session, code)


@dataclass(frozen=True)
class SupplierLink:
    """A supplier able to fulfil a product, at a priority (lower is tried first)."""

    supplier_code: str
    priority: int = 100
    supplier_product_code: str | None = None


def link_supplier(*, uow: UnitOfWork, sku: str, link: SupplierLink, actor: str) -> None:
    """Let a supplier fulfil a product (or change its priority)."""
    with uow:
        _link(uow, repo.product_by_sku(uow.session, sku), link, actor)
        uow.commit()


def _link(uow: UnitOfWork, product: Product, link: SupplierLink, actor: str) -> None:
    supplier = repo.supplier_by_code(uow.session, link.supplier_code)
    row = uow.session.scalars(
        select(ProductSupplier).where(
            ProductSupplier.product_id == product.id,
            ProductSupplier.supplier_id == supplier.id,
        )
    ).first()
    if row is None:
        row = ProductSupplier(product_id=product.id, supplier_id=supplier.id)
        uow.session.add(row)
    row.priority = link.priority
    row.supplier_product_code = link.supplier_product_code or product.sku
    repo.audit(
        uow.session,
        actor=actor,
        action="product.supplier_linked",
        entity="product",
        entity_id=product.sku,
        after={"supplier": link.supplier_code, "priority": link.priority},
    )


@dataclass(frozen=True)
class ProductView:
    sku: str
    name: str
    kind: str
    price: str
    currency: str
    status: str
    pause_reason: str | None
    safety_stock: int
    stock: int
    keys_case_sensitive: bool


def get_product(*, uow: UnitOfWork, sku: str) -> ProductView:
    """A product with its available stock (keys are never shown)."""
    with uow:
        product = repo.product_by_sku(uow.session, sku)
        return ProductView(
            product.sku,
            product.name,
            product.kind,
            format_amount(product.price_cents),
            product.currency,
            product.status,
            product.pause_reason,
            product.safety_stock,
            repo.available_stock(uow.session, product.id),
            product.keys_case_sensitive,
        )


def import_keys(
    *,
    uow: UnitOfWork,
    sku: str,
    keys: Iterable[str],
    actor: str,
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
    actor: str,
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
        repo.audit(
            uow.session,
            actor=actor,
            action="keys.imported",
            entity="product",
            entity_id=sku,
            after={
                "imported": len(fresh),
                "duplicates": duplicates,
                "rejected": rejected,
                "stock": stock,
                "batch": batch,
            },
        )
        uow.commit()
    if fresh:
        # After the product lock is released: a delivery holds its order and then writes the
        # product, so waking orders under the product lock could deadlock on PostgreSQL.
        # If we die first, the sweeper's stock retry still finds the waiting orders.
        with uow:
            _wake_orders_waiting_for(uow, product.id)
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


def _resume_if_restocked(uow: UnitOfWork, product: Product, stock: int, actor: str) -> bool:
    if product.status != ProductStatus.PAUSED or product.pause_reason != LOW_STOCK:
        return False
    if stock < product.safety_stock:
        return False
    product.status, product.pause_reason = ProductStatus.ACTIVE, None
    uow.session.execute(
        update(Alert)
        .where(
            Alert.product_id == product.id,
            Alert.kind == LOW_STOCK,
            Alert.resolved_at.is_(None),
        )
        .values(resolved_at=uow.clock())
    )
    repo.audit(
        uow.session,
        actor=actor,
        action="product.resumed",
        entity="product",
        entity_id=product.sku,
        before={"status": "paused"},
        after={"status": "active"},
        reason=f"restocked to {stock}",
    )
    return True


def _wake_orders_waiting_for(uow: UnitOfWork, product_id: int) -> None:
    uow.session.execute(
        update(Order)
        .where(
            Order.product_id == product_id,
            Order.status == OrderStatus.DELIVERING,
        )
        .values(next_attempt_at=uow.clock())
    )


def pause_if_low(uow: UnitOfWork, product: Product, actor: str) -> None:
    """Pause a product whose stock fell under its safety threshold, with an alert (once)."""
    if product.status != ProductStatus.ACTIVE or product.safety_stock <= 0:
        return
    stock = repo.available_stock(uow.session, product.id)
    if stock >= product.safety_stock:
        return
    # Only now take the product's row lock and look again: concurrent deliveries that all saw
    # the stock fall would otherwise each pause the product and raise their own alert.
    uow.session.refresh(product, with_for_update=True)
    if product.status != ProductStatus.ACTIVE:
        return
    product.status, product.pause_reason = ProductStatus.PAUSED, LOW_STOCK
    uow.session.add(
        Alert(
            kind=LOW_STOCK,
            product_id=product.id,
            message=f"{product.sku}: {stock} keys left (safety {product.safety_stock})",
        )
    )
    repo.audit(
        uow.session,
        actor=actor,
        action="product.paused",
        entity="product",
        entity_id=product.sku,
        before={"status": "active"},
        after={"status": "paused"},
        reason=f"stock {stock} < safety stock {product.safety_stock}",
    )


def set_product_status(
    *, uow: UnitOfWork, sku: str, active: bool, actor: str, reason: str
) -> None:
    """Pause or resume a product by hand."""
    with uow:
        product = repo.product_by_sku(uow.session, sku, lock=True)
        before = product.status
        product.status = ProductStatus.ACTIVE if active else ProductStatus.PAUSED
        product.pause_reason = None if active else "manual"
        repo.audit(
            uow.session,
            actor=actor,
            action="product.status_set",
            entity="product",
            entity_id=sku,
            before={"status": before},
            after={"status": product.status},
            reason=redact_keys(uow.session, uow.vault, reason),
        )
        uow.commit()
