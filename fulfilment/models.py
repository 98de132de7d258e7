"""Tables of the fulfilment core (SQLAlchemy 2, portable between SQLite and PostgreSQL).

Money is integer minor units (`*_cents`); card keys are stored encrypted plus a keyed hash.
The invariants that protect money and keys are also enforced by the database:
- `card_keys.order_id` is set once; `deliveries.card_key_id` is unique, so a key can back at most
  one delivery ever;
- one *active* delivery per (order, unit) through a partial unique index;
- `supplier_orders` is unique per (order, supplier), so an order is never sent to a supplier twice;
- refunds and reissues are unique on the caller's request id (idempotency);
- the audit log is append-only (a trigger refuses UPDATE and DELETE).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    """Timezone-aware now (UTC)."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Stores UTC; always returns aware datetimes (SQLite drops the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    pass


class ProductKind(StrEnum):
    CARD_KEY = "card_key"
    DIRECT_TOPUP = "direct_topup"


class ProductStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"


class OrderStatus(StrEnum):
    CREATED = "created"  # awaiting payment
    PAID = "paid"
    DELIVERING = "delivering"
    DELIVERED = "delivered"
    FAILED = "failed"  # could not be delivered: refundable
    REFUNDING = "refunding"  # a full refund is under way: nothing more is delivered
    REFUNDED = "refunded"
    CANCELLED = "cancelled"


class KeyStatus(StrEnum):
    AVAILABLE = "available"
    DELIVERED = "delivered"
    INVALID = "invalid"  # confirmed bad after delivery (claimed back from the supplier)
    REVOKED = "revoked"  # taken back on refund; never handed out again


class DeliveryStatus(StrEnum):
    ACTIVE = "active"
    REPLACED = "replaced"  # superseded by a reissue
    REVOKED = "revoked"  # taken back on refund


class SupplierOrderStatus(StrEnum):
    SUBMITTING = "submitting"  # persisted before the HTTP call: outcome unknown until queried
    PROCESSING = "processing"
    UNKNOWN = "unknown"  # timeout/5xx: query before doing anything else
    SUCCESS = "success"
    FAILED = "failed"


class RefundStatus(StrEnum):
    PENDING_APPROVAL = "pending_approval"
    PROCESSING = "processing"  # approved; provider call in flight or to be retried
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REJECTED = "rejected"


class ReissueStatus(StrEnum):
    CHECKING = "checking"  # asking the supplier about the key
    REISSUED = "reissued"
    REJECTED = "rejected"
    NEEDS_REVIEW = "needs_review"  # a person must decide


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    face_value_cents: Mapped[int] = mapped_column(BigInteger)
    price_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    safety_stock: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(10), default=ProductStatus.ACTIVE)
    pause_reason: Mapped[str | None] = mapped_column(String(200))
    # Whether keys differing only in case are different keys (duplicate detection, lookups).
    # Fixed at creation: the stored fingerprints depend on it. Rows older than the setting
    # are case-insensitive (migration f0003); new products default to exact.
    keys_case_sensitive: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=false()
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Supplier(Base):
    __tablename__ = "suppliers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    supports_key_check: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ProductSupplier(Base):
    """Which suppliers can fulfil a product, in priority order (lower first)."""

    __tablename__ = "product_suppliers"
    __table_args__ = (UniqueConstraint("product_id", "supplier_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"))
    priority: Mapped[int] = mapped_column(Integer, default=100)
    supplier_product_code: Mapped[str] = mapped_column(String(64))


