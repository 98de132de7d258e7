"""Response bodies of the shop and staff API, so `/openapi.json` documents every answer.

They mirror the services' outcome values field for field (`from_attributes`), keep the JSON the
API has always answered (money as decimal text, times as ISO 8601 with `+00:00`), and name the
enums so clients see every status and reason code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from fulfilment.alerts import AlertKind
from fulfilment.models import DeliveryStatus, OrderStatus, ProductKind, ProductStatus, RefundStatus
from fulfilment.outcomes import DeliveryState, PaymentState, RefundCode, ReissueCode, ReissueState

Money = Annotated[
    str, Field(pattern=r"^\d+\.\d{2}$", description="decimal amount", examples=["48.00"])
]
# datetime.isoformat(): "+00:00", as the API answered before it had response models.
Time = Annotated[datetime, PlainSerializer(lambda t: t.isoformat(), return_type=str)]


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ErrorOut(Out):
    """Every refused request: what went wrong, in a word and in a sentence."""

    error: str = Field(examples=["not_found"])
    detail: Any = Field(description="a sentence, or a list of field errors")


class SupplierOut(Out):
    code: str
    name: str


class ProductCreatedOut(Out):
    sku: str
    kind: ProductKind
    status: ProductStatus


class ProductOut(Out):
    sku: str
    name: str
    kind: ProductKind
    price: Money
    currency: str
    status: ProductStatus
    pause_reason: str | None = Field(description="low_stock or manual while paused")
    safety_stock: int
    stock: int = Field(description="keys available to sell")
    keys_case_sensitive: bool = Field(description="keys differing only in case are different")


class ImportOut(Out):
    imported: int
    duplicates: int
    rejected: int
    stock: int
    resumed: bool = Field(description="the product was paused for low stock and sells again")


class DeliveryOut(Out):
    unit_no: int
    status: DeliveryStatus
    key_hint: str | None = Field(description="the key, masked (e.g. ****7F3K)")
    supplier_ref: str | None
    created_at: Time


class RefundSummaryOut(Out):
    request_id: str
    amount: Money
    status: RefundStatus


class OrderOut(Out):
    order_no: str
    sku: str
    product_name: str
    kind: ProductKind
    quantity: int
    amount: Money
    currency: str
    status: OrderStatus
    paid: Money
    refunded: Money
    recharge_account: str | None
    fail_reason: str | None
    created_at: Time
    paid_at: Time | None
    delivered_at: Time | None
    deliveries: list[DeliveryOut]
    refunds: list[RefundSummaryOut]


class IntakeOut(Out):
    created: bool = Field(description="false: the same order was taken in before")
    order: OrderOut


class ReissueOut(Out):
    request_id: str
    status: ReissueState
    code: ReissueCode
    new_key_hint: str | None = Field(description="the fresh key, masked")


class RefundOut(Out):
    request_id: str
    status: RefundStatus
    code: RefundCode
    amount_cents: int


class PaymentConfirmOut(Out):
    order_no: str
    status: PaymentState
    order_status: OrderStatus


class DeliveryOutcomeOut(Out):
    order_no: str
    status: DeliveryState
    delivered_units: int
    quantity: int
    message: str


class AuditOut(Out):
    at: Time
    actor: str = Field(description="kind:id of who acted, e.g. agent:alice")
    actor_kind: str | None
    actor_name: str | None
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None


class AlertOut(Out):
    id: int
    kind: AlertKind
    message: str
    order_no: str | None
    sku: str | None
    created_at: Time
