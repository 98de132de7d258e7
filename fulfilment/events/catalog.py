"""Events of the catalog and the card-key inventory."""

from __future__ import annotations

from dataclasses import dataclass

from fulfilment.events.base import AuditRecord, Event, product_entry


@dataclass(frozen=True)
class ProductCreated(Event):
    sku: str
    kind: str
    price_cents: int

    def audit(self) -> AuditRecord:
        return product_entry(
            "product.created", self.sku, after={"kind": self.kind, "price_cents": self.price_cents}
        )


@dataclass(frozen=True)
class SupplierCreated(Event):
    code: str

    def audit(self) -> AuditRecord:
        return AuditRecord("supplier.created", "supplier", self.code)


@dataclass(frozen=True)
class SupplierLinked(Event):
    sku: str
    supplier: str
    priority: int

    def audit(self) -> AuditRecord:
        return product_entry(
            "product.supplier_linked",
            self.sku,
            after={"supplier": self.supplier, "priority": self.priority},
        )


@dataclass(frozen=True)
class KeysImported(Event):
    """Keys were added to stock (orders waiting for them are woken by a subscriber)."""

    sku: str
    imported: int
    duplicates: int
    rejected: int
    stock: int
    batch: str | None

    def audit(self) -> AuditRecord:
        return product_entry(
            "keys.imported",
            self.sku,
            after={
                "imported": self.imported,
                "duplicates": self.duplicates,
                "rejected": self.rejected,
                "stock": self.stock,
                "batch": self.batch,
            },
        )


@dataclass(frozen=True)
class ProductPaused(Event):
    """Selling stopped because the stock fell under the safety stock."""

    sku: str
    stock: int
    safety_stock: int

    def audit(self) -> AuditRecord:
        return product_entry(
            "product.paused",
            self.sku,
            before={"status": "active"},
            after={"status": "paused"},
            reason=f"stock {self.stock} < safety stock {self.safety_stock}",
        )


@dataclass(frozen=True)
class ProductResumed(Event):
    """A product paused for low stock was restocked and sells again."""

    sku: str
    stock: int

    def audit(self) -> AuditRecord:
        return product_entry(
            "product.resumed",
            self.sku,
            before={"status": "paused"},
            after={"status": "active"},
            reason=f"restocked to {self.stock}",
        )


@dataclass(frozen=True)
class ProductStatusSet(Event):
    """Someone paused or resumed a product by hand."""

    sku: str
    status_before: str
    status: str
    reason: str

    def audit(self) -> AuditRecord:
        return product_entry(
            "product.status_set",
            self.sku,
            before={"status": self.status_before},
            after={"status": self.status},
            reason=self.reason,
        )