class CardKey(Base):
    __tablename__ = "card_keys"
    __table_args__ = (Index("ix_card_keys_product_status", "product_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"))
    batch: Mapped[str | None] = mapped_column(String(64))
    secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(16))  # masked form, e.g. "****-7F3K"
    status: Mapped[str] = mapped_column(String(12), default=KeyStatus.AVAILABLE)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_no: Mapped[str] = mapped_column(String(64), unique=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(12), index=True)
    buyer_email: Mapped[str | None] = mapped_column(String(254), index=True)
    buyer_phone: Mapped[str | None] = mapped_column(String(32), index=True)
    buyer_telegram_id: Mapped[str | None] = mapped_column(String(32), index=True)
    recharge_account: Mapped[str | None] = mapped_column(String(128))
    paid_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    fail_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Wakes the delivery sweeper; NULL when no work is pending.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        Index(
            "uq_deliveries_active_unit",
            "order_id",
            "unit_no",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    unit_no: Mapped[int] = mapped_column(Integer)
    card_key_id: Mapped[int | None] = mapped_column(ForeignKey("card_keys.id"), unique=True)
    supplier_order_id: Mapped[int | None] = mapped_column(ForeignKey("supplier_orders.id"))
    status: Mapped[str] = mapped_column(String(10), default=DeliveryStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(500))


class SupplierOrder(Base):
    __tablename__ = "supplier_orders"
    __table_args__ = (UniqueConstraint("order_id", "supplier_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"))
    attempt_no: Mapped[int] = mapped_column(Integer)
    request_ref: Mapped[str] = mapped_column(String(80), unique=True)
    supplier_ref: Mapped[str | None] = mapped_column(String(80))
    account: Mapped[str] = mapped_column(String(128))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12), index=True)
    # True only once the supplier said it has no such order: the next step is to submit.
    needs_submit: Mapped[bool] = mapped_column(Boolean, default=False)
    transient_errors: Mapped[int] = mapped_column(Integer, default=0)
    last_message: Mapped[str | None] = mapped_column(String(500))
    next_check_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Payment(Base):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    provider: Mapped[str] = mapped_column(String(40))
    txn_id: Mapped[str] = mapped_column(String(80), unique=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    source: Mapped[str] = mapped_column(String(20))  # intake | callback | manual
    paid_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Refund(Base):
    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(String(80), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), index=True)
    reason: Mapped[str] = mapped_column(String(500))
    requested_by: Mapped[str] = mapped_column(String(120))  # an Actor's label
    decided_by: Mapped[str | None] = mapped_column(String(120))
    provider_refund_id: Mapped[str | None] = mapped_column(String(80))
    last_message: Mapped[str | None] = mapped_column(String(500))
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ReissueRequest(Base):
    __tablename__ = "reissue_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(String(80), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id"))
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(500))
    requested_by: Mapped[str] = mapped_column(String(120))  # an Actor's label
    check_result: Mapped[str | None] = mapped_column(String(20))
    decision: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # While CHECKING: when the sweeper may take the request up again (a crash, or a supplier
    # that could not answer). A live request decides long before.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)


class SupplierClaim(Base):
    """Money the shop claims back from a supplier for a key that was bad on arrival."""

    __tablename__ = "supplier_claims"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"))
    card_key_id: Mapped[int] = mapped_column(ForeignKey("card_keys.id"), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(12), default="open")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        # One open alert per dedupe key (e.g. "duplicate_payment:KM1:PAY-2"); alerts raised
        # from events are idempotent through it.
        Index(
            "uq_alerts_open_dedupe_key",
            "dedupe_key",
            unique=True,
            sqlite_where=text("resolved_at IS NULL"),
            postgresql_where=text("resolved_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    message: Mapped[str] = mapped_column(String(500))
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class OwnershipAttempt(Base):
    """A failed proof of order ownership; too many in a window lock the claimant out, and
    slow down proofs on the order number (see `services.ownership`)."""

    __tablename__ = "ownership_attempts"
    __table_args__ = (Index("ix_ownership_attempts_order_no_at", "order_no", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claimant: Mapped[str] = mapped_column(String(120), index=True)
    order_no: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    # Refused unchecked because the order number was being guessed: counts against the
    # claimant only, never as a guess on the order.
    throttled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))  # Actor.label, e.g. "agent:alice"
    # Kind and display name of the actor; NULL on entries written before actors had them.
    actor_kind: Mapped[str | None] = mapped_column(String(10))
    actor_name: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(60), index=True)
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(80), index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)


class OutboxEntry(Base):
    """A recorded event, written with the business change; the truth for its subscribers.

    `dispatched_at` stays NULL until every subscriber handled the event; `handled` lists the
    subscribers that did (their stable names), so a retry runs only the others.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index(
            "ix_outbox_pending",
            "next_attempt_at",
            "created_at",
            sqlite_where=text("dispatched_at IS NULL"),
            postgresql_where=text("dispatched_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(80), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    actor: Mapped[str] = mapped_column(String(120))
    actor_kind: Mapped[str] = mapped_column(String(10))
    actor_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    handled: Mapped[list[str]] = mapped_column(JSON, default=list)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))
