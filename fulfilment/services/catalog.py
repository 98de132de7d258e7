"""Products and suppliers. The card-key inventory is in `inventory`; its import is importable
from here too, as it always was."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from fulfilment import repository as repo
from fulfilment.actors import Actor
from fulfilment.errors import Conflict, InvalidRequest
from fulfilment.events import (
    ProductCreated,
    ProductStatusSet,
    SupplierCreated,
    SupplierLinked,
)
from fulfilment.models import (
    Product,
    ProductKind,
    ProductStatus,
    ProductSupplier,
    Supplier,
)
from fulfilment.money import format_amount, to_cents
from fulfilment.redaction import redact_keys
from fulfilment.services.inventory import (  # the inventory's use cases, re-exported
    MAX_KEYS_PER_IMPORT,
    ImportResult,
    import_keys,
)
from fulfilment.uow import UnitOfWork


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
            keys_case_sensitive=keys_case_sensitive,
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
    keys_case_sensitive: bool  # keys differing only in case are different keys


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
        product.keys_case_sensitive,
    )


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
            sku=sku,
            status_before=before,
            status=product.status,
            reason=redact_keys(uow.session, uow.vault, reason),
        )
        uow.record(changed, actor=actor)
        uow.commit()


__all__ = [
    "MAX_KEYS_PER_IMPORT",
    "ImportResult",
    "ProductView",
    "SupplierLink",
    "SupplierView",
    "add_supplier",
    "create_product",
    "get_product",
    "import_keys",
    "link_supplier",
    "set_product_status",
]
