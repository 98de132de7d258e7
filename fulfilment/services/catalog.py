"""Products, suppliers and the card-key inventory."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from fulfilment import repository as repo
from fulfilment.actors import Actor
from fulfilment.errors import Conflict, InvalidRequest
from fulfilment.events import (
    KeysImported,
    ProductCreated,
    ProductPaused,
    ProductResumed,
    ProductStatusSet,
    SupplierCreated,
    SupplierLinked,
)
from fulfilment.keyvault import mask
from fulfilment.models import (
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
    actor: Actor,
) -> ProductView:
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
        )
        uow.session.add(product)
        try:
            uow.session.flush()
        except IntegrityError:  # created concurrently since the check above
            raise Conflict(f"product {sku!r} already exists") from None
        created = ProductCreated(sku=sku, kind=kind, price_cents=product.price_cents)
        uow.record(created, actor=actor)
        for link in suppliers:
            _link(uow, product, link, actor)
        uow.commit()
        return _product_view(product, stock=0)


@dataclass(frozen=True)
class SupplierView:
    code: str
    name: str
    supports_key_check: bool
    active: bool

    @classmethod
    def of(cls, supplier: Supplier) -> SupplierView:
        return cls(supplier.code, supplier.name, supplier.supports_key_check, supplier.active)


def add_supplier(
    *, uow: UnitOfWork, code: str, name: str, supports_key_check: bool = True, actor: Actor
) -> SupplierView:
    """Register a supplier (idempotent on its code)."""
    try:
        with uow:
            existing = uow.session.scalars(select(Supplier).where(Supplier.code == code)).first()
            if existing is not None:
                return SupplierView.of(existing)
            supplier = Supplier(code=code, name=name, supports_key_check=supports_key_check)
            uow.session.add(supplier)
            uow.record(SupplierCreated(code=code), actor=actor)
            uow.commit()
            return SupplierView.of(supplier)
    except IntegrityError:  # registered concurrently: answer with that one
        with uow:
            return SupplierView.of(repo.supplier_by_code(uow.session, code))


@dataclass(frozen=True)
class SupplierLink:
    """A supplier able to fulfil a product, at a priority (lower is tried first)."""

    supplier_code: str
    priority: int = 100
    supplier_product_code: str | None = None


def link_supplier(*, uow: UnitOfWork, sku: str, link: SupplierLink, actor: Actor) -> None:
    """Let a supplier fulfil a product (or change its priority)."""
    with uow:
        _link(uow, repo.product_by_sku(uow.session, sku), link, actor)
        uow.commit()


def _link(uow: UnitOfWork, product: Product, link: SupplierLink, actor: Actor) -> None:
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
    linked = SupplierLinked(sku=product.sku, supplier=link.supplier_code, priority=link.priority)
    uow.record(linked, actor=actor)


@dataclass(frozen=True)
class ProductView:
    sku: str
    name: str
    kind: ProductKind
    price: str  # decimal text, e.g. "48.00"
    currency: str
    status: ProductStatus
    pause_reason: str | None  # low_stock | manual
    safety_stock: int
    stock: int


def get_product(*, uow: UnitOfWork, sku: str) -> ProductView:
    """A product with its available stock (keys are never shown)."""
    with uow:
        product = repo.product_by_sku(uow.session, sku)
        return _product_view(product, repo.available_stock(uow.session, product.id))


def _product_view(product: Product, stock: int) -> ProductView:
    return ProductView(
        product.sku,
        product.name,
        ProductKind(product.kind),
        format_amount(product.price_cents),
        product.currency,
        ProductStatus(product.status),
        product.pause_reason,
        product.safety_stock,
        stock,
    )


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


def set_product_status(
    *, uow: UnitOfWork, sku: str, active: bool, actor: Actor, reason: str
) -> None:
    """Pause or resume a product by hand."""
    with uow:
        product = repo.product_by_sku(uow.session, sku, lock=True)
        before = product.status
        product.status = ProductStatus.ACTIVE if active else ProductStatus.PAUSED
        product.pause_reason = None if active else "manual"
        changed = ProductStatusSet(
            sku=sku, status_before=before, status=product.status, reason=reason
        )
        uow.record(changed, actor=actor)
        uow.commit()
